//go:build !goexperiment.simd || !amd64

package kernels

// expSIMD reports false: this build has no SIMD kernels.
func expSIMD(v impl, dst, src []float32) bool { return false }

// softmaxPairsSIMD reports false: this build has no SIMD kernels.
func softmaxPairsSIMD(v impl, dst, src []float32) bool { return false }
