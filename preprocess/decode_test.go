package preprocess

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"image"
	"image/color"
	"image/color/palette"
	"image/gif"
	"io"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/spoofsense/spoofsense/preprocess/preprocesstest"
	"golang.org/x/image/bmp"
	"golang.org/x/image/tiff"
)

func TestDecodeFormats(t *testing.T) {
	src := noiseImage(37, 23, 7)
	var bmpBuf, tiffBuf, gifBuf bytes.Buffer
	if err := bmp.Encode(&bmpBuf, src); err != nil {
		t.Fatal(err)
	}
	if err := tiff.Encode(&tiffBuf, src, nil); err != nil {
		t.Fatal(err)
	}
	// GIF is paletted: encode a palette image so that the round trip is exact.
	pal := image.NewPaletted(image.Rect(0, 0, 37, 23), palette.Plan9)
	for y := range 23 {
		for x := range 37 {
			pal.SetColorIndex(x, y, uint8((x*7+y*13)%256))
		}
	}
	if err := gif.Encode(&gifBuf, pal, nil); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, format string
		data         []byte
		want         image.Image
		maxMeanDiff  float64
	}{
		{"png", FormatPNG, encodePNG(t, src), src, 0},
		{"bmp", FormatBMP, bmpBuf.Bytes(), src, 0},
		{"tiff", FormatTIFF, tiffBuf.Bytes(), src, 0},
		{"gif", FormatGIF, gifBuf.Bytes(), pal, 0},
		{"jpeg", FormatJPEG, encodeJPEG(t, flatImage(37, 23, 200, 100, 50), 95), flatImage(37, 23, 200, 100, 50), 1.5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			img, err := Decode(bytes.NewReader(tt.data), Limits{})
			if err != nil {
				t.Fatal(err)
			}
			if img.Format != tt.format || img.Orientation != 1 || img.Bytes != int64(len(tt.data)) {
				t.Errorf("format %q orientation %d bytes %d, want %q 1 %d", img.Format, img.Orientation, img.Bytes, tt.format, len(tt.data))
			}
			want := toRGB(tt.want)
			if d := pixelMeanAbsDiff(t, img, want); d > tt.maxMeanDiff {
				t.Errorf("mean abs diff %.3f from the encoded pixels, want ≤ %.1f", d, tt.maxMeanDiff)
			}
		})
	}
}

func TestDecodeWebP(t *testing.T) {
	// A minimal 1×1 lossless (VP8L) WebP file, written out as bytes; Go has no WebP encoder.
	data, err := base64.StdEncoding.DecodeString("UklGRhoAAABXRUJQVlA4TA0AAAAvAAAAEAcQERGIiP4HAA==")
	if err != nil {
		t.Fatal(err)
	}
	img, err := Decode(bytes.NewReader(data), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if img.Format != FormatWebP || img.Width != 1 || img.Height != 1 {
		t.Errorf("got %s %d×%d, want webp 1×1", img.Format, img.Width, img.Height)
	}
}

func TestDecodeOnePixel(t *testing.T) {
	img, err := Decode(bytes.NewReader(encodePNG(t, flatImage(1, 1, 9, 8, 7))), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if img.Width != 1 || img.Height != 1 || !bytes.Equal(img.Pix, []uint8{9, 8, 7}) {
		t.Errorf("got %d×%d %v, want 1×1 [9 8 7]", img.Width, img.Height, img.Pix)
	}
}

// pngHeader builds a PNG signature and IHDR chunk claiming w×h RGB pixels, then IEND; there is
// no pixel data at all, so only a header check can answer.
func pngHeader(w, h uint32) []byte {
	b := []byte("\x89PNG\r\n\x1a\n")
	ihdr := binary.BigEndian.AppendUint32([]byte("IHDR"), w)
	ihdr = binary.BigEndian.AppendUint32(ihdr, h)
	ihdr = append(ihdr, 8, 2, 0, 0, 0) // 8-bit RGB, deflate, no filter, no interlace
	b = binary.BigEndian.AppendUint32(b, 13)
	b = append(b, ihdr...)
	b = binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE(ihdr))
	b = append(b, 0, 0, 0, 0)
	b = append(b, "IEND"...)
	return binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE([]byte("IEND")))
}

// jpegHeader builds SOI, a JFIF APP0 and a baseline SOF0 claiming w×h with three components,
// and nothing else.
func jpegHeader(w, h uint16) []byte {
	b := []byte{0xFF, 0xD8, 0xFF, 0xE0, 0, 16, 'J', 'F', 'I', 'F', 0, 1, 1, 0, 0, 1, 0, 1, 0, 0}
	b = append(b, 0xFF, 0xC0, 0, 17, 8)
	b = binary.BigEndian.AppendUint16(b, h)
	b = binary.BigEndian.AppendUint16(b, w)
	b = append(b, 3, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1)
	return b
}

func TestDecodeLimits(t *testing.T) {
	tests := []struct {
		name    string
		data    []byte
		lim     Limits
		wantErr error
		w, h    int
	}{
		{"png 100000×100000", pngHeader(100000, 100000), Limits{}, ErrTooManyPixels, 100000, 100000},
		{"jpeg 65535×65535", jpegHeader(65535, 65535), Limits{}, ErrTooManyPixels, 65535, 65535},
		{"png over a small pixel limit", pngHeader(100, 100), Limits{MaxPixels: 9999}, ErrTooManyPixels, 100, 100},
		{"bytes over the limit", encodePNG(t, flatImage(20, 20, 1, 2, 3)), Limits{MaxBytes: 50}, ErrTooLarge, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Decode(bytes.NewReader(tt.data), tt.lim)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			var le *LimitError
			if !errors.As(err, &le) {
				t.Fatalf("err %T is not a *LimitError", err)
			}
			if le.Width != tt.w || le.Height != tt.h {
				t.Errorf("LimitError size %d×%d, want %d×%d", le.Width, le.Height, tt.w, tt.h)
			}
		})
	}
	// Exactly at the limits is fine.
	ok := encodePNG(t, flatImage(10, 10, 1, 2, 3))
	if _, err := Decode(bytes.NewReader(ok), Limits{MaxBytes: int64(len(ok)), MaxPixels: 100}); err != nil {
		t.Errorf("at the limits: %v", err)
	}
	if _, err := Decode(bytes.NewReader(ok), Limits{MaxBytes: -1, MaxPixels: -1}); err != nil {
		t.Errorf("without limits: %v", err)
	}
}

// countingReader is an endless stream of zero bytes that counts what was read.
type countingReader struct{ n int64 }

func (r *countingReader) Read(p []byte) (int, error) {
	clear(p)
	r.n += int64(len(p))
	return len(p), nil
}

func TestDecodeStopsReadingAtByteLimit(t *testing.T) {
	r := &countingReader{}
	_, err := Decode(r, Limits{MaxBytes: 1000})
	if !errors.Is(err, ErrTooLarge) {
		t.Fatalf("err = %v, want ErrTooLarge", err)
	}
	if r.n > 1001 {
		t.Errorf("read %d bytes of an endless stream, want at most 1001", r.n)
	}
}

func TestDecodeRefusesNonImages(t *testing.T) {
	heic := append([]byte{0, 0, 0, 24}, "ftypheic\x00\x00\x00\x00mif1heic"...)
	avif := append([]byte{0, 0, 0, 28}, "ftypavif\x00\x00\x00\x00avifmif1miaf"...)
	heif := append([]byte{0, 0, 0, 20}, "ftypmif1\x00\x00\x00\x00mif1"...)
	tests := []struct {
		name   string
		data   []byte
		format string // "" for errors that are not a *FormatError
		want   error
	}{
		{"zero bytes", nil, "", ErrEmpty},
		{"text", []byte("hello, this is not a picture\n"), "text", ErrUnsupportedFormat},
		{"heic", heic, "HEIC", ErrUnsupportedFormat},
		{"avif", avif, "AVIF", ErrUnsupportedFormat},
		{"heif", heif, "HEIF", ErrUnsupportedFormat},
		{"pdf", []byte("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"), "PDF", ErrUnsupportedFormat},
		{"binary", []byte{0x00, 0x01, 0x02, 0xFE, 0x80, 0x00}, "unknown format", ErrUnsupportedFormat},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Decode(bytes.NewReader(tt.data), Limits{})
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if tt.format == "" {
				return
			}
			var fe *FormatError
			if !errors.As(err, &fe) || fe.Format != tt.format {
				t.Fatalf("err = %v, want a *FormatError naming %q", err, tt.format)
			}
			if !strings.Contains(err.Error(), tt.format) {
				t.Errorf("message %q does not name %q", err, tt.format)
			}
		})
	}
}

func TestDecodeTruncatedJPEG(t *testing.T) {
	full := encodeJPEG(t, noiseImage(64, 48, 3), 90)
	_, err := Decode(bytes.NewReader(full[:len(full)/2]), Limits{})
	if err == nil {
		t.Fatal("truncated JPEG decoded without error")
	}
	var le *LimitError
	var fe *FormatError
	if errors.As(err, &le) || errors.As(err, &fe) || !strings.Contains(err.Error(), "decode jpeg") {
		t.Errorf("err = %v, want a jpeg decode error", err)
	}
}

func TestDecodeEXIFOrientationPNG(t *testing.T) {
	// Lossless, so every orientation must reproduce the upright pixels exactly.
	upright := newTestImage(5, 3, func(x, y int) (uint8, uint8, uint8) { return uint8(x), uint8(y), uint8(10*x + y) })
	for o := 1; o <= 8; o++ {
		for _, order := range []binary.ByteOrder{binary.LittleEndian, binary.BigEndian} {
			data := withPNGChunk(encodePNG(t, storedFor(upright, o)), "eXIf", preprocesstest.EXIF(uint16(o), order))
			img, err := Decode(bytes.NewReader(data), Limits{})
			if err != nil {
				t.Fatalf("orientation %d: %v", o, err)
			}
			if img.Orientation != o {
				t.Errorf("orientation %d %v: applied %d", o, order, img.Orientation)
			}
			if img.Width != 5 || img.Height != 3 || !bytes.Equal(img.Pix, upright.Pix) {
				t.Errorf("orientation %d %v: decoded %d×%d pixels differ from the upright image", o, order, img.Width, img.Height)
			}
		}
	}
}

func TestDecodeEXIFOrientationJPEG(t *testing.T) {
	upright := decodeDev(t, "image_T1.jpg") // itself stored with orientation 6
	// Halve it to keep the test fast under -race; 240×320 is a multiple of the 16-px MCU.
	upright, err := Resize(upright, upright.Bounds(), 240, 320)
	if err != nil {
		t.Fatal(err)
	}
	for o := 1; o <= 8; o++ {
		order := binary.ByteOrder(binary.LittleEndian)
		if o%2 == 0 {
			order = binary.BigEndian
		}
		jpg := encodeJPEG(t, storedFor(upright, o), 95)
		data := preprocesstest.WithJPEGApp1(jpg, append([]byte("Exif\x00\x00"), preprocesstest.EXIF(uint16(o), order)...))
		img, err := Decode(bytes.NewReader(data), Limits{})
		if err != nil {
			t.Fatalf("orientation %d: %v", o, err)
		}
		if img.Orientation != o {
			t.Errorf("orientation %d: applied %d", o, img.Orientation)
		}
		if d := pixelMeanAbsDiff(t, img, upright); d > 2 {
			t.Errorf("orientation %d: mean abs diff %.2f from the upright image, want ≤ 2 (JPEG noise)", o, d)
		}
	}
}

func TestDecodeBrokenEXIF(t *testing.T) {
	jpg := encodeJPEG(t, flatImage(16, 8, 10, 20, 30), 90)
	tests := []struct {
		name    string
		payload []byte
	}{
		{"garbage", append([]byte("Exif\x00\x00"), "II*\x00\xff\xff\xff\x7fgarbage"...)},
		{"empty", []byte("Exif\x00\x00")},
		{"orientation 9", append([]byte("Exif\x00\x00"), preprocesstest.EXIF(9, binary.LittleEndian)...)},
		{"orientation 0", append([]byte("Exif\x00\x00"), preprocesstest.EXIF(0, binary.BigEndian)...)},
		{"cut IFD", append([]byte("Exif\x00\x00"), preprocesstest.EXIF(6, binary.LittleEndian)[:12]...)},
		{"not exif", []byte("http://ns.adobe.com/xap/1.0/\x00<x/>")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			img, err := Decode(bytes.NewReader(preprocesstest.WithJPEGApp1(jpg, tt.payload)), Limits{})
			if err != nil {
				t.Fatal(err)
			}
			if img.Orientation != 1 || img.Width != 16 || img.Height != 8 {
				t.Errorf("orientation %d size %d×%d, want 1 and 16×8", img.Orientation, img.Width, img.Height)
			}
		})
	}
}

func TestToRGBConversions(t *testing.T) {
	r := image.Rect(0, 0, 2, 1)
	gray := image.NewGray(r)
	gray.Pix = []uint8{0, 200}
	gray16 := image.NewGray16(r)
	gray16.SetGray16(0, 0, color.Gray16{Y: 0x1234})
	gray16.SetGray16(1, 0, color.Gray16{Y: 0xFFFF})
	nrgba := image.NewNRGBA(r)
	nrgba.SetNRGBA(0, 0, color.NRGBA{100, 0, 200, 0})   // fully transparent → white
	nrgba.SetNRGBA(1, 0, color.NRGBA{100, 0, 200, 128}) // half → halfway to white
	nrgba64 := image.NewNRGBA64(r)
	nrgba64.SetNRGBA64(0, 0, color.NRGBA64{0xABCD, 0, 0xFFFF, 0xFFFF})
	nrgba64.SetNRGBA64(1, 0, color.NRGBA64{0, 0, 0, 0})
	rgba := image.NewRGBA(r)
	rgba.SetRGBA(0, 0, color.RGBA{50, 0, 100, 128}) // premultiplied
	rgba.SetRGBA(1, 0, color.RGBA{1, 2, 3, 255})
	pal := image.NewPaletted(r, color.Palette{color.RGBA{10, 20, 30, 255}, color.NRGBA{0, 0, 0, 0}})
	pal.Pix = []uint8{0, 1}
	cmyk := image.NewCMYK(r)
	cmyk.SetCMYK(0, 0, color.CMYK{0, 0, 0, 0})
	cmyk.SetCMYK(1, 0, color.CMYK{255, 0, 255, 0})
	tests := []struct {
		name string
		src  image.Image
		want []uint8
	}{
		{"gray", gray, []uint8{0, 0, 0, 200, 200, 200}},
		{"gray16", gray16, []uint8{0x12, 0x12, 0x12, 255, 255, 255}},
		{"nrgba", nrgba, []uint8{255, 255, 255, 177, 127, 227}},
		{"nrgba64", nrgba64, []uint8{0xAB, 0, 255, 255, 255, 255}},
		{"rgba", rgba, []uint8{177, 127, 227, 1, 2, 3}},
		{"paletted", pal, []uint8{10, 20, 30, 255, 255, 255}},
		{"cmyk", cmyk, []uint8{255, 255, 255, 0, 255, 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := toRGB(tt.src)
			if !bytes.Equal(got.Pix, tt.want) {
				t.Errorf("got %v, want %v", got.Pix, tt.want)
			}
		})
	}
}

func TestYCbCrConversionMatchesColorPackage(t *testing.T) {
	// Flat chroma makes fancy upsampling exact, so only the colour tables differ; libjpeg's and
	// Go's fixed-point conversions agree within 1.
	for _, ratio := range []image.YCbCrSubsampleRatio{image.YCbCrSubsampleRatio444, image.YCbCrSubsampleRatio422,
		image.YCbCrSubsampleRatio420, image.YCbCrSubsampleRatio440} {
		m := image.NewYCbCr(image.Rect(0, 0, 7, 5), ratio)
		for i := range m.Y {
			m.Y[i] = uint8(i * 37)
		}
		for i := range m.Cb {
			m.Cb[i], m.Cr[i] = 90, 170
		}
		got := toRGB(m)
		for y := range 5 {
			for x := range 7 {
				c := m.YCbCrAt(x, y)
				r, g, b := color.YCbCrToRGB(c.Y, c.Cb, c.Cr)
				gr, gg, gb := got.rgb(x, y)
				if absDiff(r, gr) > 1 || absDiff(g, gg) > 1 || absDiff(b, gb) > 1 {
					t.Fatalf("%v (%d,%d): got %d,%d,%d want %d,%d,%d ±1", ratio, x, y, gr, gg, gb, r, g, b)
				}
			}
		}
	}
}

func TestUpsampleFancy(t *testing.T) {
	// libjpeg's h2v1: out[2i] = (3c+left+1)>>2, out[2i+1] = (3c+right+2)>>2, edges repeat.
	out := make([]uint8, 5)
	upsampleH2V1(out, []uint8{0, 100, 40})
	if want := []uint8{0, 25, 75, 85, 55}; !bytes.Equal(out, want) {
		t.Errorf("h2v1 = %v, want %v", out, want)
	}
	// h2v2 on column sums (3·near + far): out[2i] = (3s+left+8)>>4, out[2i+1] = (3s+right+7)>>4.
	out = make([]uint8, 4)
	upsampleH2V2(out, []int32{0, 800}) // chroma 0 then 200 in both rows
	if want := []uint8{0, 50, 150, 200}; !bytes.Equal(out, want) {
		t.Errorf("h2v2 = %v, want %v", out, want)
	}
}

// TestFancyRowsMatchReference checks the fused upsampling and colour conversion against a
// reference that upsamples each chroma row into a buffer first (upsampleH2V1, upsampleH2V2:
// libjpeg's formulas written out one at a time) and then converts with the tables, on random
// planes of odd and even sizes.
//
// Run it with and without GOEXPERIMENT=simd: the vector rows are checked against the same reference.
func TestFancyRowsMatchReference(t *testing.T) {
	rnd := rand.New(rand.NewPCG(7, 7))
	tab := newYCCTables()
	for _, ratio := range []image.YCbCrSubsampleRatio{image.YCbCrSubsampleRatio444,
		image.YCbCrSubsampleRatio422, image.YCbCrSubsampleRatio420} {
		for range 200 {
			// Widths past 34 take the vector code for 4:2:0 where there is one.
			w, h := 1+rnd.IntN(90), 1+rnd.IntN(9)
			m := image.NewYCbCr(image.Rect(0, 0, w, h), ratio)
			for _, p := range [][]uint8{m.Y, m.Cb, m.Cr} {
				for i := range p {
					p[i] = uint8(rnd.IntN(256))
				}
			}
			got := toRGB(m)
			want := make([]uint8, 3*w*h)
			cb, cr := make([]uint8, w), make([]uint8, w)
			cw, ch := (w+1)/2, (h+1)/2
			colCb, colCr := make([]int32, cw), make([]int32, cw)
			for y := range h {
				switch ratio {
				case image.YCbCrSubsampleRatio444:
					copy(cb, m.Cb[y*m.CStride:])
					copy(cr, m.Cr[y*m.CStride:])
				case image.YCbCrSubsampleRatio422:
					upsampleH2V1(cb, m.Cb[y*m.CStride:y*m.CStride+cw])
					upsampleH2V1(cr, m.Cr[y*m.CStride:y*m.CStride+cw])
				case image.YCbCrSubsampleRatio420:
					ny := y/2 - 1
					if y&1 == 1 {
						ny = y/2 + 1
					}
					near, far := y/2*m.CStride, max(0, min(ny, ch-1))*m.CStride
					for i := range cw {
						colCb[i] = 3*int32(m.Cb[near+i]) + int32(m.Cb[far+i])
						colCr[i] = 3*int32(m.Cr[near+i]) + int32(m.Cr[far+i])
					}
					upsampleH2V2(cb, colCb)
					upsampleH2V2(cr, colCr)
				}
				for x := range w {
					Y := int32(m.Y[y*m.YStride+x])
					o := want[3*(y*w+x):]
					o[0] = clamp8(Y + tab.crR[cr[x]])
					o[1] = clamp8(Y + (tab.cbG[cb[x]]+tab.crG[cr[x]])>>16)
					o[2] = clamp8(Y + tab.cbB[cb[x]])
				}
			}
			if !bytes.Equal(got.Pix, want) {
				t.Fatalf("%v %d×%d: fused rows differ from the reference", ratio, w, h)
			}
		}
	}
}

// upsampleH2V1 doubles a chroma row as libjpeg's h2v1_fancy_upsample: ¾ nearer + ¼ further
// sample, with alternating rounding; out may be one shorter than 2·len(in) for odd widths.
func upsampleH2V1(out, in []uint8) {
	n := len(in)
	for i := range n {
		c := 3 * int32(in[i])
		l := int32(in[max(i-1, 0)])
		r := int32(in[min(i+1, n-1)])
		if 2*i < len(out) {
			out[2*i] = uint8((c + l + 1) >> 2)
		}
		if 2*i+1 < len(out) {
			out[2*i+1] = uint8((c + r + 2) >> 2)
		}
	}
}

// upsampleH2V2 is the horizontal half of libjpeg's h2v2_fancy_upsample on vertical sums
// (3·nearer row + further row).
func upsampleH2V2(out []uint8, col []int32) {
	n := len(col)
	for i := range n {
		c := 3 * col[i]
		l := col[max(i-1, 0)]
		r := col[min(i+1, n-1)]
		if 2*i < len(out) {
			out[2*i] = uint8((c + l + 8) >> 4)
		}
		if 2*i+1 < len(out) {
			out[2*i+1] = uint8((c + r + 7) >> 4)
		}
	}
}

func absDiff(a, b uint8) int {
	d := int(a) - int(b)
	return max(d, -d)
}

func TestDecodeReadError(t *testing.T) {
	_, err := Decode(io.MultiReader(strings.NewReader("\x89PNG"), errReader{}), Limits{})
	if err == nil || !strings.Contains(err.Error(), "boom") {
		t.Errorf("err = %v, want the read error", err)
	}
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errors.New("boom") }

func TestDecodeConcurrent(t *testing.T) {
	// Decoders share go-exif's read-only tag tables; run several at once (meaningful under -race).
	jpg := encodeJPEG(t, storedFor(noiseImage(32, 16, 2), 6), 90)
	data := preprocesstest.WithJPEGApp1(jpg, append([]byte("Exif\x00\x00"), preprocesstest.EXIF(6, binary.BigEndian)...))
	errs := make(chan error, 4)
	for range 4 {
		go func() {
			img, err := Decode(bytes.NewReader(data), Limits{})
			if err == nil && (img.Orientation != 6 || img.Width != 32 || img.Height != 16) {
				err = fmt.Errorf("orientation %d size %d×%d, want 6 and 32×16", img.Orientation, img.Width, img.Height)
			}
			errs <- err
		}()
	}
	for range 4 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}
