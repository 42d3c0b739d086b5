//go:build !(goexperiment.simd && amd64)

package jpeg

// idctFast is idctIslow; only the simd/archsimd amd64 build has a vector version.
func idctFast(dst []byte, stride int, coef, quant *block) { idctIslow(dst, stride, coef, quant) }
