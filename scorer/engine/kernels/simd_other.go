//go:build !arm64 && !(goexperiment.simd && amd64)

package kernels

// cpuRuns reports whether this build can run variant v: only the portable one.
func cpuRuns(v impl) bool { return v == implPortable }

// whyNot says why cpuRuns(v) is false.
func whyNot(v impl) string {
	if v == implPortable {
		return ""
	}
	return "this build has no SIMD kernels (build with GOEXPERIMENT=simd on amd64; arm64 builds have NEON)"
}

// gemmSIMD reports false: this build has no SIMD kernels, so Gemm uses gemmPortable.
func gemmSIMD(v impl, m, n, k int, a []float32, lda int, pb *PackedB, c []float32, ldc int, ep *Epilogue) bool {
	return false
}

// depthwiseSIMD reports false: this build has no SIMD kernels.
func depthwiseSIMD(v impl, x []float32, h, w int, dw *DepthwiseWeights, y []float32, oh, ow int, ep *Epilogue) bool {
	return false
}

// planarSIMD reports false: this build has no SIMD kernels.
func planarSIMD(v impl, x []float32, h, w int, pw *PlanarConvWeights, y []float32, oh, ow int, ep *Epilogue) bool {
	return false
}

// convDirectSIMD reports false: this build has no SIMD kernels.
func convDirectSIMD(v impl, x []float32, h, w int, cw *ConvWeights, y, scratch []float32, oh, ow int, ep *Epilogue) bool {
	return false
}
