//go:build goexperiment.simd && amd64

package kernels

import "simd/archsimd"

// expSIMD runs Exp with AVX-512 or AVX2 and reports whether it could (the tail of fewer
// than a vector's lanes goes through a zero-filled vector, with the same arithmetic).
func expSIMD(v impl, dst, src []float32) bool {
	switch v {
	case implAVX512:
		apply16(dst, src, exp16)
	case implAVX2:
		apply8(dst, src, exp8)
	default:
		return false
	}
	archsimd.ClearAVXUpperBits()
	return true
}

// apply16 stores f of each 16 consecutive elements of src into dst, the tail of fewer
// through tail16 (zero-filled). dst is at least as long as src.
func apply16(dst, src []float32, f func(vec) vec) {
	i := 0
	for ; i+16 <= len(src); i += 16 {
		f(archsimd.LoadFloat32x16Slice(src[i:])).StoreSlice(dst[i:])
	}
	if i < len(src) {
		tail16(dst[i:], src[i:], f)
	}
}

// tail16 stores f of the fewer than 16 elements of src into dst through a zero-filled
// array. archsimd's LoadSlicePart and StoreSlicePart would do it in place, but they form a
// pointer to a whole vector past the slice's end, which the race detector's checkptr rejects
// ("found bad pointer in Go heap") when that end is the end of a heap object.
func tail16(dst, src []float32, f func(vec) vec) {
	var t [16]float32
	copy(t[:], src)
	f(archsimd.LoadFloat32x16(&t)).Store(&t)
	copy(dst[:len(src)], t[:])
}

// tail8 is tail16 with 8-lane AVX2 vectors.
func tail8(dst, src []float32, f func(vec8) vec8) {
	var t [8]float32
	copy(t[:], src)
	f(archsimd.LoadFloat32x8(&t)).Store(&t)
	copy(dst[:len(src)], t[:])
}

// apply8 is apply16 with 8-lane AVX2 vectors.
func apply8(dst, src []float32, f func(vec8) vec8) {
	i := 0
	for ; i+8 <= len(src); i += 8 {
		f(archsimd.LoadFloat32x8Slice(src[i:])).StoreSlice(dst[i:])
	}
	if i < len(src) {
		tail8(dst[i:], src[i:], f)
	}
}

// exp16 is exp32 on 16 lanes; VSCALEFPS applies 2^n, with overflow and subnormals right.
func exp16(x vec) vec {
	b := archsimd.BroadcastFloat32x16
	c := x.Min(b(expHi)).Max(b(expLo))
	n := c.Mul(b(expLog2e)).RoundToEvenScaled(0)
	r := n.MulAdd(b(-expC1), c)
	r = n.MulAdd(b(-expC2), r)
	p := b(expP0).MulAdd(r, b(expP1))
	p = p.MulAdd(r, b(expP2))
	p = p.MulAdd(r, b(expP3))
	p = p.MulAdd(r, b(expP4))
	p = p.MulAdd(r, b(expP5))
	p = p.MulAdd(r.Mul(r), r.Add(b(1)))
	return x.Merge(p.Scale(n), x.IsNaN())
}

// exp8 is exp32 on 8 lanes, 2^n built from exponent bits in two halves.
func exp8(x vec8) vec8 {
	b := archsimd.BroadcastFloat32x8
	c := x.Min(b(expHi)).Max(b(expLo))
	n := c.Mul(b(expLog2e)).RoundToEven()
	r := n.MulAdd(b(-expC1), c)
	r = n.MulAdd(b(-expC2), r)
	p := b(expP0).MulAdd(r, b(expP1))
	p = p.MulAdd(r, b(expP2))
	p = p.MulAdd(r, b(expP3))
	p = p.MulAdd(r, b(expP4))
	p = p.MulAdd(r, b(expP5))
	p = p.MulAdd(r.Mul(r), r.Add(b(1)))
	ni := n.ConvertToInt32()
	n1 := ni.ShiftAllRight(1)
	bias := archsimd.BroadcastInt32x8(127)
	s1 := n1.Add(bias).ShiftAllLeft(23).AsFloat32x8()
	s2 := ni.Sub(n1).Add(bias).ShiftAllLeft(23).AsFloat32x8()
	return x.Merge(p.Mul(s1).Mul(s2), x.IsNaN())
}

// softmaxPairsSIMD runs SoftmaxRows for rows of two with AVX-512 or AVX2 and reports
// whether it could: 8 (or 4) rows per vector, the partner of each lane one swap away. Its
// loops are written out rather than given to apply16 as a closure over the permutation:
// that indirect call cost 12% (BenchmarkSoftmaxPairs, CPU time).
func softmaxPairsSIMD(v impl, dst, src []float32) bool {
	switch v {
	case implAVX512:
		sw := archsimd.LoadUint32x16(&[16]uint32{1, 0, 3, 2, 5, 4, 7, 6, 9, 8, 11, 10, 13, 12, 15, 14}) // swaps neighbours
		pair := func(x vec) vec {
			e := exp16(x.Sub(x.Max(x.Permute(sw))))
			return e.Div(e.Add(e.Permute(sw)))
		}
		i := 0
		for ; i+16 <= len(src); i += 16 {
			pair(archsimd.LoadFloat32x16Slice(src[i:])).StoreSlice(dst[i:])
		}
		if i < len(src) {
			tail16(dst[i:], src[i:], pair)
		}
	case implAVX2:
		sw := archsimd.LoadUint32x8(&[8]uint32{1, 0, 3, 2, 5, 4, 7, 6})
		pair := func(x vec8) vec8 {
			e := exp8(x.Sub(x.Max(x.Permute(sw))))
			return e.Div(e.Add(e.Permute(sw)))
		}
		i := 0
		for ; i+8 <= len(src); i += 8 {
			pair(archsimd.LoadFloat32x8Slice(src[i:])).StoreSlice(dst[i:])
		}
		if i < len(src) {
			tail8(dst[i:], src[i:], pair)
		}
	default:
		return false
	}
	archsimd.ClearAVXUpperBits()
	return true
}
