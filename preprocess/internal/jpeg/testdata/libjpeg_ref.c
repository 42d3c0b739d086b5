/*
 * libjpeg_ref.c generates the reference files in this directory: small JPEGs
 * encoded by libjpeg(-turbo) from a synthetic picture (NAME.jpeg), and the
 * samples libjpeg decodes from them with its default JDCT_ISLOW IDCT before
 * any upsampling or colour conversion (NAME.planes: each component's plane of
 * downsampled_width x downsampled_height bytes, in component order).
 *
 * The checked-in files were made with Debian's libjpeg62-turbo 2.1.5 (x86-64,
 * SIMD enabled):
 *
 *	cc -O2 -o /tmp/libjpeg_ref libjpeg_ref.c -ljpeg && /tmp/libjpeg_ref
 */
#include <stdio.h>
#include <stdlib.h>
#include <jpeglib.h>

#define W 45
#define H 37

static unsigned char pix[H][W][3];

/* picture fills pix with gradients, hard edges, saturated colours and noise. */
static void picture(void) {
  unsigned int seed = 1;
  for (int y = 0; y < H; y++)
    for (int x = 0; x < W; x++) {
      seed = seed * 1103515245u + 12345u;
      int noise = (int)((seed >> 16) % 41) - 20;
      int r = x * 255 / (W - 1), g = y * 255 / (H - 1), b = ((x / 5 + y / 5) % 2) ? 255 : 0;
      if (x > 30 && y < 12) r = g = b = 255;
      if (x < 8 && y > 25) r = g = b = 0;
      r += noise; g -= noise; b += noise / 2;
      pix[y][x][0] = r < 0 ? 0 : r > 255 ? 255 : r;
      pix[y][x][1] = g < 0 ? 0 : g > 255 ? 255 : g;
      pix[y][x][2] = b < 0 ? 0 : b > 255 ? 255 : b;
    }
}

/* encode writes NAME.jpeg. space is the JPEG colour space: JCS_YCbCr,
   JCS_GRAYSCALE, JCS_RGB (no colour transform, Adobe marker) or JCS_CMYK
   (Adobe marker; samples stored as given, C=R, M=G, Y=B, K=(R+G)/2). */
static void encode(const char *name, int quality, int h, int v, J_COLOR_SPACE space, int progressive, int restart) {
  char path[256];
  snprintf(path, sizeof path, "%s.jpeg", name);
  FILE *f = fopen(path, "wb");
  struct jpeg_compress_struct c;
  struct jpeg_error_mgr e;
  c.err = jpeg_std_error(&e);
  jpeg_create_compress(&c);
  jpeg_stdio_dest(&c, f);
  c.image_width = W;
  c.image_height = H;
  c.input_components = space == JCS_CMYK ? 4 : 3;
  c.in_color_space = space == JCS_CMYK ? JCS_CMYK : JCS_RGB;
  jpeg_set_defaults(&c);
  jpeg_set_quality(&c, quality, TRUE);
  jpeg_set_colorspace(&c, space);
  c.comp_info[0].h_samp_factor = h;
  c.comp_info[0].v_samp_factor = v;
  if (progressive)
    jpeg_simple_progression(&c);
  c.restart_interval = restart;
  jpeg_start_compress(&c, TRUE);
  while (c.next_scanline < H) {
    unsigned char cmyk[W][4];
    JSAMPROW row = pix[c.next_scanline][0];
    if (space == JCS_CMYK) {
      for (int x = 0; x < W; x++) {
        for (int k = 0; k < 3; k++)
          cmyk[x][k] = pix[c.next_scanline][x][k];
        cmyk[x][3] = (pix[c.next_scanline][x][0] + pix[c.next_scanline][x][1]) / 2;
      }
      row = cmyk[0];
    }
    jpeg_write_scanlines(&c, &row, 1);
  }
  jpeg_finish_compress(&c);
  jpeg_destroy_compress(&c);
  fclose(f);
}

static void decode(const char *name) {
  char path[256];
  snprintf(path, sizeof path, "%s.jpeg", name);
  FILE *f = fopen(path, "rb");
  struct jpeg_decompress_struct c;
  struct jpeg_error_mgr e;
  c.err = jpeg_std_error(&e);
  jpeg_create_decompress(&c);
  jpeg_stdio_src(&c, f);
  jpeg_read_header(&c, TRUE);
  c.raw_data_out = TRUE;
  c.dct_method = JDCT_ISLOW;
  jpeg_start_decompress(&c);
  int n = c.num_components;
  JSAMPLE *plane[MAX_COMPONENTS];
  int stride[MAX_COMPONENTS];
  for (int i = 0; i < n; i++) {
    jpeg_component_info *ci = &c.comp_info[i];
    stride[i] = ci->width_in_blocks * DCTSIZE;
    plane[i] = calloc((size_t)stride[i] * (ci->height_in_blocks + ci->v_samp_factor) * DCTSIZE, 1);
  }
  for (int imcu = 0; c.output_scanline < c.output_height; imcu++) {
    JSAMPROW rows[MAX_COMPONENTS][4 * DCTSIZE];
    JSAMPARRAY arrays[MAX_COMPONENTS];
    for (int i = 0; i < n; i++) {
      int vs = c.comp_info[i].v_samp_factor * DCTSIZE;
      for (int r = 0; r < vs; r++)
        rows[i][r] = plane[i] + (size_t)(imcu * vs + r) * stride[i];
      arrays[i] = rows[i];
    }
    jpeg_read_raw_data(&c, arrays, c.max_v_samp_factor * DCTSIZE);
  }
  snprintf(path, sizeof path, "%s.planes", name);
  FILE *out = fopen(path, "wb");
  for (int i = 0; i < n; i++) {
    jpeg_component_info *ci = &c.comp_info[i];
    for (JDIMENSION r = 0; r < ci->downsampled_height; r++)
      fwrite(plane[i] + (size_t)r * stride[i], 1, ci->downsampled_width, out);
    free(plane[i]);
  }
  fclose(out);
  jpeg_finish_decompress(&c);
  jpeg_destroy_decompress(&c);
  fclose(f);
}

int main(void) {
  static const struct {
    const char *name;
    int quality, h, v;
    J_COLOR_SPACE space;
    int progressive, restart;
  } cases[] = {
    {"libjpeg-420-q75", 75, 2, 2, JCS_YCbCr, 0, 0},
    {"libjpeg-420-q1", 1, 2, 2, JCS_YCbCr, 0, 0},
    {"libjpeg-422-q90", 90, 2, 1, JCS_YCbCr, 0, 0},
    {"libjpeg-440-q50", 50, 1, 2, JCS_YCbCr, 0, 0},
    {"libjpeg-444-q100", 100, 1, 1, JCS_YCbCr, 0, 0},
    {"libjpeg-gray-q60", 60, 1, 1, JCS_GRAYSCALE, 0, 0},
    {"libjpeg-420-q85-progressive", 85, 2, 2, JCS_YCbCr, 1, 0},
    {"libjpeg-gray-q30-progressive", 30, 1, 1, JCS_GRAYSCALE, 1, 0},
    {"libjpeg-420-q80-restart", 80, 2, 2, JCS_YCbCr, 0, 2},
    {"libjpeg-rgb-q80", 80, 1, 1, JCS_RGB, 0, 0},
    {"libjpeg-cmyk-q80", 80, 1, 1, JCS_CMYK, 0, 0},
  };
  picture();
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    encode(cases[i].name, cases[i].quality, cases[i].h, cases[i].v, cases[i].space, cases[i].progressive, cases[i].restart);
    decode(cases[i].name);
  }
  return 0;
}
