//go:build goexperiment.simd && amd64

package preprocess

import "simd/archsimd"

// hasAVX2 says whether the AVX2 colour conversion runs; read-only after init.
var hasAVX2 = archsimd.X86.AVX2()

// rgbCompact is the VPSHUFB pattern that packs four R, G, B, 0 pixels of each 128-bit half into
// its first 12 bytes; read-only.
var rgbCompact = [32]int8{0, 1, 2, 4, 5, 6, 8, 9, 10, 12, 13, 14, -1, -1, -1, -1,
	0, 1, 2, 4, 5, 6, 8, 9, 10, 12, 13, 14, -1, -1, -1, -1}

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
	// The last 16-byte store of 32 pixels ends 4 bytes past their 96.
	for i := 1; i+17 <= n && 2*i+32 <= w && 6*i+100 <= len(out); i += 16 {
		cbE, cbO := upsample420x16(cbNear[i-1:], cbFar[i-1:])
		crE, crO := upsample420x16(crNear[i-1:], crFar[i-1:])
		y := archsimd.LoadUint8x32Slice(yRow[2*i:]).AsUint16x16()
		yE := y.And(archsimd.BroadcastUint16x16(0xFF)).AsInt16x16()
		yO := y.ShiftAllRight(8).AsInt16x16()
		rE, gE, bE := ycc16(yE, cbE, crE)
		rO, gO, bO := ycc16(yO, cbO, crO)
		storeRGB96(out[6*i:6*i+100], rE, gE, bE, rO, gO, bO)
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

// storeRGB96 writes 32 pixels to o[0:96] (o[96:100] is overwritten too): lane k of the even
// vectors is pixel 2k, of the odd ones pixel 2k+1, each value in 0…255. Each pixel becomes a
// 32-bit R, G, B, 0 word (16-bit interleaves, then 32-bit ones to put even and odd pixels in
// order), and VPSHUFB packs four words into 12 bytes.
func storeRGB96(o []uint8, rE, gE, bE, rO, gO, bO archsimd.Int16x16) {
	o = o[:100]
	rgE := rE.AsUint16x16().Or(gE.AsUint16x16().ShiftAllLeft(8))
	rgO := rO.AsUint16x16().Or(gO.AsUint16x16().ShiftAllLeft(8))
	eLo, eHi := rgE.InterleaveLoGrouped(bE.AsUint16x16()).AsUint32x8(), rgE.InterleaveHiGrouped(bE.AsUint16x16()).AsUint32x8()
	oLo, oHi := rgO.InterleaveLoGrouped(bO.AsUint16x16()).AsUint32x8(), rgO.InterleaveHiGrouped(bO.AsUint16x16()).AsUint32x8()
	compact := archsimd.LoadInt8x32(&rgbCompact)
	// Pixels 0–3 | 16–19, 4–7 | 20–23, 8–11 | 24–27, 12–15 | 28–31.
	p0 := eLo.InterleaveLoGrouped(oLo).AsUint8x32().PermuteOrZeroGrouped(compact)
	p1 := eLo.InterleaveHiGrouped(oLo).AsUint8x32().PermuteOrZeroGrouped(compact)
	p2 := eHi.InterleaveLoGrouped(oHi).AsUint8x32().PermuteOrZeroGrouped(compact)
	p3 := eHi.InterleaveHiGrouped(oHi).AsUint8x32().PermuteOrZeroGrouped(compact)
	// In address order: each store's last 4 bytes are overwritten by the next.
	p0.GetLo().StoreSlice(o[0:16])
	p1.GetLo().StoreSlice(o[12:28])
	p2.GetLo().StoreSlice(o[24:40])
	p3.GetLo().StoreSlice(o[36:52])
	p0.GetHi().StoreSlice(o[48:64])
	p1.GetHi().StoreSlice(o[60:76])
	p2.GetHi().StoreSlice(o[72:88])
	p3.GetHi().StoreSlice(o[84:100])
}
