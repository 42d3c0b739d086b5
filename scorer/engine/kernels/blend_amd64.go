//go:build goexperiment.simd && amd64

package kernels

import "simd/archsimd"

// blendSIMD runs ResizeBlend with AVX-512 or AVX2 and reports whether it could; the tail
// of fewer than a vector's lanes goes through zero-filled arrays (see tail16: archsimd's
// SlicePart loads and stores trip the race detector's checkptr).
func blendSIMD(v impl, dst []float32, r0, r1 []int32, b0, b1 int32, sub, scale float32) bool {
	switch v {
	case implAVX512:
		w0, w1 := archsimd.BroadcastInt32x16(b0), archsimd.BroadcastInt32x16(b1)
		two, lo, hi := archsimd.BroadcastInt32x16(2), archsimd.BroadcastInt32x16(0), archsimd.BroadcastInt32x16(255)
		s, k := archsimd.BroadcastFloat32x16(sub), archsimd.BroadcastFloat32x16(scale)
		blend := func(a, b archsimd.Int32x16) vec {
			p := a.ShiftAllRight(4).Mul(w0).ShiftAllRight(16).Add(b.ShiftAllRight(4).Mul(w1).ShiftAllRight(16))
			return p.Add(two).ShiftAllRight(2).Max(lo).Min(hi).ConvertToFloat32().Sub(s).Mul(k)
		}
		i := 0
		for ; i+16 <= len(r0); i += 16 {
			blend(archsimd.LoadInt32x16Slice(r0[i:]), archsimd.LoadInt32x16Slice(r1[i:])).StoreSlice(dst[i:])
		}
		if i < len(r0) {
			var a, b [16]int32
			var t [16]float32
			copy(a[:], r0[i:])
			copy(b[:], r1[i:])
			blend(archsimd.LoadInt32x16(&a), archsimd.LoadInt32x16(&b)).Store(&t)
			copy(dst[i:len(r0)], t[:])
		}
	case implAVX2:
		w0, w1 := archsimd.BroadcastInt32x8(b0), archsimd.BroadcastInt32x8(b1)
		two, lo, hi := archsimd.BroadcastInt32x8(2), archsimd.BroadcastInt32x8(0), archsimd.BroadcastInt32x8(255)
		s, k := archsimd.BroadcastFloat32x8(sub), archsimd.BroadcastFloat32x8(scale)
		blend := func(a, b archsimd.Int32x8) vec8 {
			p := a.ShiftAllRight(4).Mul(w0).ShiftAllRight(16).Add(b.ShiftAllRight(4).Mul(w1).ShiftAllRight(16))
			return p.Add(two).ShiftAllRight(2).Max(lo).Min(hi).ConvertToFloat32().Sub(s).Mul(k)
		}
		i := 0
		for ; i+8 <= len(r0); i += 8 {
			blend(archsimd.LoadInt32x8Slice(r0[i:]), archsimd.LoadInt32x8Slice(r1[i:])).StoreSlice(dst[i:])
		}
		if i < len(r0) {
			var a, b [8]int32
			var t [8]float32
			copy(a[:], r0[i:])
			copy(b[:], r1[i:])
			blend(archsimd.LoadInt32x8(&a), archsimd.LoadInt32x8(&b)).Store(&t)
			copy(dst[i:len(r0)], t[:])
		}
	default:
		return false
	}
	archsimd.ClearAVXUpperBits()
	return true
}
