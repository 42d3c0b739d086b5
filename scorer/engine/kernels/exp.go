package kernels

import (
	"fmt"
	"math"
)

// The exponential of the kernels is Cephes' expf (also the scheme of onnxruntime's
// MlasComputeExp): x is clamped to [expLo, expHi], split as x = n·ln2 + r with n an integer
// and |r| ≤ ln2/2 (ln2 in two parts so that r is exact), e^r is a degree-7 polynomial and
// 2^n is applied in two halves, so that n = 128 overflows to +Inf and n < −126 gives the
// subnormals and 0 as it should. Relative error ≤ 2 ulp on the normal range; NaN stays NaN.
const (
	expHi    = 88.8 // e^88.8 > MaxFloat32: +Inf
	expLo    = -104 // e^−104 < half the smallest subnormal: 0
	expLog2e = 1.44269504088896341
	expC1    = 0.693359375     // ln2, high part (few mantissa bits, n·expC1 is exact)
	expC2    = -2.12194440e-4  // ln2 − expC1
	expP0    = 1.9875691500e-4 // polynomial coefficients, highest degree first
	expP1    = 1.3981999507e-3
	expP2    = 8.3334519073e-3
	expP3    = 4.1665795894e-2
	expP4    = 1.6666665459e-1
	expP5    = 5.0000001201e-1
	expRound = 0x1.8p23 // 1.5·2²³
)

// Exp sets dst[i] = e^src[i] for every element of src, with the accuracy above; dst must
// be at least as long as src and may be src itself (in place). It allocates nothing.
func Exp(dst, src []float32) { expWith(selected, dst, src) }

// expWith is Exp with kernel variant v, which the CPU must support.
func expWith(v impl, dst, src []float32) {
	if len(dst) < len(src) {
		panic(fmt.Sprintf("kernels: Exp: dst has %d elements, want ≥ %d", len(dst), len(src)))
	}
	dst = dst[:len(src)]
	if expSIMD(v, dst, src) {
		return
	}
	for i, x := range src {
		dst[i] = exp32(x)
	}
}

// exp32 is the portable exponential, the same steps as the SIMD kernels (without fused
// multiply-adds, so it can differ from them in the last bit).
func exp32(x float32) float32 {
	if !(x > expLo) {
		if x != x {
			return x
		}
		x = expLo
	}
	x = min(x, expHi)
	// Adding 1.5·2²³ rounds to an integer (to even) and leaves it in the low mantissa bits.
	t := x*expLog2e + expRound
	n := t - expRound
	r := x - n*expC1
	r -= n * expC2
	p := float32(expP0)
	p = p*r + expP1
	p = p*r + expP2
	p = p*r + expP3
	p = p*r + expP4
	p = p*r + expP5
	p = p*(r*r) + (r + 1)
	ni := int32(math.Float32bits(t) - math.Float32bits(expRound))
	n1 := ni >> 1
	return p * pow2(n1) * pow2(ni-n1)
}

// pow2 returns 2^n for −126 ≤ n ≤ 127 by building the exponent bits.
func pow2(n int32) float32 { return math.Float32frombits(uint32(n+127) << 23) }

// SoftmaxRows normalises each row of n consecutive elements of src (len(src) a multiple of
// n) into dst as ONNX Softmax does along its last axis: dst = e^(x − max) / Σ e^(x − max).
// dst must be at least as long as src and may be src itself. It allocates nothing.
func SoftmaxRows(dst, src []float32, n int) { softmaxWith(selected, dst, src, n) }

// softmaxWith is SoftmaxRows with kernel variant v, which the CPU must support.
func softmaxWith(v impl, dst, src []float32, n int) {
	switch {
	case n < 1 || len(src)%n != 0:
		panic(fmt.Sprintf("kernels: SoftmaxRows: %d elements are not rows of %d", len(src), n))
	case len(dst) < len(src):
		panic(fmt.Sprintf("kernels: SoftmaxRows: dst has %d elements, want ≥ %d", len(dst), len(src)))
	}
	dst = dst[:len(src)]
	if n == 2 && softmaxPairsSIMD(v, dst, src) {
		return
	}
	for o := 0; o < len(src); o += n {
		x, y := src[o:o+n], dst[o:o+n]
		m := x[0]
		for _, a := range x[1:] {
			m = max(m, a)
		}
		for j, a := range x {
			y[j] = a - m
		}
		if n < 16 { // too short for a vector call to pay
			for j, a := range y {
				y[j] = exp32(a)
			}
		} else {
			expWith(v, y, y)
		}
		var sum float32
		for _, e := range y {
			sum += e
		}
		inv := 1 / sum
		for j := range y {
			y[j] *= inv
		}
	}
}
