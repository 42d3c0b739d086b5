//go:build (goexperiment.simd && amd64) || arm64

package kernels

import "unsafe"

// This file holds what the vectorised kernels of every architecture share: blocking sizes,
// bounds of the tap tables and index helpers. The portable build needs none of it.

// gemmL2Floats bounds the block of A rows kept hot while every B panel passes over it.
const gemmL2Floats = 32 << 10

// dwBandFloats is the output size of a band of rows in depthwiseSIMD.
const dwBandFloats = 4 << 10

// ceilDiv returns ⌈a/b⌉ for a ≥ 0, b > 0.
func ceilDiv(a, b int) int { return (a + b - 1) / b }

// floorDiv returns ⌊a/b⌋ for b > 0 and any a.
func floorDiv(a, b int) int {
	q := a / b
	if a%b != 0 && a < 0 {
		q--
	}
	return q
}

// maxPlanarTaps bounds cin·KH·KW for the fast path of planarSIMD (a stem convolution has
// 3·3·3 = 27).
const maxPlanarTaps = 64

// maxDirectTaps bounds KH·KW·cin for the stack-allocated tap table of convDirectSIMD.
const maxDirectTaps = 4096

// padInput copies the h×w NHWC tensor x (cinP channels) into dst, surrounded by g's zero
// padding.
func padInput(x []float32, h, w, cinP int, g ConvGeom, dst []float32) {
	wp := w + g.PadLeft + g.PadRight
	rowLen := wp * cinP
	clear(dst[:g.PadTop*rowLen])
	for y := 0; y < h; y++ {
		row := dst[(g.PadTop+y)*rowLen : (g.PadTop+y+1)*rowLen]
		clear(row[:g.PadLeft*cinP])
		copy(row[g.PadLeft*cinP:(g.PadLeft+w)*cinP], x[y*w*cinP:(y+1)*w*cinP])
		clear(row[(g.PadLeft+w)*cinP:])
	}
	clear(dst[(g.PadTop+h)*rowLen : (g.PadTop+h+g.PadBottom)*rowLen])
}

// planarOffsets returns the offsets (in floats) of the taps of pw from a pixel's first one
// on a planar h×w input, in weight order (ci, ky, kx), in buf; pw has at most
// maxPlanarTaps taps.
func planarOffsets(pw *PlanarConvWeights, h, w int, buf *[maxPlanarTaps]int32) []int32 {
	g := pw.geom
	offs := buf[:0]
	for ci := 0; ci < pw.cin; ci++ {
		for ky := 0; ky < g.KH; ky++ {
			for kx := 0; kx < g.KW; kx++ {
				offs = append(offs, int32((ci*h+ky*g.DilationH)*w+kx*g.DilationW))
			}
		}
	}
	return offs
}

// directInput is the input of a direct convolution (see convDirectSIMD) as its kernels
// read it: a zero-padded copy, the tap offsets and the byte steps between output pixels.
type directInput struct {
	x    unsafe.Pointer // the padded input, in scratch
	offs []int32        // tap offsets in floats from a pixel's first tap, in packed weight order (ky, kx, ci)
	rs   int            // bytes from one output row's first tap to the next's
	s    int            // bytes from one output pixel's first tap to the next's
	wt   unsafe.Pointer // the packed weights (16 output channels per tap)
}

// prepareDirect copies the h×w input x of cw into scratch with its zero padding around it
// (padInput) and returns it as the direct kernels read it, the tap offsets in buf when it
// is long enough.
func prepareDirect(x []float32, h, w int, cw *ConvWeights, scratch []float32, buf []int32) directInput {
	g, cinP := cw.geom, Pad16(cw.cin)
	padInput(x, h, w, cinP, g, scratch)
	wp := w + g.PadLeft + g.PadRight
	offs := buf[:0]
	if cw.pb.k > len(buf) {
		offs = make([]int32, 0, cw.pb.k) // only for windows far larger than any shipped model's
	}
	for ky := 0; ky < g.KH; ky++ {
		for kx := 0; kx < g.KW; kx++ {
			for ci := 0; ci < cw.cin; ci++ {
				offs = append(offs, int32((ky*g.DilationH*wp+kx*g.DilationW)*cinP+ci))
			}
		}
	}
	return directInput{x: unsafe.Pointer(unsafe.SliceData(scratch)), offs: offs,
		rs: g.StrideH * wp * cinP * 4, s: g.StrideW * cinP * 4,
		wt: unsafe.Pointer(unsafe.SliceData(cw.pb.data))}
}

// interiorCols returns the output columns [ox0, ox1) of a convolution with window g on an
// input w pixels wide whose taps all lie inside the input's columns.
func interiorCols(g ConvGeom, w, ow int) (ox0, ox1 int) {
	ox0 = min(ow, ceilDiv(g.PadLeft, g.StrideW))
	ox1 = max(ox0, min(ow, floorDiv(w-1-(g.KW-1)*g.DilationW+g.PadLeft, g.StrideW)+1))
	return ox0, ox1
}
