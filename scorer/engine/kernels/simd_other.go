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

// Accelerated reports whether the kernels run vectorised: never in this build.
func Accelerated() bool { return false }

// planarSIMD reports false: this build has no SIMD kernels.
func planarSIMD(x []float32, h, w int, pw *PlanarConvWeights, y []float32, oh, ow int, ep *Epilogue) bool {
	return false
}

// convDirectSIMD reports false: this build has no SIMD kernels.
func convDirectSIMD(x []float32, h, w int, cw *ConvWeights, y, scratch []float32, oh, ow int, ep *Epilogue) bool {
	return false
}
