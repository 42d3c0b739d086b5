//go:build !goexperiment.simd || !amd64

package kernels

// gemmSIMD reports false: this build has no SIMD kernels, so Gemm uses gemmPortable.
func gemmSIMD(m, n, k int, a []float32, lda int, pb *PackedB, c []float32, ldc int, ep *Epilogue) bool {
	return false
}

// depthwiseSIMD reports false: this build has no SIMD kernels.
func depthwiseSIMD(x []float32, h, w int, dw *DepthwiseWeights, y []float32, oh, ow int, ep *Epilogue) bool {
	return false
}
