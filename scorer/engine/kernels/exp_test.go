package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// expClose reports whether got is e^x within the documented accuracy: a few ulp relative
// on the normal range, a few subnormal steps below it, and NaN, ±Inf and 0 exactly.
func expClose(got float32, x float32) bool {
	want := math.Exp(float64(x))
	switch {
	case math.IsNaN(float64(x)):
		return got != got
	case float32(want) > math.MaxFloat32 || math.IsInf(want, 1):
		return math.IsInf(float64(got), 1)
	}
	return math.Abs(float64(got)-want) <= 4e-7*want+3e-45
}

func TestExpMatchesReference(t *testing.T) {
	special := []float32{0, 1, -1, 0.5, -0.5, 1e-8, -1e-8, 10, -10, 80, 88, 88.72, 88.8, 89, 100,
		-80, -87.3, -88, -95, -103, -104, -110, -1000, 1000, float32(math.Inf(1)), float32(math.Inf(-1)),
		float32(math.NaN()), math.SmallestNonzeroFloat32, -math.SmallestNonzeroFloat32}
	rng := rand.New(rand.NewPCG(5, 6))
	for _, n := range []int{0, 1, 7, 8, 9, 15, 16, 17, 31, 100, 1000} {
		cases := []struct {
			name string
			x    []float32
		}{
			{"unit", randSlice(rng, n)},
			{"wide", scaled(randSlice(rng, n), 95)},
			{"special", cycle(special, n)},
		}
		for _, c := range cases {
			for _, v := range testVariants(t) {
				for _, inPlace := range []bool{false, true} {
					t.Run(fmt.Sprintf("%s/%s/n%d/inplace=%v", v, c.name, n, inPlace), func(t *testing.T) {
						src := append([]float32(nil), c.x...)
						dst := make([]float32, n+3)
						sentinel(dst)
						if inPlace {
							dst = append(src, -12345, -12345, -12345)
						}
						expWith(v, dst, src[:n])
						for i, x := range c.x {
							if !expClose(dst[i], x) {
								t.Errorf("exp(%v) = %v, want %v", x, dst[i], math.Exp(float64(x)))
							}
						}
						for i := n; i < len(dst); i++ {
							if dst[i] != -12345 {
								t.Fatalf("wrote dst[%d] = %v past the %d elements", i, dst[i], n)
							}
						}
					})
				}
			}
		}
	}
}

// scaled multiplies s by f in place and returns it.
func scaled(s []float32, f float32) []float32 {
	for i := range s {
		s[i] *= f
	}
	return s
}

// cycle returns n values taken from vals in turn.
func cycle(vals []float32, n int) []float32 {
	out := make([]float32, n)
	for i := range out {
		out[i] = vals[i%len(vals)]
	}
	return out
}

// refSoftmax is SoftmaxRows in float64.
func refSoftmax(src []float32, n int) []float64 {
	out := make([]float64, len(src))
	for o := 0; o < len(src); o += n {
		m := math.Inf(-1)
		for _, v := range src[o : o+n] {
			m = math.Max(m, float64(v))
		}
		var sum float64
		for j, v := range src[o : o+n] {
			out[o+j] = math.Exp(float64(v) - m)
			sum += out[o+j]
		}
		for j := range n {
			out[o+j] /= sum
		}
	}
	return out
}

func TestSoftmaxRowsMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for _, n := range []int{1, 2, 3, 5, 17} {
		for _, rows := range []int{1, 3, 4, 8, 9, 4420} {
			for _, spread := range []float32{1, 30, 1e4} {
				src := scaled(randSlice(rng, rows*n), spread)
				want := refSoftmax(src, n)
				for _, v := range testVariants(t) {
					for _, inPlace := range []bool{false, true} {
						t.Run(fmt.Sprintf("%s/n%d/rows%d/spread%g/inplace=%v", v, n, rows, spread, inPlace), func(t *testing.T) {
							x := append([]float32(nil), src...)
							dst := make([]float32, len(x)+2)
							sentinel(dst)
							if inPlace {
								dst = append(x, -12345, -12345)
							}
							softmaxWith(v, dst, x, n)
							for i, w := range want {
								if math.Abs(float64(dst[i])-w) > 1e-6 {
									t.Fatalf("[%d] = %v, want %v", i, dst[i], w)
								}
							}
							if dst[len(src)] != -12345 || dst[len(src)+1] != -12345 {
								t.Fatal("wrote past the output")
							}
						})
					}
				}
			}
		}
	}
}

func TestSoftmaxRowsRejectsRaggedRows(t *testing.T) {
	for _, c := range []struct{ len, n int }{{5, 2}, {4, 0}, {3, -1}} {
		t.Run(fmt.Sprintf("len%d/n%d", c.len, c.n), func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Error("no panic")
				}
			}()
			SoftmaxRows(make([]float32, c.len), make([]float32, c.len), c.n)
		})
	}
}

func BenchmarkExp(b *testing.B) {
	x := scaled(randSlice(rand.New(rand.NewPCG(1, 2)), 8840), 10)
	y := make([]float32, len(x))
	for _, v := range testVariants(b) {
		b.Run(v.String(), func(b *testing.B) {
			for b.Loop() {
				expWith(v, y, x)
			}
		})
	}
}

func BenchmarkSoftmaxPairs(b *testing.B) {
	x := scaled(randSlice(rand.New(rand.NewPCG(1, 2)), 8840), 10)
	y := make([]float32, len(x))
	for _, v := range testVariants(b) {
		b.Run(v.String(), func(b *testing.B) {
			for b.Loop() {
				softmaxWith(v, y, x, 2)
			}
		})
	}
}
