package preprocess

import (
	"image"
	"image/color"
)

// toRGB converts any decoded image to 8-bit RGB. Alpha is composited on white; 16-bit samples
// keep their high byte. JPEG-style YCbCr images are converted as libjpeg does by default (the
// decoder behind OpenCV's imread): "fancy" triangular chroma upsampling for 4:2:0 and 4:2:2, and
// libjpeg's fixed-point YCbCr→RGB tables.
func toRGB(src image.Image) *Image {
	b := src.Bounds()
	dst := NewImage(b.Dx(), b.Dy())
	switch s := src.(type) {
	case *image.YCbCr:
		ycbcrToRGB(dst, s)
	case *image.Gray:
		for y := range dst.Height {
			row := s.Pix[s.PixOffset(b.Min.X, b.Min.Y+y):]
			out := dst.Pix[3*y*dst.Width:]
			for x := range dst.Width {
				v := row[x]
				out[3*x], out[3*x+1], out[3*x+2] = v, v, v
			}
		}
	case *image.RGBA:
		for y := range dst.Height {
			row := s.Pix[s.PixOffset(b.Min.X, b.Min.Y+y):]
			out := dst.Pix[3*y*dst.Width:]
			for x := range dst.Width {
				// Premultiplied: c + (1−α)·white.
				bg := 255 - row[4*x+3]
				out[3*x], out[3*x+1], out[3*x+2] = row[4*x]+bg, row[4*x+1]+bg, row[4*x+2]+bg
			}
		}
	case *image.NRGBA:
		for y := range dst.Height {
			row := s.Pix[s.PixOffset(b.Min.X, b.Min.Y+y):]
			out := dst.Pix[3*y*dst.Width:]
			for x := range dst.Width {
				a := row[4*x+3]
				out[3*x], out[3*x+1], out[3*x+2] = overWhite(row[4*x], a), overWhite(row[4*x+1], a), overWhite(row[4*x+2], a)
			}
		}
	case *image.Paletted:
		var lut [256][3]uint8
		for i, c := range s.Palette {
			lut[i] = rgbOverWhite(c)
		}
		for y := range dst.Height {
			row := s.Pix[s.PixOffset(b.Min.X, b.Min.Y+y):]
			out := dst.Pix[3*y*dst.Width:]
			for x := range dst.Width {
				c := lut[row[x]]
				out[3*x], out[3*x+1], out[3*x+2] = c[0], c[1], c[2]
			}
		}
	default:
		for y := range dst.Height {
			out := dst.Pix[3*y*dst.Width:]
			for x := range dst.Width {
				c := rgbOverWhite(src.At(b.Min.X+x, b.Min.Y+y))
				out[3*x], out[3*x+1], out[3*x+2] = c[0], c[1], c[2]
			}
		}
	}
	return dst
}

// overWhite composites a non-premultiplied 8-bit sample with alpha a on white, rounding.
func overWhite(c, a uint8) uint8 {
	return uint8((uint32(c)*uint32(a) + 255*(255-uint32(a)) + 127) / 255)
}

// rgbOverWhite converts any colour to 8-bit RGB composited on white, keeping the high byte of
// 16-bit samples.
func rgbOverWhite(c color.Color) [3]uint8 {
	r, g, b, a := c.RGBA() // premultiplied, 16-bit
	bg := 0xFFFF - a
	return [3]uint8{uint8((r + bg) >> 8), uint8((g + bg) >> 8), uint8((b + bg) >> 8)}
}

// libjpeg's YCbCr→RGB tables (jdcolor.c, SCALEBITS 16), indexed by the 8-bit chroma sample.
type yccTables struct {
	crR, cbB [256]int32
	crG, cbG [256]int32
	// limit[v&1023] is v clamped to 0..255 for v in −512..511 (libjpeg's range_limit idea):
	// 0..255 map to themselves, 256..511 to 255, and negatives (512..1023 after masking) to 0.
	limit [1024]uint8
}

func newYCCTables() *yccTables {
	const (
		scaleBits = 16
		oneHalf   = 1 << (scaleBits - 1)
	)
	fix := func(x float64) int32 { return int32(x*(1<<scaleBits) + 0.5) }
	t := new(yccTables)
	for i := range 256 {
		x := int32(i - 128)
		t.crR[i] = (fix(1.40200)*x + oneHalf) >> scaleBits
		t.cbB[i] = (fix(1.77200)*x + oneHalf) >> scaleBits
		t.crG[i] = -fix(0.71414) * x
		t.cbG[i] = -fix(0.34414)*x + oneHalf
	}
	for i := range t.limit {
		switch {
		case i < 256:
			t.limit[i] = uint8(i)
		case i < 512:
			t.limit[i] = 255
		}
	}
	return t
}

func clamp8(v int32) uint8 {
	if uint32(v) <= 255 {
		return uint8(v)
	}
	if v < 0 {
		return 0
	}
	return 255
}

// ycbcrToRGB converts a YCbCr image as libjpeg's default decompression does.
func ycbcrToRGB(dst *Image, s *image.YCbCr) {
	b := s.Rect
	fancy := b.Min == (image.Point{}) &&
		(s.SubsampleRatio == image.YCbCrSubsampleRatio420 || s.SubsampleRatio == image.YCbCrSubsampleRatio422 ||
			s.SubsampleRatio == image.YCbCrSubsampleRatio444)
	if !fancy {
		for y := range dst.Height {
			out := dst.Pix[3*y*dst.Width:]
			for x := range dst.Width {
				c := s.YCbCrAt(b.Min.X+x, b.Min.Y+y)
				r, g, bb := color.YCbCrToRGB(c.Y, c.Cb, c.Cr)
				out[3*x], out[3*x+1], out[3*x+2] = r, g, bb
			}
		}
		return
	}
	t := newYCCTables()
	w, h := dst.Width, dst.Height
	cb := make([]uint8, w) // upsampled chroma of one row
	cr := make([]uint8, w)
	var colCb, colCr []int32 // vertical sums, one per chroma column (4:2:0)
	cw := (w + 1) / 2
	ch := (h + 1) / 2
	if s.SubsampleRatio == image.YCbCrSubsampleRatio420 {
		colCb, colCr = make([]int32, cw), make([]int32, cw)
	}
	for y := range h {
		switch s.SubsampleRatio {
		case image.YCbCrSubsampleRatio444:
			copy(cb, s.Cb[y*s.CStride:y*s.CStride+w])
			copy(cr, s.Cr[y*s.CStride:y*s.CStride+w])
		case image.YCbCrSubsampleRatio422:
			row := y * s.CStride
			upsampleH2V1(cb, s.Cb[row:row+cw])
			upsampleH2V1(cr, s.Cr[row:row+cw])
		case image.YCbCrSubsampleRatio420:
			// Nearer chroma row weighs 3, the other (above for even rows, below for odd) 1;
			// rows beyond the image repeat the edge row.
			cy := y / 2
			ny := cy - 1
			if y&1 == 1 {
				ny = cy + 1
			}
			ny = max(0, min(ny, ch-1))
			near, far := cy*s.CStride, ny*s.CStride
			for i := range cw {
				colCb[i] = 3*int32(s.Cb[near+i]) + int32(s.Cb[far+i])
				colCr[i] = 3*int32(s.Cr[near+i]) + int32(s.Cr[far+i])
			}
			upsampleH2V2(cb, colCb)
			upsampleH2V2(cr, colCr)
		}
		yRow := s.Y[y*s.YStride : y*s.YStride+w]
		out := dst.Pix[3*y*w : 3*(y+1)*w]
		cb, cr := cb[:len(yRow)], cr[:len(yRow)]
		limit := &t.limit
		for x, yy := range yRow {
			Y := int32(yy)
			cbi, cri := cb[x], cr[x]
			o := out[3*x : 3*x+3 : 3*x+3]
			// Sums stay within −180..434, so masking clamps through the table.
			o[0] = limit[(Y+t.crR[cri])&1023]
			o[1] = limit[(Y+(t.cbG[cbi]+t.crG[cri])>>16)&1023]
			o[2] = limit[(Y+t.cbB[cbi])&1023]
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
