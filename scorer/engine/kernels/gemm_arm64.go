package kernels

import "unsafe"

// gemmSIMD runs Gemm with the NEON micro-kernel and reports whether it could (false for
// the portable variant).
func gemmSIMD(v impl, m, n, k int, a []float32, lda int, pb *PackedB, c []float32, ldc int, ep *Epilogue) bool {
	if v != implNEON {
		return false
	}
	gemmNEON(m, n, k, a, lda, pb, c, ldc, ep)
	return true
}

// gemmNEON runs neonGemm6x16 over blocks of A rows (gemmL2Floats at a time), each block
// against every B panel in turn, 16 columns of a panel at a time. The last rows of a
// block (fewer than 6) go through the same tile with their last row repeated, only the
// real rows being stored.
func gemmNEON(m, n, k int, a []float32, lda int, pb *PackedB, c []float32, ldc int, ep *Epilogue) {
	e := makeNEONEpi(ep)
	ap := unsafe.Pointer(unsafe.SliceData(a))
	cp := unsafe.Pointer(unsafe.SliceData(c))
	mc := max(6, gemmL2Floats/k/6*6)
	var tile [96]float32
	var rows [6]unsafe.Pointer
	for i0 := 0; i0 < m; i0 += mc {
		i1 := min(m, i0+mc)
		for j0 := 0; j0 < n; j0 += panelWidth {
			bs, w := pb.panel(j0)
			bp := unsafe.Pointer(unsafe.SliceData(bs))
			for h := 0; h < w; h += Lanes {
				for i := i0; i < i1; i += 6 {
					r := min(6, i1-i)
					for q := range rows {
						rows[q] = unsafe.Add(ap, (i+min(q, r-1))*lda*4)
					}
					neonGemm6x16(k, &rows, unsafe.Add(bp, h*4), w*4, &tile)
					e.store(unsafe.Pointer(&tile), r, Lanes*4, cp, i*ldc+j0+h, ldc*4, j0+h)
				}
			}
		}
	}
}

// neonGemm6x16 (assembly, gemm_arm64.s) writes the 6×16 product of the rows of A at
// a[0..5] and 16 columns of a packed B panel at b (rows bs bytes apart), k ≥ 1, to tile,
// row after row.
//
//go:noescape
func neonGemm6x16(k int, a *[6]unsafe.Pointer, b unsafe.Pointer, bs int, tile *[96]float32)
