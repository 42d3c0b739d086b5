//go:build goexperiment.simd && amd64

package kernels

import (
	"simd/archsimd"
	"unsafe"
)

// planarAVX2 is the AVX2 planarSIMD: six output pixels of a row times one 16-channel block
// at a time (avx2Conv6x16) where the whole window row lies inside the input, one pixel and
// 8 channels at a time elsewhere.
func planarAVX2(x []float32, h, w int, pw *PlanarConvWeights, y []float32, oh, ow int, ep *Epilogue) {
	e := makeEpiPtrs(ep)
	g := pw.geom
	xp := unsafe.Pointer(unsafe.SliceData(x))
	yp := unsafe.Pointer(unsafe.SliceData(y))
	// Output columns [ox0, ox1) have every tap column inside the input.
	ox0, ox1 := interiorCols(g, w, ow)
	// Offsets of the taps from a pixel's first one, in weight order, for the fast path.
	var offsBuf [maxPlanarTaps]int32
	taps := pw.cin * g.KH * g.KW
	var offs []int32
	if taps <= maxPlanarTaps {
		offs = planarOffsets(pw, h, w, &offsBuf)
	}
	wb := unsafe.Pointer(unsafe.SliceData(pw.w))
	var tile [96]float32
	// br: at most a bias and a ReLU, which avx2Conv6x16BR applies as it stores.
	br := e == nil || (e.res == nil && (e.act == ActNone || e.act == ActReLU))
	relu := e != nil && e.act == ActReLU
	var zero [Lanes]float32 // the bias when there is none
	zp := unsafe.Pointer(&zero)
	for oy := 0; oy < oh; oy++ {
		ky0, ky1 := 0, g.KH
		for ky0 < g.KH && oy*g.StrideH-g.PadTop+ky0*g.DilationH < 0 {
			ky0++
		}
		for ky1 > ky0 && oy*g.StrideH-g.PadTop+(ky1-1)*g.DilationH >= h {
			ky1--
		}
		for cb := 0; cb < pw.coutP; cb += Lanes {
			ox := 0
			for ; ox < ox0; ox++ {
				planarPixel8(xp, h, w, pw, yp, oy, ox, ow, cb, ky0, ky1, e)
				planarPixel8(xp, h, w, pw, yp, oy, ox, ow, cb+8, ky0, ky1, e)
			}
			if taps <= maxPlanarTaps && ky0 == 0 && ky1 == g.KH {
				iy := oy*g.StrideH - g.PadTop
				if br {
					bias := zp
					if e != nil && e.bias != nil {
						bias = unsafe.Add(e.bias, cb*4)
					}
					for ; ox+6 <= ox1; ox += 6 {
						ix := ox*g.StrideW - g.PadLeft
						avx2Conv6x16BR(&offs[0], len(offs), unsafe.Add(xp, (iy*w+ix)*4), g.StrideW*4, unsafe.Add(wb, cb*4), pw.coutP*4,
							unsafe.Add(yp, ((oy*ow+ox)*pw.coutP+cb)*4), pw.coutP*4, bias, relu)
					}
				}
				for ; ox+6 <= ox1; ox += 6 {
					ix := ox*g.StrideW - g.PadLeft
					avx2Conv6x16(&offs[0], len(offs), unsafe.Add(xp, (iy*w+ix)*4), g.StrideW*4, unsafe.Add(wb, cb*4), pw.coutP*4, &tile)
					avx2Store6x16(&tile, yp, (oy*ow+ox)*pw.coutP+cb, pw.coutP, cb, e)
				}
				if ox < ox1 && ox1-ox0 >= 6 && (e == nil || e.res == nil) {
					// The last interior pixels: one more tile ending at ox1, recomputing
					// some of the previous one's (harmless without a residual, which
					// may alias y), instead of up to 5 pixels through planarPixel8.
					ox = ox1 - 6
					ix := ox*g.StrideW - g.PadLeft
					avx2Conv6x16(&offs[0], len(offs), unsafe.Add(xp, (iy*w+ix)*4), g.StrideW*4, unsafe.Add(wb, cb*4), pw.coutP*4, &tile)
					avx2Store6x16(&tile, yp, (oy*ow+ox)*pw.coutP+cb, pw.coutP, cb, e)
					ox = ox1
				}
			}
			for ; ox < ow; ox++ {
				planarPixel8(xp, h, w, pw, yp, oy, ox, ow, cb, ky0, ky1, e)
				planarPixel8(xp, h, w, pw, yp, oy, ox, ow, cb+8, ky0, ky1, e)
			}
		}
	}
}

// planarPixel8 computes output pixel (oy, ox), channels cb..cb+7, checking every tap column.
func planarPixel8(xp unsafe.Pointer, h, w int, pw *PlanarConvWeights, yp unsafe.Pointer, oy, ox, ow, cb, ky0, ky1 int, e *epiPtrs) {
	g, cp := pw.geom, pw.coutP
	var acc vec8
	for ci := 0; ci < pw.cin; ci++ {
		for ky := ky0; ky < ky1; ky++ {
			iy := oy*g.StrideH - g.PadTop + ky*g.DilationH
			for kx := 0; kx < g.KW; kx++ {
				ix := ox*g.StrideW - g.PadLeft + kx*g.DilationW
				if ix < 0 || ix >= w {
					continue
				}
				v := bcast8(xp, (ci*h+iy)*w+ix)
				acc = v.MulAdd(load8(planarW(pw), ((ci*g.KH+ky)*g.KW+kx)*cp+cb), acc)
			}
		}
	}
	out := (oy*ow+ox)*cp + cb
	if e != nil {
		acc = e.finish8(acc, cb, out)
	}
	acc.Store(ptr8(yp, out))
	archsimd.ClearAVXUpperBits()
}

// avx2Conv6x16 (assembly, planar_avx2_amd64.s) writes output pixels 0..5 × 16 channels of
// a convolution whose taps all lie inside the input to tile, row after row (pixel p's
// channels at p*16): x is pixel 0's first tap, s the bytes from one pixel's first tap to
// the next's, offs[0..n-1] the tap offsets in floats, tap t's weights wt + t*ws bytes. As
// avx2Gemm6x16, assembly keeps the 12 accumulators in registers.
//
//go:noescape
func avx2Conv6x16(offs *int32, n int, x unsafe.Pointer, s int, wt unsafe.Pointer, ws int, tile *[96]float32)

// avx2Conv6x16BR (assembly, planar_avx2_amd64.s) is avx2Conv6x16 storing the 6 pixels
// straight to the output at c (ldc bytes apart) after adding the 16 floats at bias and,
// if relu, clamping at zero.
//
//go:noescape
func avx2Conv6x16BR(offs *int32, n int, x unsafe.Pointer, s int, wt unsafe.Pointer, ws int, c unsafe.Pointer, ldc int, bias unsafe.Pointer, relu bool)

// convDirectAVX2 is the AVX2 convDirectSIMD: the same zero-padded copy of the input, each
// row's pixels six at a time through avx2Conv6x16, the last ones one at a time
// (avx2Conv1x16).
func convDirectAVX2(x []float32, h, w int, cw *ConvWeights, y, scratch []float32, oh, ow int, ep *Epilogue) {
	var offsBuf [maxDirectTaps]int32
	d := prepareDirect(x, h, w, cw, scratch, offsBuf[:])
	offs, wt, s := d.offs, d.wt, d.s
	e := makeEpiPtrs(ep)
	yp := unsafe.Pointer(unsafe.SliceData(y))
	var tile [96]float32
	var px [16]float32
	// br: at most a bias and a ReLU, which avx2Conv6x16BR applies as it stores.
	br := e == nil || (e.res == nil && (e.act == ActNone || e.act == ActReLU))
	relu := e != nil && e.act == ActReLU
	var zero [Lanes]float32 // the bias when there is none
	bias := unsafe.Pointer(&zero)
	if e != nil && e.bias != nil {
		bias = e.bias
	}
	if vw, ok := d.virtualWidth(); ok && ow < 6 {
		// Too narrow for a 6-pixel tile per row: tile the virtual rows instead.
		last := (oh-1)*vw + ow - 1 // the last real pixel, as a virtual one
		p := 0
		for ; p+5 <= last; p += 6 {
			avx2Conv6x16(&offs[0], len(offs), unsafe.Add(d.x, p*s), s, wt, Lanes*4, &tile)
			storeVirtual8(unsafe.Pointer(&tile), 6, p, vw, ow, yp, e)
		}
		for ; p <= last; p++ {
			if p%vw < ow {
				avx2Conv1x16(&offs[0], len(offs), unsafe.Add(d.x, p*s), wt, Lanes*4, &px)
				storeVirtual8(unsafe.Pointer(&px), 1, p, vw, ow, yp, e)
			}
		}
		return
	}
	for oy := 0; oy < oh; oy++ {
		row := unsafe.Add(d.x, oy*d.rs)
		ox := 0
		if br {
			for ; ox+6 <= ow; ox += 6 {
				avx2Conv6x16BR(&offs[0], len(offs), unsafe.Add(row, ox*s), s, wt, Lanes*4, unsafe.Add(yp, (oy*ow+ox)*Lanes*4), Lanes*4, bias, relu)
			}
		}
		for ; ox+6 <= ow; ox += 6 {
			avx2Conv6x16(&offs[0], len(offs), unsafe.Add(row, ox*s), s, wt, Lanes*4, &tile)
			avx2Store6x16(&tile, yp, (oy*ow+ox)*Lanes, Lanes, 0, e)
		}
		for ; ox < ow; ox++ {
			out := (oy*ow + ox) * Lanes
			avx2Conv1x16(&offs[0], len(offs), unsafe.Add(row, ox*s), wt, Lanes*4, &px)
			v0, v1 := load8(unsafe.Pointer(&px), 0), load8(unsafe.Pointer(&px), 8)
			if e != nil {
				v0, v1 = e.finish8(v0, 0, out), e.finish8(v1, 8, out+8)
			}
			v0.Store(ptr8(yp, out))
			v1.Store(ptr8(yp, out+8))
			archsimd.ClearAVXUpperBits()
		}
	}
}

// avx2Conv1x16 (assembly, planar_avx2_amd64.s) is avx2Conv6x16 for one output pixel,
// with eight FMA chains over the taps (a 256-channel 3×3 head has 2,304).
//
//go:noescape
func avx2Conv1x16(offs *int32, n int, x unsafe.Pointer, wt unsafe.Pointer, ws int, out *[16]float32)

// storeVirtual8 is storeVirtual with AVX2 vectors.
func storeVirtual8(t unsafe.Pointer, n, p, vw, ow int, y unsafe.Pointer, e *epiPtrs) {
	oy, ox := p/vw, p%vw
	for q := 0; q < n; q++ {
		if ox < ow {
			o := (oy*ow + ox) * Lanes
			v0, v1 := load8(t, q*Lanes), load8(t, q*Lanes+8)
			if e != nil {
				v0, v1 = e.finish8(v0, 0, o), e.finish8(v1, 8, o+8)
			}
			v0.Store(ptr8(y, o))
			v1.Store(ptr8(y, o+8))
		}
		if ox++; ox == vw {
			oy, ox = oy+1, 0
		}
	}
	archsimd.ClearAVXUpperBits()
}
