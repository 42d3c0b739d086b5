//go:build goexperiment.simd && amd64

package jpeg

import (
	"encoding/binary"
	"simd/archsimd"
)

// hasAVX2 says whether idctFast uses the AVX2 IDCT; read-only after init.
var hasAVX2 = archsimd.X86.AVX2()

// idctLowBytes is the VPSHUFB pattern that gathers the low byte of each 16-bit lane into the low
// 8 bytes of its 128-bit half; read-only.
var idctLowBytes = [32]int8{0, 2, 4, 6, 8, 10, 12, 14, -1, -1, -1, -1, -1, -1, -1, -1,
	0, 2, 4, 6, 8, 10, 12, 14, -1, -1, -1, -1, -1, -1, -1, -1}

// idctPairOrder is the VPERMD pattern that puts two rows' 4-byte halves in row order; read-only.
var idctPairOrder = [8]uint32{0, 4, 1, 5, 2, 3, 6, 7}

// idctSafe bounds the inputs of either pass for which 32-bit lanes compute jpeg_idct_islow
// exactly. Lane arithmetic wraps modulo 2³², so only the values that are shifted right (each
// output's even ± odd sum plus the rounding) must fit: summing the magnitudes of the fixed-point
// weights of each output gives at most 31521·m (even part) + 29693·m (odd part) for inputs of
// magnitude m, plus 2¹⁷, under 2³¹ for m < 35078. Blocks with a dequantised coefficient or a
// pass-1 output of magnitude 2¹⁵ or more (corrupt data only) take the 64-bit scalar idctIslow.
const idctSafe = 1 << 15

// idctFast is idctIslow, with AVX2 where the CPU has it: both passes run on eight columns (then
// eight rows) at once in 32-bit lanes, with the same fixed-point steps and the same results.
func idctFast(dst []byte, stride int, coef, quant *block) {
	if !hasAVX2 {
		idctIslow(dst, stride, coef, quant)
		return
	}
	_ = dst[7*stride+7]
	ld := func(i int) archsimd.Int32x8 {
		c := archsimd.LoadInt32x8Slice(coef[8*i : 8*i+8])
		q := archsimd.LoadInt32x8Slice(quant[8*i : 8*i+8])
		// JCOEF is 16 bits: truncate, then DEQUANTIZE.
		return c.ShiftAllLeft(16).ShiftAllRight(16).Mul(q)
	}
	r0, r1, r2, r3, r4, r5, r6, r7 := ld(0), ld(1), ld(2), ld(3), ld(4), ld(5), ld(6), ld(7)
	if !safe8(r0, r1, r2, r3, r4, r5, r6, r7) {
		archsimd.ClearAVXUpperBits()
		idctIslow(dst, stride, coef, quant)
		return
	}
	// Pass 1 on the columns (lane = column), outputs scaled by 2**pass1Bits.
	r0, r1, r2, r3, r4, r5, r6, r7 = idct1D(r0, r1, r2, r3, r4, r5, r6, r7, constBits-pass1Bits)
	if !safe8(r0, r1, r2, r3, r4, r5, r6, r7) {
		archsimd.ClearAVXUpperBits()
		idctIslow(dst, stride, coef, quant)
		return
	}
	// Pass 2 on the rows (lane = row).
	r0, r1, r2, r3, r4, r5, r6, r7 = transpose8(r0, r1, r2, r3, r4, r5, r6, r7)
	r0, r1, r2, r3, r4, r5, r6, r7 = idct1D(r0, r1, r2, r3, r4, r5, r6, r7, constBits+pass1Bits+3)
	// rangeLimit: the low 10 bits as a signed value, plus 128, clamped to 0…255.
	c128, zero, c255 := archsimd.BroadcastInt32x8(128), archsimd.Int32x8{}, archsimd.BroadcastInt32x8(255)
	lim := func(x archsimd.Int32x8) archsimd.Int32x8 {
		return x.ShiftAllLeft(22).ShiftAllRight(22).Add(c128).Max(zero).Min(c255)
	}
	r0, r1, r2, r3, r4, r5, r6, r7 = transpose8(lim(r0), lim(r1), lim(r2), lim(r3), lim(r4), lim(r5), lim(r6), lim(r7))
	low := archsimd.LoadInt8x32(&idctLowBytes)
	order := archsimd.LoadUint32x8(&idctPairOrder)
	put := func(i int, a, b archsimd.Int32x8) {
		p := a.SaturateToUint16ConcatGrouped(b).AsUint8x32().PermuteOrZeroGrouped(low).
			AsInt32x8().Permute(order).AsUint64x4().GetLo()
		binary.LittleEndian.PutUint64(dst[i*stride:i*stride+8], p.GetElem(0))
		binary.LittleEndian.PutUint64(dst[(i+1)*stride:(i+1)*stride+8], p.GetElem(1))
	}
	put(0, r0, r1)
	put(2, r2, r3)
	put(4, r4, r5)
	put(6, r6, r7)
	archsimd.ClearAVXUpperBits()
}

// safe8 says whether every lane of the eight vectors has a magnitude below idctSafe.
func safe8(r0, r1, r2, r3, r4, r5, r6, r7 archsimd.Int32x8) bool {
	big := r0.Abs().Or(r1.Abs()).Or(r2.Abs()).Or(r3.Abs()).Or(r4.Abs()).Or(r5.Abs()).Or(r6.Abs()).Or(r7.Abs())
	return big.And(archsimd.BroadcastInt32x8(-idctSafe)).IsZero()
}

// idct1D is one pass of jpeg_idct_islow on eight lanes at once: v0…v7 are the inputs 0…7 of
// each lane's 1-D IDCT; it returns the outputs descaled by shift bits.
func idct1D(v0, v1, v2, v3, v4, v5, v6, v7 archsimd.Int32x8, shift uint64) (o0, o1, o2, o3, o4, o5, o6, o7 archsimd.Int32x8) {
	k := archsimd.BroadcastInt32x8
	// Even part.
	z1 := v2.Add(v6).Mul(k(fix0_541196100))
	tmp2 := z1.Add(v6.Mul(k(-fix1_847759065)))
	tmp3 := z1.Add(v2.Mul(k(fix0_765366865)))
	tmp0 := v0.Add(v4).ShiftAllLeft(constBits)
	tmp1 := v0.Sub(v4).ShiftAllLeft(constBits)
	tmp10, tmp13 := tmp0.Add(tmp3), tmp0.Sub(tmp3)
	tmp11, tmp12 := tmp1.Add(tmp2), tmp1.Sub(tmp2)

	// Odd part, as idctOdd.
	q1 := v7.Add(v1)
	q2 := v5.Add(v3)
	q3 := v7.Add(v3)
	q4 := v5.Add(v1)
	z5 := q3.Add(q4).Mul(k(fix1_175875602))
	q1 = q1.Mul(k(-fix0_899976223))
	q2 = q2.Mul(k(-fix2_562915447))
	q3 = q3.Mul(k(-fix1_961570560)).Add(z5)
	q4 = q4.Mul(k(-fix0_390180644)).Add(z5)
	t0 := v7.Mul(k(fix0_298631336)).Add(q1.Add(q3))
	t1 := v5.Mul(k(fix2_053119869)).Add(q2.Add(q4))
	t2 := v3.Mul(k(fix3_072711026)).Add(q2.Add(q3))
	t3 := v1.Mul(k(fix1_501321110)).Add(q1.Add(q4))

	round := k(1 << (shift - 1))
	o0 = tmp10.Add(t3).Add(round).ShiftAllRight(shift)
	o7 = tmp10.Sub(t3).Add(round).ShiftAllRight(shift)
	o1 = tmp11.Add(t2).Add(round).ShiftAllRight(shift)
	o6 = tmp11.Sub(t2).Add(round).ShiftAllRight(shift)
	o2 = tmp12.Add(t1).Add(round).ShiftAllRight(shift)
	o5 = tmp12.Sub(t1).Add(round).ShiftAllRight(shift)
	o3 = tmp13.Add(t0).Add(round).ShiftAllRight(shift)
	o4 = tmp13.Sub(t0).Add(round).ShiftAllRight(shift)
	return
}

// transpose8 returns the transpose of the 8×8 matrix whose rows are v0…v7.
func transpose8(v0, v1, v2, v3, v4, v5, v6, v7 archsimd.Int32x8) (o0, o1, o2, o3, o4, o5, o6, o7 archsimd.Int32x8) {
	lo := func(a, b archsimd.Int32x8) archsimd.Int32x8 {
		return a.AsInt64x4().InterleaveLoGrouped(b.AsInt64x4()).AsInt32x8()
	}
	hi := func(a, b archsimd.Int32x8) archsimd.Int32x8 {
		return a.AsInt64x4().InterleaveHiGrouped(b.AsInt64x4()).AsInt32x8()
	}
	t0, t1 := v0.InterleaveLoGrouped(v1), v0.InterleaveHiGrouped(v1)
	t2, t3 := v2.InterleaveLoGrouped(v3), v2.InterleaveHiGrouped(v3)
	t4, t5 := v4.InterleaveLoGrouped(v5), v4.InterleaveHiGrouped(v5)
	t6, t7 := v6.InterleaveLoGrouped(v7), v6.InterleaveHiGrouped(v7)
	u0, u1, u2, u3 := lo(t0, t2), hi(t0, t2), lo(t1, t3), hi(t1, t3)
	u4, u5, u6, u7 := lo(t4, t6), hi(t4, t6), lo(t5, t7), hi(t5, t7)
	return u0.Select128FromPair(0, 2, u4), u1.Select128FromPair(0, 2, u5),
		u2.Select128FromPair(0, 2, u6), u3.Select128FromPair(0, 2, u7),
		u0.Select128FromPair(1, 3, u4), u1.Select128FromPair(1, 3, u5),
		u2.Select128FromPair(1, 3, u6), u3.Select128FromPair(1, 3, u7)
}
