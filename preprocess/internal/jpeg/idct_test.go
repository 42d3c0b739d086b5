package jpeg

import (
	"math"
	"math/rand"
	"testing"
)

// dctBasis returns C(u)/2 · cos((2x+1)uπ/16), the 1-D DCT basis of size 8.
func dctBasis(x, u int) float64 {
	c := 0.5
	if u == 0 {
		c = 0.5 / math.Sqrt2
	}
	return c * math.Cos(float64((2*x+1)*u)*math.Pi/16)
}

// floatFDCT is the exact forward DCT of the level-shifted samples of an 8×8 block.
func floatFDCT(pix *[blockSize]float64) (coef [blockSize]float64) {
	for v := range 8 {
		for u := range 8 {
			var s float64
			for y := range 8 {
				for x := range 8 {
					s += (pix[8*y+x] - 128) * dctBasis(x, u) * dctBasis(y, v)
				}
			}
			coef[8*v+u] = s
		}
	}
	return coef
}

// floatIDCT is the exact inverse DCT, level-shifted, rounded and clamped to 0..255.
func floatIDCT(coef *[blockSize]float64) (pix [blockSize]uint8) {
	for y := range 8 {
		for x := range 8 {
			var s float64
			for v := range 8 {
				for u := range 8 {
					s += coef[8*v+u] * dctBasis(x, u) * dctBasis(y, v)
				}
			}
			pix[8*y+x] = uint8(math.Max(0, math.Min(255, math.Round(s+128))))
		}
	}
	return pix
}

// scaledQuant returns the JPEG Annex K luminance table scaled as libjpeg's
// jpeg_set_quality does, in natural order.
func scaledQuant(quality int) block {
	base := [blockSize]int32{
		16, 11, 10, 16, 24, 40, 51, 61,
		12, 12, 14, 19, 26, 58, 60, 55,
		14, 13, 16, 24, 40, 57, 69, 56,
		14, 17, 22, 29, 51, 87, 80, 62,
		18, 22, 37, 56, 68, 109, 103, 77,
		24, 35, 55, 64, 81, 104, 113, 92,
		49, 64, 78, 87, 103, 121, 120, 101,
		72, 92, 95, 98, 112, 100, 103, 99,
	}
	scale := int32(5000 / quality)
	if quality >= 50 {
		scale = int32(200 - 2*quality)
	}
	var q block
	for i, b := range base {
		q[i] = max(1, min(255, (b*scale+50)/100))
	}
	return q
}

// TestIDCTIslowCloseToFloat checks the integer IDCT against the exact float64 IDCT
// of the same dequantised coefficients: libjpeg's islow is within ±1 after rounding.
func TestIDCTIslowCloseToFloat(t *testing.T) {
	rnd := rand.New(rand.NewSource(1))
	for _, quality := range []int{10, 50, 75, 90, 100} {
		quant := scaledQuant(quality)
		total, exact := 0, 0
		for range 300 {
			// A smooth gradient plus noise, sometimes with a hard edge.
			var pix [blockSize]float64
			a, b, c := rnd.Float64()*255, rnd.Float64()*40-20, rnd.Float64()*40-20
			edge := rnd.Intn(12)
			for y := range 8 {
				for x := range 8 {
					p := a + b*float64(x)/8 + c*float64(y)/8 + rnd.NormFloat64()*8
					if x == edge {
						p = 255 - p
					}
					pix[8*y+x] = math.Max(0, math.Min(255, p))
				}
			}
			fc := floatFDCT(&pix)
			var coef block
			var deq [blockSize]float64
			for i := range coef {
				coef[i] = int32(math.Round(fc[i] / float64(quant[i])))
				deq[i] = float64(coef[i] * quant[i])
			}
			want := floatIDCT(&deq)
			var got [blockSize]uint8
			idctIslow(got[:], 8, &coef, &quant)
			for i := range got {
				total++
				d := int(got[i]) - int(want[i])
				if d == 0 {
					exact++
				}
				if d < -1 || d > 1 {
					t.Fatalf("quality %d: sample %d is %d, float IDCT gives %d\ncoefficients %v\nquant %v",
						quality, i, got[i], want[i], coef, quant)
				}
			}
		}
		if exact < total*9/10 {
			t.Errorf("quality %d: only %d of %d samples equal the rounded float IDCT", quality, exact, total)
		}
	}
}

// TestIDCTIslowDCOnly checks blocks with only a DC coefficient, whose result is
// known in closed form: clamp(round(dc·q/8) + 128) with halves rounded up.
func TestIDCTIslowDCOnly(t *testing.T) {
	quant := block{0: 1}
	for _, q := range []int32{1, 2, 7, 16, 255} {
		quant[0] = q
		for dc := int32(-2048); dc <= 2047; dc++ {
			if dc*q < -2048 || dc*q > 2047 {
				continue
			}
			coef := block{0: dc}
			var got [blockSize]uint8
			idctIslow(got[:], 8, &coef, &quant)
			want := uint8(max(0, min(255, int(math.Floor(float64(dc*q)/8+0.5))+128)))
			for i, g := range got {
				if g != want {
					t.Fatalf("dc %d, q %d: sample %d is %d, want %d", dc, q, i, g, want)
				}
			}
		}
	}
}

// TestIDCTIslowCoefficientTruncation checks that coefficients are truncated to 16
// bits before dequantisation, as libjpeg's JCOEF storage does.
func TestIDCTIslowCoefficientTruncation(t *testing.T) {
	var quant block
	for i := range quant {
		quant[i] = 3
	}
	rnd := rand.New(rand.NewSource(2))
	for range 50 {
		var small, wide block
		for i := range small {
			if rnd.Intn(3) == 0 {
				small[i] = int32(rnd.Intn(61) - 30)
				wide[i] = small[i] + int32(rnd.Intn(5)-2)<<16
			}
		}
		var want, got [blockSize]uint8
		idctIslow(want[:], 8, &small, &quant)
		idctIslow(got[:], 8, &wide, &quant)
		if got != want {
			t.Fatalf("coefficients %v give %v, their 16-bit truncations %v give %v", wide, got, small, want)
		}
	}
}

// TestRangeLimit compares rangeLimit with the post-IDCT part of the sample range
// table that libjpeg builds in jdmaster.c (prepare_range_limit_table) for 8-bit
// samples and indexes with x & RANGE_MASK.
func TestRangeLimit(t *testing.T) {
	const maxSample, center, rangeMask = 255, 128, 4*256 - 1
	// simple is the "simple" table sample_range_limit: 256 zeros, then 0..255,
	// followed by the rest of the post-IDCT table.
	table := make([]uint8, 5*256+center)
	simple := table[256:]
	for i := range 256 {
		simple[i] = uint8(i)
	}
	post := simple[center:]
	for i := center; i < 2*256; i++ {
		post[i] = maxSample
	}
	for i := 2 * 256; i < 4*256-center; i++ {
		post[i] = 0
	}
	copy(post[4*256-center:], simple[:center])

	for x := int64(-5000); x <= 5000; x++ {
		if got, want := rangeLimit(x), post[int(x)&rangeMask]; got != want {
			t.Fatalf("rangeLimit(%d) = %d, libjpeg's table gives %d", x, got, want)
		}
	}
}

// BenchmarkIDCTIslow times the scalar IDCT and idctFast (the vector one where the build has it)
// on a block with half its coefficients nonzero.
func BenchmarkIDCTIslow(b *testing.B) {
	rnd := rand.New(rand.NewSource(3))
	quant := scaledQuant(75)
	var coef block
	for i := range coef {
		if rnd.Intn(2) == 0 {
			coef[i] = int32(rnd.Intn(21) - 10)
		}
	}
	var dst [blockSize]uint8
	for _, f := range []struct {
		name string
		idct func([]byte, int, *block, *block)
	}{{"islow", idctIslow}, {"fast", idctFast}} {
		b.Run(f.name, func(b *testing.B) {
			for b.Loop() {
				f.idct(dst[:], 8, &coef, &quant)
			}
		})
	}
}

// TestIDCTDCMatchesIslow checks the DC-only shortcut against the full IDCT, including DC
// values that wrap when truncated to 16 bits and that overflow the sample range.
func TestIDCTDCMatchesIslow(t *testing.T) {
	for _, tc := range []struct{ dc, q int32 }{
		{0, 1}, {1, 1}, {-1, 1}, {4, 1}, {-4, 1}, {1023, 1}, {-1024, 1}, {100, 16}, {-200, 99},
		{2047, 255}, {-2048, 255}, {40000, 3}, {-70000, 7}, {32767, 65535}, {-32768, 65535},
	} {
		coef, quant := block{0: tc.dc}, block{0: tc.q}
		var want, got [blockSize]uint8
		idctIslow(want[:], 8, &coef, &quant)
		idctDC(got[:], 8, tc.dc, tc.q)
		if got != want {
			t.Errorf("dc %d, q %d: idctDC gives %v, idctIslow %v", tc.dc, tc.q, got[:8], want[:8])
		}
	}
}

// TestIDCTFastMatchesIslow checks idctFast (the vector IDCT where the build has one) against
// idctIslow on random blocks: sparse and dense, small and large coefficients, 8- and 16-bit
// quantisers, including blocks beyond the vector code's safe range (which fall back).
func TestIDCTFastMatchesIslow(t *testing.T) {
	rnd := rand.New(rand.NewSource(4))
	for _, tc := range []struct {
		name       string
		density    int   // one coefficient in density is nonzero
		coefRange  int32 // coefficients in ±coefRange
		quantRange int32 // quantisers in 1…quantRange
	}{
		{"sparse-q75", 6, 60, 100},
		{"dense-small", 1, 20, 50},
		{"dense-large", 1, 1024, 16},
		{"dc-heavy", 20, 2047, 255},
		{"near-limit", 1, 128, 255}, // dequantised up to 32640, just under the vector code's bound
		{"near-limit-sparse", 4, 128, 255},
		{"beyond-safe", 2, 4000, 255},
		{"16-bit-quant", 3, 300, 65535},
		{"wide-coefficients", 2, 1 << 20, 7},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for range 2000 {
				var coef, quant block
				for i := range coef {
					quant[i] = 1 + rnd.Int31n(tc.quantRange)
					if i == 0 || rnd.Intn(tc.density) == 0 {
						coef[i] = rnd.Int31n(2*tc.coefRange+1) - tc.coefRange
					}
				}
				var want, got [3 * 8 * 10]uint8
				idctIslow(want[3:], 10, &coef, &quant)
				idctFast(got[3:], 10, &coef, &quant)
				if got != want {
					t.Fatalf("coefficients %v, quant %v: idctFast gives %v, idctIslow %v", coef, quant, got, want)
				}
			}
		})
	}
}
