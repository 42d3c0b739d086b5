package preprocess

import (
	"fmt"
	"image"
	"math"
)

// OpenCV's fixed-point INTER_LINEAR on 8-bit images (imgproc/src/resize.cpp): 11-bit weights.
const (
	resizeCoefBits  = 11
	resizeCoefScale = 1 << resizeCoefBits
)

// maxScratchWidth is the widest output the tensor functions resize with stack-allocated tables.
const maxScratchWidth = 320

// resizeScratch holds the tables and row buffers of one resize of an output at most
// maxScratchWidth pixels wide; as a local variable it lives on the stack.
type resizeScratch struct {
	taps       [maxScratchWidth]hTap
	row0, row1 [3 * maxScratchWidth]int32
	out        [3 * maxScratchWidth]uint8
}

// resizeBuffers are the slices resizeLinear works in (from a resizeScratch or allocated).
type resizeBuffers struct {
	taps []hTap     // one per output column
	rows [2][]int32 // horizontally resized source rows, scaled by resizeCoefScale
	out  []uint8    // one output row, planar as the rows
}

func (s *resizeScratch) buffers(dw int) resizeBuffers {
	return resizeBuffers{s.taps[:dw], [2][]int32{s.row0[:3*dw], s.row1[:3*dw]}, s.out[:3*dw]}
}

func newResizeBuffers(dw int) resizeBuffers {
	return resizeBuffers{make([]hTap, dw), [2][]int32{make([]int32, 3*dw), make([]int32, 3*dw)}, make([]uint8, 3*dw)}
}

// linearCoord returns OpenCV's source index and fixed-point weights for output index d:
// f = (d+0.5)·scale − 0.5 in float32, s = ⌊f⌋, weights round((1−(f−s))·2048), round((f−s)·2048).
func linearCoord(d int, scale float64) (s int, w0, w1 int16) {
	f := float32((float64(d)+0.5)*scale - 0.5)
	s = int(math.Floor(float64(f)))
	f -= float32(s)
	return s, saturateInt16(1 - f), saturateInt16(f)
}

func saturateInt16(f float32) int16 {
	v := math.RoundToEven(float64(f * resizeCoefScale))
	return int16(max(math.MinInt16, min(math.MaxInt16, v)))
}

// linearResizer resizes the sw×sh RGB region whose top-left pixel is src[0] (rows stride bytes
// apart) to dw×dh exactly as OpenCV's cv::resize with INTER_LINEAR on 8-bit images: pixel
// centres at +0.5, source coordinate (d+0.5)·(s/d)−0.5 clamped at the borders, no low-pass
// filter when shrinking, 11-bit fixed-point weights, and the vertical pass rounded as OpenCV's
// vectorised code does. Make one with newLinearResizer, then call rows for dy = 0, 1, … dh−1.
type linearResizer struct {
	src            []uint8
	stride, sw, sh int
	scaleY         float64
	buf            resizeBuffers
	have           [2]int // source row held in buf.rows[i], −1 for none
	first          int    // index into buf.rows of the upper of the two rows in use
}

func newLinearResizer(src []uint8, stride, sw, sh, dw, dh int, buf resizeBuffers) linearResizer {
	// OpenCV computes scale = 1/(dst/src), not src/dst; the two can differ in the last bit.
	scaleX := 1 / (float64(dw) / float64(sw))
	for dx := range dw {
		sx, a0, a1 := linearCoord(dx, scaleX)
		if sx < 0 {
			sx, a0, a1 = 0, resizeCoefScale, 0
		}
		if sx >= sw-1 {
			sx, a0, a1 = sw-1, resizeCoefScale, 0
		}
		buf.taps[dx] = hTap{p0: 3 * sx, p1: 3 * min(sx+1, sw-1), a0: int32(a0), a1: int32(a1)}
	}
	return linearResizer{src: src, stride: stride, sw: sw, sh: sh, scaleY: 1 / (float64(dh) / float64(sh)),
		buf: buf, have: [2]int{-1, -1}}
}

// rows returns the two horizontally resized source rows that output row dy blends and
// their vertical weights: rows of 3·dw values, planar (dw R, then dw G, then dw B),
// overwritten by the next call. vresizeRow or kernels.ResizeBlend blends them.
func (z *linearResizer) rows(dy int) (r0, r1 []int32, b0, b1 int32) {
	// Rows are clamped to the image; the weights are not (OpenCV clamps only columns), which
	// matters for the rounding of the vectorised blend.
	sy, w0, w1 := linearCoord(dy, z.scaleY)
	y0 := max(0, min(sy, z.sh-1))
	y1 := max(0, min(sy+1, z.sh-1))
	upper, lower := z.first, 1-z.first
	switch {
	case z.have[upper] == y0 && z.have[lower] == y1:
	case z.have[lower] == y0: // moved down one row: reuse the lower row as the upper one
		upper, lower = lower, upper
		z.first = upper
		z.fill(lower, y1)
	default:
		z.fill(upper, y0)
		z.fill(lower, y1)
	}
	return z.buf.rows[upper], z.buf.rows[lower], int32(w0), int32(w1)
}

// fill makes buf.rows[i] hold source row y resized horizontally.
func (z *linearResizer) fill(i, y int) {
	if z.have[i] == y {
		return
	}
	if z.have[1-i] == y {
		copy(z.buf.rows[i], z.buf.rows[1-i])
	} else {
		hresizeRow(z.buf.rows[i], z.src[y*z.stride:], &z.buf)
	}
	z.have[i] = y
}

// hTap is one output column of the horizontal pass: byte offsets of its left and right source
// pixels and their fixed-point weights (OpenCV's xofs and alpha).
type hTap struct {
	p0, p1 int
	a0, a1 int32
}

// hresizeRow computes one horizontally resized row, D = S[p0]·α0 + S[p1]·α1 per channel,
// into dst as three planes of len(buf.taps) values (R, G, B).
func hresizeRow(dst []int32, srow []uint8, buf *resizeBuffers) {
	n := len(buf.taps)
	r, g, b := dst[:n], dst[n:2*n], dst[2*n:3*n]
	for dx, t := range buf.taps {
		s0 := srow[t.p0 : t.p0+3 : t.p0+3]
		s1 := srow[t.p1 : t.p1+3 : t.p1+3]
		r[dx] = int32(s0[0])*t.a0 + int32(s1[0])*t.a1
		g[dx] = int32(s0[1])*t.a0 + int32(s1[1])*t.a1
		b[dx] = int32(s0[2])*t.a0 + int32(s1[2])*t.a1
	}
}

// vresizeRow blends two horizontally resized rows as OpenCV's VResizeLinearVec_32s8u does:
// (((r0>>4)·β0)>>16 + ((r1>>4)·β1)>>16 + 2) >> 2, saturated to 8 bits. (OpenCV's scalar tail,
// (r0·β0 + r1·β1 + 2²¹) >> 22, differs from it by at most 1 and only handles the last few
// values of rows that are not a multiple of the vector width; 80 and 320 RGB pixels are.)
func vresizeRow(out []uint8, r0, r1 []int32, b0, b1 int32) {
	r1 = r1[:len(r0)]
	out = out[:len(r0)]
	for i, v0 := range r0 {
		v := ((v0>>4)*b0)>>16 + ((r1[i]>>4)*b1)>>16
		out[i] = clamp8((v + 2) >> 2)
	}
}

// Resize returns the region r of src (clipped to the image) resized to w×h with OpenCV's
// INTER_LINEAR arithmetic; see linearResizer. It is meant for tools and tests; the tensor
// functions resize without allocating.
func Resize(src *Image, r image.Rectangle, w, h int) (*Image, error) {
	r = r.Intersect(src.Bounds())
	if r.Empty() || w <= 0 || h <= 0 {
		return nil, fmt.Errorf("resize %v of a %d×%d image to %d×%d: empty region or size", r, src.Width, src.Height, w, h)
	}
	dst := NewImage(w, h)
	stride := src.Stride()
	z := newLinearResizer(src.Pix[r.Min.Y*stride+3*r.Min.X:], stride, r.Dx(), r.Dy(), w, h, newResizeBuffers(w))
	for dy := range h {
		r0, r1, b0, b1 := z.rows(dy)
		out := z.buf.out
		vresizeRow(out, r0, r1, b0, b1)
		px := dst.Pix[3*w*dy : 3*w*(dy+1)]
		for x := range w { // planar to interleaved
			px[3*x], px[3*x+1], px[3*x+2] = out[x], out[w+x], out[2*w+x]
		}
	}
	return dst, nil
}
