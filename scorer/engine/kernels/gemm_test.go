package kernels

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

type gemmImpl struct {
	name string
	fn   func(m, n, k int, a []float32, lda int, pb *PackedB, c []float32, ldc int, ep *Epilogue)
}

// gemmImpls returns the Gemm implementations under test: every variant this build and CPU
// run (the dispatching Gemm runs one of them).
func gemmImpls(t testing.TB) []gemmImpl {
	var out []gemmImpl
	for _, v := range testVariants(t) {
		out = append(out, gemmImpl{v.String(), func(m, n, k int, a []float32, lda int, pb *PackedB, c []float32, ldc int, ep *Epilogue) {
			gemmWith(v, m, n, k, a, lda, pb, c, ldc, ep)
		}})
	}
	return out
}

func TestGemmMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, m := range []int{1, 2, 3, 4, 5, 6, 7, 9, 17, 400} {
		for _, k := range []int{1, 2, 3, 13, 16, 32, 48} {
			for _, n := range []int{16, 32, 48, 80} {
				lda, ldc := k+3, n+16 // strides wider than the rows: pads must stay untouched
				a := randSlice(rng, (m-1)*lda+k)
				b := randSlice(rng, k*n)
				pb := PackB(k, n, b)
				outLen := (m-1)*ldc + n
				for name, ep := range testEpilogues(rng, n, outLen) {
					want := make([]float32, outLen)
					sentinel(want)
					refGemm(m, n, k, a, lda, b, want, ldc, ep)
					for _, impl := range gemmImpls(t) {
						got := make([]float32, outLen)
						sentinel(got)
						impl.fn(m, n, k, a, lda, pb, got, ldc, ep)
						compare(t, fmt.Sprintf("%s m=%d k=%d n=%d ep=%s", impl.name, m, k, n, name), got, want, k)
					}
				}
			}
		}
	}
}

func TestGemmInPlaceResidual(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	const m, k, n = 9, 32, 48
	a, b := randSlice(rng, m*k), randSlice(rng, k*n)
	res := randSlice(rng, m*n)
	want := make([]float32, m*n)
	refGemm(m, n, k, a, k, b, want, n, &Epilogue{Act: ActReLU, Residual: res})
	for _, impl := range gemmImpls(t) {
		c := append([]float32(nil), res...)
		impl.fn(m, n, k, a, k, PackB(k, n, b), c, n, &Epilogue{Act: ActReLU, Residual: c})
		compare(t, impl.name, c, want, k)
	}
}

func TestGemmPanicsOnBadArguments(t *testing.T) {
	pb := PackB(8, 16, make([]float32, 8*16))
	tests := []struct {
		name string
		call func()
	}{
		{"k mismatch", func() { Gemm(1, 16, 7, make([]float32, 8), 8, pb, make([]float32, 16), 16, nil) }},
		{"short a", func() { Gemm(2, 16, 8, make([]float32, 15), 8, pb, make([]float32, 32), 16, nil) }},
		{"short c", func() { Gemm(2, 16, 8, make([]float32, 16), 8, pb, make([]float32, 31), 16, nil) }},
		{"ldc < n", func() { Gemm(1, 16, 8, make([]float32, 8), 8, pb, make([]float32, 16), 8, nil) }},
		{"short bias", func() {
			Gemm(1, 16, 8, make([]float32, 8), 8, pb, make([]float32, 16), 16, &Epilogue{Bias: make([]float32, 15)})
		}},
		{"prelu without slope", func() {
			Gemm(1, 16, 8, make([]float32, 8), 8, pb, make([]float32, 16), 16, &Epilogue{Act: ActPReLU})
		}},
		{"n not a multiple of 16", func() { PackB(8, 24, make([]float32, 8*24)) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Errorf("no panic")
				}
			}()
			tt.call()
		})
	}
}

func TestGemmAllocatesNothing(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	const m, k, n = 37, 48, 80
	a, c := randSlice(rng, m*k), make([]float32, m*n)
	pb := PackB(k, n, randSlice(rng, k*n))
	ep := &Epilogue{Bias: randSlice(rng, n), Act: ActPReLU, Slope: randSlice(rng, n), Residual: randSlice(rng, m*n)}
	if allocs := testing.AllocsPerRun(10, func() { Gemm(m, n, k, a, k, pb, c, n, ep) }); allocs != 0 {
		t.Errorf("Gemm allocates %v times per call", allocs)
	}
}

// gemmBenchShapes are 1×1 convolutions of MiniFASNet (80×80 input) and UltraFace (240×320).
var gemmBenchShapes = []struct {
	name    string
	m, k, n int
}{
	{"MiniFAS_400x128x128", 400, 128, 128},
	{"MiniFAS_1600x64x128", 1600, 64, 128},
	{"MiniFAS_400x231x64", 400, 231, 64},
	{"MiniFAS_1600x32x112", 1600, 32, 112},
	{"MiniFAS_100x512x128", 100, 128, 512},
	{"Ultra_4800x16x32", 4800, 16, 32},
	{"Ultra_4800x32x64", 4800, 32, 64},
	{"Ultra_4800x64x64", 4800, 64, 64},
	{"Ultra_1200x64x128", 1200, 64, 128},
}

func BenchmarkGemm(b *testing.B) {
	for _, impl := range gemmImpls(b) {
		for _, s := range gemmBenchShapes {
			b.Run(impl.name+"/"+s.name, func(b *testing.B) {
				rng := rand.New(rand.NewPCG(7, 8))
				a, c := randSlice(rng, s.m*s.k), make([]float32, s.m*s.n)
				pb := PackB(s.k, s.n, randSlice(rng, s.k*s.n))
				ep := &Epilogue{Bias: randSlice(rng, s.n), Act: ActPReLU, Slope: randSlice(rng, s.n)}
				for b.Loop() {
					impl.fn(s.m, s.n, s.k, a, s.k, pb, c, s.n, ep)
				}
				b.ReportMetric(2*float64(s.m*s.n*s.k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
	}
}
