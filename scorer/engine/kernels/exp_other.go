//go:build !goexperiment.simd || !amd64

package kernels

// expSIMD reports false: this build has no SIMD kernels.
func expSIMD(v impl, dst, src []float32) bool { return false }

// softmaxPairsSIMD reports false: this build has no SIMD kernels.
func softmaxPairsSIMD(v impl, dst, src []float32) bool { return false }

// blendSIMD reports false: this build has no SIMD kernels.
func blendSIMD(v impl, dst []float32, r0, r1 []int32, b0, b1 int32, sub, scale float32) bool {
	return false
}
