//go:build goexperiment.simd && amd64

package kernels

import (
	"simd/archsimd"
	"unsafe"
)

// depthwiseAVX2 is the AVX2 depthwiseSIMD: the same bands of rows, each 16-channel block
// taken as two 8-lane halves, so that the nine weights of a 3×3 window and the
// accumulator (10 of the 16 YMM registers) stay in registers.
func depthwiseAVX2(x []float32, h, w int, dw *DepthwiseWeights, y []float32, oh, ow int, ep *Epilogue) {
	e := makeEpiPtrs(ep)
	g := dw.geom
	xp := unsafe.Pointer(unsafe.SliceData(x))
	yp := unsafe.Pointer(unsafe.SliceData(y))
	wp := unsafe.Pointer(unsafe.SliceData(dw.w))
	fast := g.KH == 3 && g.KW == 3 && g.DilationH == 1 && g.DilationW == 1 &&
		g.StrideH == g.StrideW && (g.StrideH == 1 || g.StrideH == 2)
	band := max(1, dwBandFloats/(ow*dw.cp))
	var zero [Lanes]float32 // read instead of the taps outside the input
	zp := unsafe.Pointer(&zero)
	for r0 := 0; r0 < oh; r0 += band {
		r1 := min(oh, r0+band)
		for cb := 0; cb < dw.cp; cb += 8 {
			if fast {
				dw3x3Block8(xp, h, w, dw.cp, cb, wp, g, yp, oh, ow, r0, r1, zp, e)
			} else {
				dwGenericBlock8(xp, h, w, dw.cp, cb, wp, g, yp, r0, r1, 0, ow, ow, e)
			}
		}
	}
}

// dwGenericBlock8 computes output pixels [oy0,oy1)×[ox0,ox1) (of an output ow pixels wide)
// of the 8 channels from cb (half a 16-channel block) for any window, checking every tap against the input bounds.
func dwGenericBlock8(xp unsafe.Pointer, h, w, cp, cb int, wp unsafe.Pointer, g ConvGeom, yp unsafe.Pointer, oy0, oy1, ox0, ox1, ow int, e *epiPtrs) {
	for oy := oy0; oy < oy1; oy++ {
		for ox := ox0; ox < ox1; ox++ {
			var acc vec8
			for ky := 0; ky < g.KH; ky++ {
				iy := oy*g.StrideH - g.PadTop + ky*g.DilationH
				if iy < 0 || iy >= h {
					continue
				}
				for kx := 0; kx < g.KW; kx++ {
					ix := ox*g.StrideW - g.PadLeft + kx*g.DilationW
					if ix < 0 || ix >= w {
						continue
					}
					in := load8(xp, (iy*w+ix)*cp+cb)
					acc = in.MulAdd(load8(wp, (ky*g.KW+kx)*cp+cb), acc)
				}
			}
			out := (oy*ow+ox)*cp + cb
			if e != nil {
				acc = e.finish8(acc, cb, out)
			}
			acc.Store(ptr8(yp, out))
		}
	}
	archsimd.ClearAVXUpperBits()
}

// dw3x3Block8 computes output rows [ra,rb) of channel block cb of a 3×3 depthwise
// convolution with stride s ∈ {1,2}, the 8 channels from cb. Interior pixels (whole window inside the input) run
// with the 9 weights in registers; the border goes through dwGenericBlock8.
//
// The loads are written out here rather than through helpers so that they carry this
// file's line positions: the SSA scheduler orders ready values by position, which keeps
// each load next to its FMA instead of hoisting all nine (and spilling).
func dw3x3Block8(xp unsafe.Pointer, h, w, cp, cb int, wp unsafe.Pointer, g ConvGeom, yp unsafe.Pointer, oh, ow, ra, rb int, zero unsafe.Pointer, e *epiPtrs) {
	s := g.StrideH
	// The assembly row kernels take 4 interior pixels at a time when the epilogue is at
	// most a bias and a ReLU (a residual may alias y, a PReLU needs its slopes).
	asm := e == nil || (e.res == nil && (e.act == ActNone || e.act == ActReLU))
	bias, relu := zero, false
	if e != nil {
		if e.bias != nil {
			bias = unsafe.Add(e.bias, cb*4)
		}
		relu = e.act == ActReLU
	}
	// Interior output range: oy*s-PadTop ≥ 0 and oy*s-PadTop+2 ≤ h-1 (same for x).
	oy0, oy1 := ceilDiv(g.PadTop, s), min(oh, floorDiv(h-3+g.PadTop, s)+1)
	ox0, ox1 := ceilDiv(g.PadLeft, s), min(ow, floorDiv(w-3+g.PadLeft, s)+1)
	if oy0 >= oy1 || ox0 >= ox1 {
		for oy := ra; oy < rb; oy++ {
			dw3x3Edge8(xp, h, w, cp, cb, wp, &g, yp, oy, 0, ow, ow, zero, e)
		}
		return
	}
	for oy := ra; oy < min(rb, oy0); oy++ {
		dw3x3Edge8Row(xp, h, w, cp, cb, wp, &g, yp, oy, ox0, ox1, ow, zero, e, asm, bias, relu)
	}
	for oy := max(ra, oy1); oy < rb; oy++ {
		dw3x3Edge8Row(xp, h, w, cp, cb, wp, &g, yp, oy, ox0, ox1, ow, zero, e, asm, bias, relu)
	}
	oy0, oy1 = max(oy0, ra), min(oy1, rb)
	if oy0 >= oy1 {
		return
	}
	w00 := archsimd.LoadFloat32x8((*[8]float32)(unsafe.Add(wp, (0*cp+cb)*4)))
	w01 := archsimd.LoadFloat32x8((*[8]float32)(unsafe.Add(wp, (1*cp+cb)*4)))
	w02 := archsimd.LoadFloat32x8((*[8]float32)(unsafe.Add(wp, (2*cp+cb)*4)))
	w10 := archsimd.LoadFloat32x8((*[8]float32)(unsafe.Add(wp, (3*cp+cb)*4)))
	w11 := archsimd.LoadFloat32x8((*[8]float32)(unsafe.Add(wp, (4*cp+cb)*4)))
	w12 := archsimd.LoadFloat32x8((*[8]float32)(unsafe.Add(wp, (5*cp+cb)*4)))
	w20 := archsimd.LoadFloat32x8((*[8]float32)(unsafe.Add(wp, (6*cp+cb)*4)))
	w21 := archsimd.LoadFloat32x8((*[8]float32)(unsafe.Add(wp, (7*cp+cb)*4)))
	w22 := archsimd.LoadFloat32x8((*[8]float32)(unsafe.Add(wp, (8*cp+cb)*4)))
	rs := w * cp * 4 // input row stride in bytes
	// The left and right border columns, when they are one pixel each with one window
	// column in the padding (pad 1), are computed here with the weights at hand rather than
	// through the bounds-checking edge loop.
	leftOne := ox0 == 1 && g.PadLeft == 1
	rightOne := ox1 == ow-1 && (ow-1)*s-g.PadLeft+1 == w-1
	ps := s * cp * 4 // input step between output pixels in bytes
	for oy := oy0; oy < oy1; oy++ {
		iy := oy*s - g.PadTop
		if leftOne { // pixel 0: its window's first column is padding
			q0 := unsafe.Add(xp, ((iy*w+0)*cp+cb)*4)
			q1 := unsafe.Add(q0, rs)
			q2 := unsafe.Add(q1, rs)
			acc := archsimd.LoadFloat32x8((*[8]float32)(q0)).Mul(w01)
			acc = archsimd.LoadFloat32x8((*[8]float32)(unsafe.Add(q0, cp*4))).MulAdd(w02, acc)
			acc = archsimd.LoadFloat32x8((*[8]float32)(q1)).MulAdd(w11, acc)
			acc = archsimd.LoadFloat32x8((*[8]float32)(unsafe.Add(q1, cp*4))).MulAdd(w12, acc)
			acc = archsimd.LoadFloat32x8((*[8]float32)(q2)).MulAdd(w21, acc)
			acc = archsimd.LoadFloat32x8((*[8]float32)(unsafe.Add(q2, cp*4))).MulAdd(w22, acc)
			out := oy*ow*cp + cb
			if e != nil {
				acc = e.finish8(acc, cb, out)
			}
			acc.Store((*[8]float32)(unsafe.Add(yp, out*4)))
		} else {
			dw3x3Edge8(xp, h, w, cp, cb, wp, &g, yp, oy, 0, ox0, ow, zero, e)
		}
		if rightOne { // pixel ow-1: its window's last column is padding
			q0 := unsafe.Add(xp, ((iy*w+(ow-1)*s-g.PadLeft)*cp+cb)*4)
			q1 := unsafe.Add(q0, rs)
			q2 := unsafe.Add(q1, rs)
			acc := archsimd.LoadFloat32x8((*[8]float32)(q0)).Mul(w00)
			acc = archsimd.LoadFloat32x8((*[8]float32)(unsafe.Add(q0, cp*4))).MulAdd(w01, acc)
			acc = archsimd.LoadFloat32x8((*[8]float32)(q1)).MulAdd(w10, acc)
			acc = archsimd.LoadFloat32x8((*[8]float32)(unsafe.Add(q1, cp*4))).MulAdd(w11, acc)
			acc = archsimd.LoadFloat32x8((*[8]float32)(q2)).MulAdd(w20, acc)
			acc = archsimd.LoadFloat32x8((*[8]float32)(unsafe.Add(q2, cp*4))).MulAdd(w21, acc)
			out := (oy*ow+ow-1)*cp + cb
			if e != nil {
				acc = e.finish8(acc, cb, out)
			}
			acc.Store((*[8]float32)(unsafe.Add(yp, out*4)))
		} else {
			dw3x3Edge8(xp, h, w, cp, cb, wp, &g, yp, oy, ox1, ow, ow, zero, e)
		}
		ix := ox0*s - g.PadLeft
		r0 := unsafe.Add(xp, ((iy*w+ix)*cp+cb)*4)
		out := (oy*ow+ox0)*cp + cb
		ox := ox0
		if n := (ox1 - ox0) / 4; asm && n > 0 {
			if s == 1 { // direct calls: through a func value, zero would escape
				dw3x3S1Row4AVX2(n, r0, cp*4, rs, unsafe.Add(wp, cb*4), unsafe.Add(yp, out*4), bias, relu)
			} else {
				dw3x3S2Row4AVX2(n, r0, cp*4, rs, unsafe.Add(wp, cb*4), unsafe.Add(yp, out*4), bias, relu)
			}
			ox += 4 * n
			out += 4 * n * cp
			if ox < ox1 {
				r0 = unsafe.Add(r0, 4*n*ps)
			}
		}
		for ; ox < ox1; ox++ {
			r1 := unsafe.Add(r0, rs)
			r2 := unsafe.Add(r1, rs)
			acc := archsimd.LoadFloat32x8((*[8]float32)(r0)).Mul(w00)
			acc = archsimd.LoadFloat32x8((*[8]float32)(unsafe.Add(r0, cp*4))).MulAdd(w01, acc)
			acc = archsimd.LoadFloat32x8((*[8]float32)(unsafe.Add(r0, cp*8))).MulAdd(w02, acc)
			acc = archsimd.LoadFloat32x8((*[8]float32)(r1)).MulAdd(w10, acc)
			acc = archsimd.LoadFloat32x8((*[8]float32)(unsafe.Add(r1, cp*4))).MulAdd(w11, acc)
			acc = archsimd.LoadFloat32x8((*[8]float32)(unsafe.Add(r1, cp*8))).MulAdd(w12, acc)
			acc = archsimd.LoadFloat32x8((*[8]float32)(r2)).MulAdd(w20, acc)
			acc = archsimd.LoadFloat32x8((*[8]float32)(unsafe.Add(r2, cp*4))).MulAdd(w21, acc)
			acc = archsimd.LoadFloat32x8((*[8]float32)(unsafe.Add(r2, cp*8))).MulAdd(w22, acc)
			if e != nil {
				acc = e.finish8(acc, cb, out)
			}
			acc.Store((*[8]float32)(unsafe.Add(yp, out*4)))
			out += cp
			if ox+1 < ox1 { // never form a pointer past the last interior pixel
				r0 = unsafe.Add(r0, ps)
			}
		}
	}
	archsimd.ClearAVXUpperBits()
}

// dw3x3Edge8 computes output pixels [ox0,ox1) of output row oy, channel block cb, of an
// undilated 3×3 depthwise convolution whose windows may reach outside the input: the taps
// outside read the zero vector at zero instead. g comes by pointer: copying the struct
// would use SSE moves, which stall while the caller's vector registers are dirty.
func dw3x3Edge8(xp unsafe.Pointer, h, w, cp, cb int, wp unsafe.Pointer, g *ConvGeom, yp unsafe.Pointer, oy, ox0, ox1, ow int, zero unsafe.Pointer, e *epiPtrs) {
	if ox0 >= ox1 {
		return
	}
	iy0 := oy*g.StrideH - g.PadTop
	// at returns the address of input pixel (iy, ix) at channel cb, or zero outside.
	at := func(iy, ix int) *[8]float32 {
		if uint(iy) < uint(h) && uint(ix) < uint(w) {
			return (*[8]float32)(unsafe.Add(xp, ((iy*w+ix)*cp+cb)*4))
		}
		return (*[8]float32)(zero)
	}
	wt := func(t int) vec8 { return archsimd.LoadFloat32x8((*[8]float32)(unsafe.Add(wp, (t*cp+cb)*4))) }
	for ox := ox0; ox < ox1; ox++ {
		ix0 := ox*g.StrideW - g.PadLeft
		acc := archsimd.LoadFloat32x8(at(iy0, ix0)).Mul(wt(0))
		acc = archsimd.LoadFloat32x8(at(iy0, ix0+1)).MulAdd(wt(1), acc)
		acc = archsimd.LoadFloat32x8(at(iy0, ix0+2)).MulAdd(wt(2), acc)
		acc = archsimd.LoadFloat32x8(at(iy0+1, ix0)).MulAdd(wt(3), acc)
		acc = archsimd.LoadFloat32x8(at(iy0+1, ix0+1)).MulAdd(wt(4), acc)
		acc = archsimd.LoadFloat32x8(at(iy0+1, ix0+2)).MulAdd(wt(5), acc)
		acc = archsimd.LoadFloat32x8(at(iy0+2, ix0)).MulAdd(wt(6), acc)
		acc = archsimd.LoadFloat32x8(at(iy0+2, ix0+1)).MulAdd(wt(7), acc)
		acc = archsimd.LoadFloat32x8(at(iy0+2, ix0+2)).MulAdd(wt(8), acc)
		out := (oy*ow+ox)*cp + cb
		if e != nil {
			acc = e.finish8(acc, cb, out)
		}
		acc.Store((*[8]float32)(unsafe.Add(yp, out*4)))
	}
	archsimd.ClearAVXUpperBits()
}

// dw3x3S1Row4AVX2 computes n groups of 4 adjacent output pixels of a 3×3 stride-1 depthwise
// convolution, one register of channels: x is the top-left input of the first group's first
// window, cs the byte step between pixels (input, output and weight taps alike), rs the byte
// step between input rows, w the first tap's weights, y the first output, bias the
// channels' bias (zeros for none); relu clamps at zero after the bias. Every window must
// lie inside the input. Implemented in depthwise_avx2_amd64.s.
//
//go:noescape
func dw3x3S1Row4AVX2(n int, x unsafe.Pointer, cs, rs int, w, y, bias unsafe.Pointer, relu bool)

// dw3x3S2Row4AVX2 is dw3x3S1Row4AVX2 for stride 2 (x steps 2 pixels per output pixel).
//
//go:noescape
func dw3x3S2Row4AVX2(n int, x unsafe.Pointer, cs, rs int, w, y, bias unsafe.Pointer, relu bool)

// dw3x3Edge8Row computes output row oy, channel block cb, of a 3×3 depthwise convolution
// whose windows reach above or below the input. When exactly one kernel row falls outside
// and asm holds (see dw3x3Block8), the interior columns [ox0,ox1) run 4 at a time through the
// two-row assembly kernels; everything else goes through dw3x3Edge8.
func dw3x3Edge8Row(xp unsafe.Pointer, h, w, cp, cb int, wp unsafe.Pointer, g *ConvGeom, yp unsafe.Pointer, oy, ox0, ox1, ow int, zero unsafe.Pointer, e *epiPtrs, asm bool, bias unsafe.Pointer, relu bool) {
	iy := oy*g.StrideH - g.PadTop
	ky := 0 // first kernel row of the two inside the input
	switch {
	case iy == -1 && h >= 2:
		ky = 1
	case iy >= 0 && iy+1 == h-1:
	default:
		asm = false
	}
	n := (ox1 - ox0) / 4
	if !asm || n == 0 {
		dw3x3Edge8(xp, h, w, cp, cb, wp, g, yp, oy, 0, ow, ow, zero, e)
		return
	}
	dw3x3Edge8(xp, h, w, cp, cb, wp, g, yp, oy, 0, ox0, ow, zero, e)
	x := unsafe.Add(xp, (((iy+ky)*w+ox0*g.StrideW-g.PadLeft)*cp+cb)*4)
	wk := unsafe.Add(wp, (3*ky*cp+cb)*4)
	y := unsafe.Add(yp, ((oy*ow+ox0)*cp+cb)*4)
	if g.StrideW == 1 {
		dw3x3S1Row4Rows2AVX2(n, x, cp*4, w*cp*4, wk, y, bias, relu)
	} else {
		dw3x3S2Row4Rows2AVX2(n, x, cp*4, w*cp*4, wk, y, bias, relu)
	}
	dw3x3Edge8(xp, h, w, cp, cb, wp, g, yp, oy, ox0+4*n, ow, ow, zero, e)
}

// dw3x3S1Row4Rows2AVX2 is dw3x3S1Row4AVX2 for a window of which only two input rows
// (from x) and their two kernel rows (from w) count.
//
//go:noescape
func dw3x3S1Row4Rows2AVX2(n int, x unsafe.Pointer, cs, rs int, w, y, bias unsafe.Pointer, relu bool)

// dw3x3S2Row4Rows2AVX2 is dw3x3S1Row4Rows2AVX2 for stride 2.
//
//go:noescape
func dw3x3S2Row4Rows2AVX2(n int, x unsafe.Pointer, cs, rs int, w, y, bias unsafe.Pointer, relu bool)
