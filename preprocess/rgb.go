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

// ycbcrToRGB converts a YCbCr image as libjpeg's default decompression does. For 4:4:4, 4:2:2
// and 4:2:0 the chroma upsampling (libjpeg's fancy upsampling) and the colour conversion are one
// pass per output row that writes the RGB triples directly.
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
	t := &yccTab
	w, h := dst.Width, dst.Height
	cw, ch := (w+1)/2, (h+1)/2
	for y := range h {
		yRow := s.Y[y*s.YStride : y*s.YStride+w]
		out := dst.Pix[3*y*w : 3*(y+1)*w]
		switch s.SubsampleRatio {
		case image.YCbCrSubsampleRatio444:
			row := y * s.CStride
			t.row444(out, yRow, s.Cb[row:row+w], s.Cr[row:row+w])
		case image.YCbCrSubsampleRatio422:
			row := y * s.CStride
			t.row422(out, yRow, s.Cb[row:row+cw], s.Cr[row:row+cw])
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
			t.row420(out, yRow, s.Cb[near:near+cw], s.Cb[far:far+cw], s.Cr[near:near+cw], s.Cr[far:far+cw])
		}
	}
}

// yccTab is libjpeg's colour conversion tables, built once; read-only after init.
var yccTab = *newYCCTables()

// put writes the RGB triple of luma y and chroma cb, cr to o[0:3], as jdcolor.c's ycc_rgb_convert.
func (t *yccTables) put(o []uint8, y int32, cb, cr uint8) {
	// Sums stay within −180..434, so masking clamps through the table.
	o[0] = t.limit[(y+t.crR[cr])&1023]
	o[1] = t.limit[(y+(t.cbG[cb]+t.crG[cr])>>16)&1023]
	o[2] = t.limit[(y+t.cbB[cb])&1023]
}

// row444 converts one row of full-resolution planes.
func (t *yccTables) row444(out, yRow, cb, cr []uint8) {
	cb, cr = cb[:len(yRow)], cr[:len(yRow)]
	for x, yy := range yRow {
		t.put(out[3*x:3*x+3:3*x+3], int32(yy), cb[x], cr[x])
	}
}

// row422 converts one row whose chroma has half the width, upsampled as libjpeg's
// h2v1_fancy_upsample: ¾ nearer + ¼ further sample, alternating rounding, edges repeated.
func (t *yccTables) row422(out, yRow, cb, cr []uint8) {
	n := len(cb)
	cr = cr[:n]
	w := len(yRow)
	out = out[:3*w]
	cbP, crP := int32(cb[0]), int32(cr[0])
	cbC, crC := cbP, crP
	for i := range n {
		cbN, crN := cbC, crC
		if i+1 < n {
			cbN, crN = int32(cb[i+1]), int32(cr[i+1])
		}
		x := 2 * i
		t.put(out[3*x:3*x+3:3*x+3], int32(yRow[x]), uint8((3*cbC+cbP+1)>>2), uint8((3*crC+crP+1)>>2))
		if x+1 < w {
			t.put(out[3*x+3:3*x+6:3*x+6], int32(yRow[x+1]), uint8((3*cbC+cbN+2)>>2), uint8((3*crC+crN+2)>>2))
		}
		cbP, cbC, crP, crC = cbC, cbN, crC, crN
	}
}

// row420 converts one row whose chroma has half the width and height, upsampled as libjpeg's
// h2v2_fancy_upsample: each chroma column's vertical sum 3·nearer row + further row, then the
// h2v1 weights on those sums with rounding 8 and 7. The vector code (where there is one) does
// the middle columns; the scalar code the rest.
func (t *yccTables) row420(out, yRow, cbNear, cbFar, crNear, crFar []uint8) {
	n := len(cbNear)
	cbFar, crNear, crFar = cbFar[:n], crNear[:n], crFar[:n]
	out = out[:3*len(yRow)]
	done := row420SIMD(out, yRow, cbNear, cbFar, crNear, crFar)
	if done == 0 {
		t.cols420(out, yRow, cbNear, cbFar, crNear, crFar, 0, n)
		return
	}
	t.cols420(out, yRow, cbNear, cbFar, crNear, crFar, 0, 1)
	t.cols420(out, yRow, cbNear, cbFar, crNear, crFar, 1+done, n)
}

// cols420 is row420 on chroma columns [from, to) only: output pixels 2·from up to 2·to.
func (t *yccTables) cols420(out, yRow, cbNear, cbFar, crNear, crFar []uint8, from, to int) {
	n := len(cbNear)
	if from >= to {
		return
	}
	w := len(yRow)
	sum := func(p, q []uint8, i int) int32 {
		i = max(0, min(i, n-1))
		return 3*int32(p[i]) + int32(q[i])
	}
	cbP, crP := sum(cbNear, cbFar, from-1), sum(crNear, crFar, from-1)
	cbC, crC := sum(cbNear, cbFar, from), sum(crNear, crFar, from)
	for i := from; i < to; i++ {
		cbN, crN := cbC, crC
		if i+1 < n {
			cbN = 3*int32(cbNear[i+1]) + int32(cbFar[i+1])
			crN = 3*int32(crNear[i+1]) + int32(crFar[i+1])
		}
		x := 2 * i
		t.put(out[3*x:3*x+3:3*x+3], int32(yRow[x]), uint8((3*cbC+cbP+8)>>4), uint8((3*crC+crP+8)>>4))
		if x+1 < w {
			t.put(out[3*x+3:3*x+6:3*x+6], int32(yRow[x+1]), uint8((3*cbC+cbN+7)>>4), uint8((3*crC+crN+7)>>4))
		}
		cbP, cbC, crP, crC = cbC, cbN, crC, crN
	}
}
