//go:build goexperiment.simd && amd64

package preprocess

import "simd/archsimd"

// hasAVX2 says whether the AVX2 colour conversion runs; read-only after init.
var hasAVX2 = archsimd.X86.AVX2()

// rgbShuffle holds the VPSHUFB indices that interleave 16 R, 16 G and 16 B bytes into 48 RGB
// bytes: rgbShuffle[c][k] picks, for output chunk c (bytes 16c…16c+15), channel k's bytes; −1
// (sign bit set) gives a zero. Read-only after init.
var rgbShuffle = func() (m [3][3][16]int8) {
	for c := range 3 {
		for k := range 3 {
			for j := range 16 {
				b := 16*c + j
				m[c][k][j] = -1
				if b%3 == k {
					m[c][k][j] = int8(b / 3)
				}
			}
		}
	}
	return m
}()

// row420SIMD converts chroma columns 1 … 1+k of row420 with AVX2, 16 columns (32 pixels) at a
// time, and returns k (0 without AVX2 or for rows too short). The arithmetic is libjpeg's to the
// bit: the fancy-upsampling sums in 16-bit lanes, and jdcolor.c's tables computed exactly with
// the split constants libjpeg-turbo's SIMD code uses:
//
//	crR(x) = (91881x + 2¹⁵) >> 16 = x + ((mulhi(2x, 26345) + 1) >> 1)
//	cbB(x) = (116130x + 2¹⁵) >> 16 = 2x + ((mulhi(2x, −14942) + 1) >> 1)
//	G term = (−22554·xb − 46802·xr + 2¹⁵) >> 16 = −xr + ((−22554·xb + 18734·xr + 2¹⁵) >> 16)
//
// with x = chroma − 128 and mulhi the high half of the signed 16×16 product (floor(a·b / 2¹⁶));
// floor((floor(a/2¹⁵) + 1) / 2) = floor((a + 2¹⁵) / 2¹⁶) makes the first two exact, and the G
// term's two products are summed in 32 bits (VPMADDWD) before the shift.
func row420SIMD(out, yRow, cbNear, cbFar, crNear, crFar []uint8) int {
	n, w := len(cbNear), len(yRow)
	if !hasAVX2 {
		return 0
	}
	var k int
	// Column i reads chroma i−1 … i+16 and luma 2i … 2i+31.
	for i := 1; i+17 <= n && 2*i+32 <= w; i += 16 {
		cbE, cbO := upsample420x16(cbNear[i-1:], cbFar[i-1:])
		crE, crO := upsample420x16(crNear[i-1:], crFar[i-1:])
		y := archsimd.LoadUint8x32Slice(yRow[2*i:]).AsUint16x16()
		yE := y.And(archsimd.BroadcastUint16x16(0xFF)).AsInt16x16()
		yO := y.ShiftAllRight(8).AsInt16x16()
		rE, gE, bE := ycc16(yE, cbE, crE)
		rO, gO, bO := ycc16(yO, cbO, crO)
		r, g, b := interleave8(rE, rO), interleave8(gE, gO), interleave8(bE, bO)
		o := out[6*i : 6*i+96]
		storeRGB48(o[:48], r.GetLo(), g.GetLo(), b.GetLo())
		storeRGB48(o[48:], r.GetHi(), g.GetHi(), b.GetHi())
		k = i + 15
	}
	archsimd.ClearAVXUpperBits()
	return k
}

// upsample420x16 returns the fancy-upsampled chroma of columns 1…16 of near, far (column 0 and
// 17 are their neighbours): the even output pixels' values and the odd ones'.
func upsample420x16(near, far []uint8) (even, odd archsimd.Int16x16) {
	sum := func(o int) archsimd.Int16x16 {
		a := archsimd.LoadUint8x16Slice(near[o:]).ExtendToUint16().AsInt16x16()
		b := archsimd.LoadUint8x16Slice(far[o:]).ExtendToUint16().AsInt16x16()
		return a.Add(a).Add(a).Add(b)
	}
	l, c, r := sum(0), sum(1), sum(2)
	c3 := c.Add(c).Add(c)
	even = c3.Add(l).Add(archsimd.BroadcastInt16x16(8)).ShiftAllRight(4)
	odd = c3.Add(r).Add(archsimd.BroadcastInt16x16(7)).ShiftAllRight(4)
	return even, odd
}

// ycc16 converts 16 pixels (luma y, chroma cb, cr in 0…255) as jdcolor.c does, clamped to 0…255.
func ycc16(y, cb, cr archsimd.Int16x16) (r, g, b archsimd.Int16x16) {
	c128 := archsimd.BroadcastInt16x16(128)
	one := archsimd.BroadcastInt16x16(1)
	xb, xr := cb.Sub(c128), cr.Sub(c128)
	xb2, xr2 := xb.Add(xb), xr.Add(xr)
	crR := xr.Add(xr2.MulHigh(archsimd.BroadcastInt16x16(26345)).Add(one).ShiftAllRight(1))
	cbB := xb2.Add(xb2.MulHigh(archsimd.BroadcastInt16x16(-14942)).Add(one).ShiftAllRight(1))
	gk := archsimd.BroadcastInt32x8(18734<<16 | (-22554 & 0xFFFF)).AsInt16x16() // pairs (−22554, 18734)
	half := archsimd.BroadcastInt32x8(1 << 15)
	lo := xb.InterleaveLoGrouped(xr).DotProductPairs(gk).Add(half).ShiftAllRight(16)
	hi := xb.InterleaveHiGrouped(xr).DotProductPairs(gk).Add(half).ShiftAllRight(16)
	gt := lo.SaturateToInt16ConcatGrouped(hi).Sub(xr)
	zero, max8 := archsimd.BroadcastInt16x16(0), archsimd.BroadcastInt16x16(255)
	r = y.Add(crR).Max(zero).Min(max8)
	g = y.Add(gt).Max(zero).Min(max8)
	b = y.Add(cbB).Max(zero).Min(max8)
	return r, g, b
}

// interleave8 returns the bytes even₀ odd₀ even₁ odd₁ … of two vectors of values 0…255.
func interleave8(even, odd archsimd.Int16x16) archsimd.Uint8x32 {
	return even.AsUint16x16().Or(odd.AsUint16x16().ShiftAllLeft(8)).AsUint8x32()
}

// storeRGB48 writes 16 pixels' R, G, B bytes interleaved to o[0:48].
func storeRGB48(o []uint8, r, g, b archsimd.Uint8x16) {
	m := &rgbShuffle
	for c := range 3 {
		v := r.PermuteOrZero(archsimd.LoadInt8x16(&m[c][0])).
			Or(g.PermuteOrZero(archsimd.LoadInt8x16(&m[c][1]))).
			Or(b.PermuteOrZero(archsimd.LoadInt8x16(&m[c][2])))
		v.StoreSlice(o[16*c : 16*c+16])
	}
}
