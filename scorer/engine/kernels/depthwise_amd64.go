//go:build goexperiment.simd && amd64

package kernels

import (
	"simd/archsimd"
	"unsafe"
)

// depthwiseSIMD runs Depthwise with AVX-512 and reports whether it could.
func depthwiseSIMD(x []float32, h, w int, dw *DepthwiseWeights, y []float32, oh, ow int, ep *Epilogue) bool {
	if !archsimd.X86.AVX512() {
		return false
	}
	e := makeEpiPtrs(ep)
	g := dw.geom
	xp := unsafe.Pointer(unsafe.SliceData(x))
	yp := unsafe.Pointer(unsafe.SliceData(y))
	wp := unsafe.Pointer(unsafe.SliceData(dw.w))
	fast := g.KH == 3 && g.KW == 3 && g.DilationH == 1 && g.DilationW == 1 &&
		g.StrideH == g.StrideW && (g.StrideH == 1 || g.StrideH == 2)
	for cb := 0; cb < dw.cp; cb += Lanes {
		if fast {
			dw3x3Block(xp, h, w, dw.cp, cb, wp, g, yp, oh, ow, e)
		} else {
			dwGenericBlock(xp, h, w, dw.cp, cb, wp, g, yp, 0, oh, 0, ow, ow, e)
		}
	}
	return true
}

// dwGenericBlock computes output pixels [oy0,oy1)×[ox0,ox1) (of an output ow pixels wide)
// of channel block cb for any window, checking every tap against the input bounds.
func dwGenericBlock(xp unsafe.Pointer, h, w, cp, cb int, wp unsafe.Pointer, g ConvGeom, yp unsafe.Pointer, oy0, oy1, ox0, ox1, ow int, e *epiPtrs) {
	for oy := oy0; oy < oy1; oy++ {
		for ox := ox0; ox < ox1; ox++ {
			var acc vec
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
					in := load(xp, (iy*w+ix)*cp+cb)
					acc = in.MulAdd(load(wp, (ky*g.KW+kx)*cp+cb), acc)
				}
			}
			out := (oy*ow+ox)*cp + cb
			if e != nil {
				acc = e.finish(acc, cb, out)
			}
			acc.Store(ptrAt(yp, out))
		}
	}
	archsimd.ClearAVXUpperBits()
}

// dw3x3Block computes channel block cb of a 3×3 depthwise convolution with stride s ∈ {1,2}.
// Interior pixels (whole window inside the input) run with the 9 weights in registers;
// the border goes through dwGenericBlock.
//
// The loads are written out here rather than through helpers so that they carry this
// file's line positions: the SSA scheduler orders ready values by position, which keeps
// each load next to its FMA instead of hoisting all nine (and spilling).
func dw3x3Block(xp unsafe.Pointer, h, w, cp, cb int, wp unsafe.Pointer, g ConvGeom, yp unsafe.Pointer, oh, ow int, e *epiPtrs) {
	s := g.StrideH
	// Interior output range: oy*s-PadTop ≥ 0 and oy*s-PadTop+2 ≤ h-1 (same for x).
	oy0, oy1 := ceilDiv(g.PadTop, s), min(oh, floorDiv(h-3+g.PadTop, s)+1)
	ox0, ox1 := ceilDiv(g.PadLeft, s), min(ow, floorDiv(w-3+g.PadLeft, s)+1)
	if oy0 >= oy1 || ox0 >= ox1 {
		dwGenericBlock(xp, h, w, cp, cb, wp, g, yp, 0, oh, 0, ow, ow, e)
		return
	}
	dwGenericBlock(xp, h, w, cp, cb, wp, g, yp, 0, oy0, 0, ow, ow, e)
	dwGenericBlock(xp, h, w, cp, cb, wp, g, yp, oy1, oh, 0, ow, ow, e)
	w00 := archsimd.LoadFloat32x16((*[16]float32)(unsafe.Add(wp, (0*cp+cb)*4)))
	w01 := archsimd.LoadFloat32x16((*[16]float32)(unsafe.Add(wp, (1*cp+cb)*4)))
	w02 := archsimd.LoadFloat32x16((*[16]float32)(unsafe.Add(wp, (2*cp+cb)*4)))
	w10 := archsimd.LoadFloat32x16((*[16]float32)(unsafe.Add(wp, (3*cp+cb)*4)))
	w11 := archsimd.LoadFloat32x16((*[16]float32)(unsafe.Add(wp, (4*cp+cb)*4)))
	w12 := archsimd.LoadFloat32x16((*[16]float32)(unsafe.Add(wp, (5*cp+cb)*4)))
	w20 := archsimd.LoadFloat32x16((*[16]float32)(unsafe.Add(wp, (6*cp+cb)*4)))
	w21 := archsimd.LoadFloat32x16((*[16]float32)(unsafe.Add(wp, (7*cp+cb)*4)))
	w22 := archsimd.LoadFloat32x16((*[16]float32)(unsafe.Add(wp, (8*cp+cb)*4)))
	rs := w * cp * 4 // input row stride in bytes
	ps := s * cp * 4 // input step between output pixels in bytes
	for oy := oy0; oy < oy1; oy++ {
		dwGenericBlock(xp, h, w, cp, cb, wp, g, yp, oy, oy+1, 0, ox0, ow, e)
		dwGenericBlock(xp, h, w, cp, cb, wp, g, yp, oy, oy+1, ox1, ow, ow, e)
		iy := oy*s - g.PadTop
		ix := ox0*s - g.PadLeft
		r0 := unsafe.Add(xp, ((iy*w+ix)*cp+cb)*4)
		out := (oy*ow+ox0)*cp + cb
		for ox := ox0; ox < ox1; ox++ {
			r1 := unsafe.Add(r0, rs)
			r2 := unsafe.Add(r1, rs)
			acc := archsimd.LoadFloat32x16((*[16]float32)(r0)).Mul(w00)
			acc = archsimd.LoadFloat32x16((*[16]float32)(unsafe.Add(r0, cp*4))).MulAdd(w01, acc)
			acc = archsimd.LoadFloat32x16((*[16]float32)(unsafe.Add(r0, cp*8))).MulAdd(w02, acc)
			acc = archsimd.LoadFloat32x16((*[16]float32)(r1)).MulAdd(w10, acc)
			acc = archsimd.LoadFloat32x16((*[16]float32)(unsafe.Add(r1, cp*4))).MulAdd(w11, acc)
			acc = archsimd.LoadFloat32x16((*[16]float32)(unsafe.Add(r1, cp*8))).MulAdd(w12, acc)
			acc = archsimd.LoadFloat32x16((*[16]float32)(r2)).MulAdd(w20, acc)
			acc = archsimd.LoadFloat32x16((*[16]float32)(unsafe.Add(r2, cp*4))).MulAdd(w21, acc)
			acc = archsimd.LoadFloat32x16((*[16]float32)(unsafe.Add(r2, cp*8))).MulAdd(w22, acc)
			if e != nil {
				acc = e.finish(acc, cb, out)
			}
			acc.Store((*[16]float32)(unsafe.Add(yp, out*4)))
			out += cp
			if ox+1 < ox1 { // never form a pointer past the last interior pixel
				r0 = unsafe.Add(r0, ps)
			}
		}
	}
	archsimd.ClearAVXUpperBits()
}

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
