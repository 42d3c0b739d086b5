package kernels

import (
	"math"
	"math/rand/v2"
	"testing"
)

// This file holds the obviously-correct reference implementations that the fast kernels
// are compared against, and the comparison helpers.

// refAct applies the activation of ep (channel j) to v.
func refAct(ep *Epilogue, v float32, j int) float32 {
	if ep == nil {
		return v
	}
	switch ep.Act {
	case ActReLU:
		return max(v, 0)
	case ActPReLU:
		if v < 0 {
			return v * ep.Slope[j]
		}
	}
	return v
}

// refEpilogue returns the epilogue applied to acc for output channel j whose residual is at r.
func refEpilogue(ep *Epilogue, acc float32, j, r int) float32 {
	if ep == nil {
		return acc
	}
	if ep.Bias != nil {
		acc += ep.Bias[j]
	}
	if ep.Residual != nil && ep.ResidualFirst {
		acc += ep.Residual[r]
	}
	acc = refAct(ep, acc, j)
	if ep.Residual != nil && !ep.ResidualFirst {
		acc += ep.Residual[r]
	}
	return acc
}

// refGemm is Gemm on the unpacked k×n row-major b, accumulating in float64.
func refGemm(m, n, k int, a []float32, lda int, b []float32, c []float32, ldc int, ep *Epilogue) {
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			var s float64
			for kk := 0; kk < k; kk++ {
				s += float64(a[i*lda+kk]) * float64(b[kk*n+j])
			}
			c[i*ldc+j] = refEpilogue(ep, float32(s), j, i*ldc+j)
		}
	}
}

// randSlice returns n uniform values in [-1, 1).
func randSlice(rng *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = rng.Float32()*2 - 1
	}
	return s
}

// sentinel fills s with a value no kernel produces, to detect writes outside the output.
func sentinel(s []float32) {
	for i := range s {
		s[i] = -12345
	}
}

// compare fails t unless got and want agree within a tolerance scaled to the reduction
// length k (float32 sums of k products of values in [-1, 1]).
func compare(t *testing.T, what string, got, want []float32, k int) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: len %d, want %d", what, len(got), len(want))
	}
	tol := 1e-5 * float64(k+1)
	bad := 0
	for i := range got {
		d := math.Abs(float64(got[i]) - float64(want[i]))
		if d > tol*(1+math.Abs(float64(want[i]))) || math.IsNaN(float64(got[i])) {
			if bad < 5 {
				t.Errorf("%s: [%d] = %v, want %v", what, i, got[i], want[i])
			}
			bad++
		}
	}
	if bad > 0 {
		t.Errorf("%s: %d of %d elements differ", what, bad, len(got))
	}
}

// testEpilogues returns the epilogue variants the kernels must support for n channels and
// an output of outLen elements.
func testEpilogues(rng *rand.Rand, n, outLen int) map[string]*Epilogue {
	bias := randSlice(rng, n)
	slope := randSlice(rng, n)
	res := randSlice(rng, outLen)
	return map[string]*Epilogue{
		"none":             nil,
		"bias":             {Bias: bias},
		"bias+relu":        {Bias: bias, Act: ActReLU},
		"bias+prelu":       {Bias: bias, Act: ActPReLU, Slope: slope},
		"bias+residual":    {Bias: bias, Residual: res},
		"bias+prelu+resid": {Bias: bias, Act: ActPReLU, Slope: slope, Residual: res},
		"relu+residual":    {Act: ActReLU, Residual: res},
		"prelu (no bias)":  {Act: ActPReLU, Slope: slope},
		"bias+resid+relu":  {Bias: bias, Act: ActReLU, Residual: res, ResidualFirst: true},
		"resid+prelu":      {Act: ActPReLU, Slope: slope, Residual: res, ResidualFirst: true},
	}
}

// refDepthwise is Depthwise on ONNX-layout weights (c×1×KH×KW): one output at a time,
// float64 sums, padding channels of y set to zero.
func refDepthwise(x []float32, h, w, c int, g ConvGeom, wt []float32, y []float32, ep *Epilogue) {
	g = g.norm()
	oh, ow := g.OutSize(h, w)
	cp := Pad16(c)
	for oy := 0; oy < oh; oy++ {
		for ox := 0; ox < ow; ox++ {
			out := (oy*ow + ox) * cp
			for ch := 0; ch < cp; ch++ {
				var s float64
				for ky := 0; ky < g.KH && ch < c; ky++ {
					for kx := 0; kx < g.KW; kx++ {
						iy := oy*g.StrideH - g.PadTop + ky*g.DilationH
						ix := ox*g.StrideW - g.PadLeft + kx*g.DilationW
						if iy >= 0 && iy < h && ix >= 0 && ix < w {
							s += float64(x[(iy*w+ix)*cp+ch]) * float64(wt[(ch*g.KH+ky)*g.KW+kx])
						}
					}
				}
				y[out+ch] = refEpilogue(ep, float32(s), ch, out+ch)
			}
		}
	}
}

// randNHWC returns a random h×w tensor of c channels padded to Pad16(c) with zero padding.
func randNHWC(rng *rand.Rand, h, w, c int) []float32 {
	cp := Pad16(c)
	t := make([]float32, h*w*cp)
	for p := 0; p < h*w; p++ {
		for ch := 0; ch < c; ch++ {
			t[p*cp+ch] = rng.Float32()*2 - 1
		}
	}
	return t
}

// refConv is Conv on ONNX-layout weights (cout×cin×KH×KW), one output at a time, with
// float64 sums; padding output channels get the epilogue of a zero sum.
func refConv(x []float32, h, w, cin, cout int, g ConvGeom, wt []float32, y []float32, ep *Epilogue) {
	g = g.norm()
	oh, ow := g.OutSize(h, w)
	cinP, coutP := Pad16(cin), Pad16(cout)
	for oy := 0; oy < oh; oy++ {
		for ox := 0; ox < ow; ox++ {
			out := (oy*ow + ox) * coutP
			for co := 0; co < coutP; co++ {
				var s float64
				for ci := 0; ci < cin && co < cout; ci++ {
					for ky := 0; ky < g.KH; ky++ {
						for kx := 0; kx < g.KW; kx++ {
							iy := oy*g.StrideH - g.PadTop + ky*g.DilationH
							ix := ox*g.StrideW - g.PadLeft + kx*g.DilationW
							if iy >= 0 && iy < h && ix >= 0 && ix < w {
								s += float64(x[(iy*w+ix)*cinP+ci]) * float64(wt[((co*cin+ci)*g.KH+ky)*g.KW+kx])
							}
						}
					}
				}
				y[out+co] = refEpilogue(ep, float32(s), co, out+co)
			}
		}
	}
}

// testVariants returns the kernel variants this build and CPU run, fastest first: every
// comparison with the reference runs each of them (on an AVX-512 machine with
// GOEXPERIMENT=simd: avx512, avx2 and portable).
func testVariants(t testing.TB) []impl {
	vs := supportedImpls()
	if len(vs) == 0 || vs[len(vs)-1] != implPortable {
		t.Fatalf("supported variants %v do not end with the portable one", vs)
	}
	return vs
}
