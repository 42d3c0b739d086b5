//go:build !(goexperiment.simd && amd64)

package preprocess

// row420SIMD is the vector part of row420; without simd/archsimd there is none, and it converts
// no columns.
func row420SIMD(out, yRow, cbNear, cbFar, crNear, crFar []uint8) int { return 0 }
