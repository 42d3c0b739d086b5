package kernels

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// refBlend is ResizeBlend written out for one element, in int64 so that nothing wraps.
func refBlend(a, b, b0, b1 int32, sub, scale float32) float32 {
	p := ((int64(a)>>4)*int64(b0))>>16 + ((int64(b)>>4)*int64(b1))>>16
	v := min(max((p+2)>>2, 0), 255)
	return (float32(v) - sub) * scale
}

func TestResizeBlendMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	// Rows as the horizontal pass makes them: 8-bit values times weights summing to 2048,
	// one of them negative where an upscale extrapolates at the border.
	hrow := func(n int) []int32 {
		r := make([]int32, n)
		for i := range r {
			a0 := int32(rng.IntN(2600)) - 300
			r[i] = int32(rng.IntN(256))*a0 + int32(rng.IntN(256))*(2048-a0)
		}
		return r
	}
	weights := [][2]int32{{2048, 0}, {0, 2048}, {1024, 1024}, {1536, 512}, {2560, -512}, {-300, 2348}, {1, 2047}}
	norms := [][2]float32{{0, 1}, {127, 1.0 / 128}}
	for _, n := range []int{0, 1, 7, 8, 15, 16, 17, 240, 960} {
		for _, w := range weights {
			for _, nm := range norms {
				r0, r1 := hrow(n), hrow(n)
				for _, v := range testVariants(t) {
					t.Run(fmt.Sprintf("%s/n%d/w%d,%d/sub%g", v, n, w[0], w[1], nm[0]), func(t *testing.T) {
						dst := make([]float32, n+2)
						sentinel(dst)
						blendWith(v, dst, r0, r1, w[0], w[1], nm[0], nm[1])
						for i := range n {
							if want := refBlend(r0[i], r1[i], w[0], w[1], nm[0], nm[1]); dst[i] != want {
								t.Fatalf("[%d] = %v, want %v (rows %d, %d)", i, dst[i], want, r0[i], r1[i])
							}
						}
						if dst[n] != -12345 || dst[n+1] != -12345 {
							t.Fatal("wrote past the output")
						}
					})
				}
			}
		}
	}
}
