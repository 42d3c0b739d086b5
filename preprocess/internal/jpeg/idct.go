// This file replaces the Go standard library's image/jpeg IDCT with a port of
// jpeg_idct_islow from libjpeg-turbo's jidctint.c ("slow but accurate" integer
// IDCT, JDCT_ISLOW, the default DCT method of libjpeg and libjpeg-turbo).
//
// The algorithm and its fixed-point constants are from the Independent JPEG
// Group's software (Copyright (C) 1991-1998, Thomas G. Lane; modifications
// 2002-2018 by Guido Vollbeding; libjpeg-turbo modifications Copyright (C)
// 2015, 2020, 2022, D. R. Commander), distributed under the IJG licence (a
// BSD-style licence; see libjpeg-turbo's README.ijg and LICENSE.md): "this
// software is based in part on the work of the Independent JPEG Group".
// The port follows the C code step for step so that every output sample is
// bit-identical to libjpeg's for 8-bit data.
//
// The algorithm is Loeffler, Ligtenberg and Moschytz, "Practical Fast 1-D DCT
// Algorithms with 11 Multiplications", ICASSP '89, in the 12-multiply variant
// in which no data path holds more than one multiplication.

package jpeg

import "encoding/binary"

// A block holds the 64 DCT coefficients of one 8×8 block, in natural (row-major)
// order, or a quantisation table in the same order.
type block [blockSize]int32

// blockSize is the number of coefficients in a block.
const blockSize = 8 * 8

// Fixed-point parameters of jidctint.c for 8-bit samples: the constants carry
// constBits fractional bits and the first pass's outputs pass1Bits more bits
// than the final samples.
const (
	constBits = 13
	pass1Bits = 2
)

// The FIX_ constants of jidctint.c: round(x * 2**constBits).
const (
	fix0_298631336 = 2446  // FIX(0.298631336)
	fix0_390180644 = 3196  // FIX(0.390180644)
	fix0_541196100 = 4433  // FIX(0.541196100)
	fix0_765366865 = 6270  // FIX(0.765366865)
	fix0_899976223 = 7373  // FIX(0.899976223)
	fix1_175875602 = 9633  // FIX(1.175875602)
	fix1_501321110 = 12299 // FIX(1.501321110)
	fix1_847759065 = 15137 // FIX(1.847759065)
	fix1_961570560 = 16069 // FIX(1.961570560)
	fix2_053119869 = 16819 // FIX(2.053119869)
	fix2_562915447 = 20995 // FIX(2.562915447)
	fix3_072711026 = 25172 // FIX(3.072711026)
)

// descale is libjpeg's DESCALE: divide by 2**n rounding half up, with an
// arithmetic (flooring) shift.
func descale(x int64, n uint) int64 {
	return (x + 1<<(n-1)) >> n
}

// rangeLimit maps a level-unshifted IDCT output to a sample exactly as libjpeg's
// post-IDCT range_limit table (jdmaster.c prepare_range_limit_table) indexed by
// x & RANGE_MASK does: the low 10 bits of x, read as a signed value v in
// [-512, 511], give clamp(v+128, 0, 255). Legitimate data stays within that
// window, where this is a plain clamp; corrupt data wraps as it does in libjpeg.
func rangeLimit(x int64) uint8 {
	v := int32(x)<<22>>22 + 128
	if v < 0 {
		return 0
	}
	if v > 255 {
		return 255
	}
	return uint8(v)
}

// sampleLimit is rangeLimit as a table indexed by x & 1023, libjpeg's own form of it; read-only
// after init.
var sampleLimit = func() (t [1024]uint8) {
	for i := range t {
		t[i] = rangeLimit(int64(i))
	}
	return t
}()

// idctIslow dequantises the coefficients coef with the quantisation table quant
// (both in natural order), applies libjpeg's jpeg_idct_islow inverse DCT and
// writes the 8×8 level-shifted, range-limited samples to dst, whose rows are
// stride bytes apart. Coefficients are first truncated to 16 bits, as libjpeg
// stores them (JCOEF is a short).
func idctIslow(dst []byte, stride int, coef, quant *block) {
	_ = dst[7*stride+7] // Bounds check hint.
	var ws [blockSize]int32

	// Pass 1: process columns from the input, store into the work array. The
	// outputs are scaled up by 2**pass1Bits.
	for col := range 8 {
		c := coef[col : col+57 : col+57]
		q := quant[col : col+57 : col+57]
		if c[8*1]|c[8*2]|c[8*3]|c[8*4]|c[8*5]|c[8*6]|c[8*7] == 0 {
			// AC terms all zero: the column is constant. (The test uses the
			// untruncated coefficients; a nonzero one that truncates to zero
			// gives the same result through the full computation below.)
			dc := int32(int16(c[0])) * q[0] << pass1Bits
			for r := range 8 {
				ws[8*r+col] = dc
			}
			continue
		}
		// dequant is libjpeg's DEQUANTIZE for row r of this column.
		dequant := func(r int) int64 {
			return int64(int32(int16(c[8*r])) * q[8*r])
		}

		// Even part: reverse the even part of the forward DCT.
		// The rotator is sqrt(2)*c(-6).
		z2 := dequant(2)
		z3 := dequant(6)
		z1 := (z2 + z3) * fix0_541196100
		tmp2 := z1 + z3*-fix1_847759065
		tmp3 := z1 + z2*fix0_765366865

		z2 = dequant(0)
		z3 = dequant(4)
		tmp0 := (z2 + z3) << constBits
		tmp1 := (z2 - z3) << constBits

		tmp10 := tmp0 + tmp3
		tmp13 := tmp0 - tmp3
		tmp11 := tmp1 + tmp2
		tmp12 := tmp1 - tmp2

		// Odd part per figure 8; the matrix is unitary and hence its
		// transpose is its inverse. tmp0..tmp3 are y7, y5, y3, y1.
		tmp0, tmp1, tmp2, tmp3 = idctOdd(dequant(7), dequant(5), dequant(3), dequant(1))

		const shift = constBits - pass1Bits
		ws[8*0+col] = int32(descale(tmp10+tmp3, shift))
		ws[8*7+col] = int32(descale(tmp10-tmp3, shift))
		ws[8*1+col] = int32(descale(tmp11+tmp2, shift))
		ws[8*6+col] = int32(descale(tmp11-tmp2, shift))
		ws[8*2+col] = int32(descale(tmp12+tmp1, shift))
		ws[8*5+col] = int32(descale(tmp12-tmp1, shift))
		ws[8*3+col] = int32(descale(tmp13+tmp0, shift))
		ws[8*4+col] = int32(descale(tmp13-tmp0, shift))
	}

	// Pass 2: process rows from the work array, store into the output. The
	// results are descaled by 8 (= 2**3) and by the pass-1 scaling. Each row's
	// eight samples are stored at once.
	lim := &sampleLimit
	for row := range 8 {
		w := ws[8*row : 8*row+8 : 8*row+8]
		out := dst[row*stride : row*stride+8 : row*stride+8]
		if w[1]|w[2]|w[3]|w[4]|w[5]|w[6]|w[7] == 0 {
			// AC terms all zero.
			v := uint64(lim[descale(int64(w[0]), pass1Bits+3)&1023])
			binary.LittleEndian.PutUint64(out, v*0x0101010101010101)
			continue
		}

		// Even part.
		z2 := int64(w[2])
		z3 := int64(w[6])
		z1 := (z2 + z3) * fix0_541196100
		tmp0 := (int64(w[0]) + int64(w[4])) << constBits
		tmp3 := z1 + z2*fix0_765366865
		tmp1 := (int64(w[0]) - int64(w[4])) << constBits
		tmp2 := z1 + z3*-fix1_847759065

		tmp10 := tmp0 + tmp3
		tmp13 := tmp0 - tmp3
		tmp11 := tmp1 + tmp2
		tmp12 := tmp1 - tmp2

		// Odd part.
		tmp0, tmp1, tmp2, tmp3 = idctOdd(int64(w[7]), int64(w[5]), int64(w[3]), int64(w[1]))

		const shift = constBits + pass1Bits + 3
		s := func(x int64) uint64 { return uint64(lim[descale(x, shift)&1023]) }
		binary.LittleEndian.PutUint64(out, s(tmp10+tmp3)|s(tmp11+tmp2)<<8|s(tmp12+tmp1)<<16|s(tmp13+tmp0)<<24|
			s(tmp13-tmp0)<<32|s(tmp12-tmp1)<<40|s(tmp11-tmp2)<<48|s(tmp10-tmp3)<<56)
	}
}

// idctDC is idctIslow for a block whose only nonzero coefficient is the DC one: every sample
// is the same, and equal to what idctIslow computes.
func idctDC(dst []byte, stride int, dc, q0 int32) {
	_ = dst[7*stride+7]
	v := uint64(sampleLimit[descale(int64(int32(int16(dc))*q0<<pass1Bits), pass1Bits+3)&1023])
	v *= 0x0101010101010101
	for row := range 8 {
		binary.LittleEndian.PutUint64(dst[row*stride:row*stride+8], v)
	}
}

// idctOdd is the odd part of jpeg_idct_islow's 1-D IDCT: given the inputs
// y7, y5, y3, y1 it returns the terms tmp0..tmp3 that are added to and
// subtracted from the even part's tmp13, tmp12, tmp11, tmp10.
func idctOdd(y7, y5, y3, y1 int64) (tmp0, tmp1, tmp2, tmp3 int64) {
	z1 := y7 + y1
	z2 := y5 + y3
	z3 := y7 + y3
	z4 := y5 + y1
	z5 := (z3 + z4) * fix1_175875602 // sqrt(2) * c3

	tmp0 = y7 * fix0_298631336 // sqrt(2) * (-c1+c3+c5-c7)
	tmp1 = y5 * fix2_053119869 // sqrt(2) * ( c1+c3-c5+c7)
	tmp2 = y3 * fix3_072711026 // sqrt(2) * ( c1+c3+c5-c7)
	tmp3 = y1 * fix1_501321110 // sqrt(2) * ( c1+c3-c5-c7)
	z1 *= -fix0_899976223      // sqrt(2) * ( c7-c3)
	z2 *= -fix2_562915447      // sqrt(2) * (-c1-c3)
	z3 = z3*-fix1_961570560 + z5
	z4 = z4*-fix0_390180644 + z5

	tmp0 += z1 + z3
	tmp1 += z2 + z4
	tmp2 += z2 + z3
	tmp3 += z1 + z4
	return tmp0, tmp1, tmp2, tmp3
}
