//go:build goexperiment.simd && amd64

package kernels

import (
	"simd/archsimd"
	"unsafe"
)

// gemmSIMD runs Gemm with the AVX-512 micro-kernels and reports whether it could.
func gemmSIMD(m, n, k int, a []float32, lda int, pb *PackedB, c []float32, ldc int, ep *Epilogue) bool {
	if !archsimd.X86.AVX512() {
		return false
	}
	gemmAVX512(m, n, k, a, lda, pb, c, ldc, ep)
	return true
}

// gemmL2Floats bounds the block of A rows kept hot while every B panel passes over it.
const gemmL2Floats = 32 << 10

// gemmAVX512 runs the micro-kernels over blocks of A rows (gemmL2Floats at a time), each
// block against every B panel in turn.
func gemmAVX512(m, n, k int, a []float32, lda int, pb *PackedB, c []float32, ldc int, ep *Epilogue) {
	e := makeEpiPtrs(ep)
	ap := unsafe.Pointer(unsafe.SliceData(a))
	cp := unsafe.Pointer(unsafe.SliceData(c))
	mc := max(12, gemmL2Floats/k/12*12)
	for i0 := 0; i0 < m; i0 += mc {
		i1 := min(m, i0+mc)
		for j0 := 0; j0 < n; j0 += panelWidth {
			bs, w := pb.panel(j0)
			bp := unsafe.Pointer(unsafe.SliceData(bs))
			i := i0
			if w == panelWidth {
				for ; i+3 <= i1; i += 3 {
					kern3x32(k, unsafe.Add(ap, i*lda*4), lda, bp, cp, i*ldc+j0, ldc, j0, e)
				}
				for ; i < i1; i++ {
					kern1x32(k, unsafe.Add(ap, i*lda*4), bp, cp, i*ldc+j0, j0, e)
				}
			} else {
				for ; i+4 <= i1; i += 4 {
					kern4x16(k, unsafe.Add(ap, i*lda*4), lda, bp, cp, i*ldc+j0, ldc, j0, e)
				}
				for ; i < i1; i++ {
					kern1x16(k, unsafe.Add(ap, i*lda*4), bp, cp, i*ldc+j0, j0, e)
				}
			}
		}
	}
}

// kern3x32 computes the 3×32 tile of C at element co (row stride ldc, output channel j)
// from 3 rows of A at a (stride lda) and a 32-wide B panel.
//
// Three rows, not four: MulAdd compiles to VFMADD213PS, which overwrites its receiver, so
// each product needs a register copy of B, and the scheduler hoists every load and
// broadcast of an iteration above its FMAs. 6 accumulators + 2 B + 3 broadcasts + 1 copy
// fit in the 15 allocatable vector registers; the 4-row tile spills and runs slower.
func kern3x32(k int, a unsafe.Pointer, lda int, b unsafe.Pointer, c unsafe.Pointer, co, ldc, j int, e *epiPtrs) {
	var c00, c01, c10, c11, c20, c21 vec
	a1, a2 := lda, 2*lda
	for kk := 0; kk < k; kk++ {
		b0, b1 := load(b, kk*32), load(b, kk*32+16)
		x0, x1, x2 := bcast(a, kk), bcast(a, a1+kk), bcast(a, a2+kk)
		c00 = b0.MulAdd(x0, c00)
		c01 = b1.MulAdd(x0, c01)
		c10 = b0.MulAdd(x1, c10)
		c11 = b1.MulAdd(x1, c11)
		c20 = b0.MulAdd(x2, c20)
		c21 = b1.MulAdd(x2, c21)
	}
	if e != nil {
		c00 = e.finish(c00, j, co)
		c01 = e.finish(c01, j+16, co+16)
		c10 = e.finish(c10, j, co+ldc)
		c11 = e.finish(c11, j+16, co+ldc+16)
		c20 = e.finish(c20, j, co+2*ldc)
		c21 = e.finish(c21, j+16, co+2*ldc+16)
	}
	c00.Store(ptrAt(c, co))
	c01.Store(ptrAt(c, co+16))
	c10.Store(ptrAt(c, co+ldc))
	c11.Store(ptrAt(c, co+ldc+16))
	c20.Store(ptrAt(c, co+2*ldc))
	c21.Store(ptrAt(c, co+2*ldc+16))
	archsimd.ClearAVXUpperBits()
}

// kern1x32 is kern3x32 for a single row.
func kern1x32(k int, a unsafe.Pointer, b unsafe.Pointer, c unsafe.Pointer, co, j int, e *epiPtrs) {
	var c00, c01 vec
	for kk := 0; kk < k; kk++ {
		x := bcast(a, kk)
		c00 = load(b, kk*32).MulAdd(x, c00)
		c01 = load(b, kk*32+16).MulAdd(x, c01)
	}
	if e != nil {
		c00 = e.finish(c00, j, co)
		c01 = e.finish(c01, j+16, co+16)
	}
	c00.Store(ptrAt(c, co))
	c01.Store(ptrAt(c, co+16))
	archsimd.ClearAVXUpperBits()
}

// kern4x16 is kern3x32 for a 16-wide B panel.
func kern4x16(k int, a unsafe.Pointer, lda int, b unsafe.Pointer, c unsafe.Pointer, co, ldc, j int, e *epiPtrs) {
	var c0, c1, c2, c3 vec
	a1, a2, a3 := lda, 2*lda, 3*lda
	for kk := 0; kk < k; kk++ {
		b0 := load(b, kk*16)
		c0 = b0.MulAdd(bcast(a, kk), c0)
		c1 = b0.MulAdd(bcast(a, a1+kk), c1)
		c2 = b0.MulAdd(bcast(a, a2+kk), c2)
		c3 = b0.MulAdd(bcast(a, a3+kk), c3)
	}
	if e != nil {
		c0 = e.finish(c0, j, co)
		c1 = e.finish(c1, j, co+ldc)
		c2 = e.finish(c2, j, co+2*ldc)
		c3 = e.finish(c3, j, co+3*ldc)
	}
	c0.Store(ptrAt(c, co))
	c1.Store(ptrAt(c, co+ldc))
	c2.Store(ptrAt(c, co+2*ldc))
	c3.Store(ptrAt(c, co+3*ldc))
	archsimd.ClearAVXUpperBits()
}

// kern1x16 is kern4x16 for a single row.
func kern1x16(k int, a unsafe.Pointer, b unsafe.Pointer, c unsafe.Pointer, co, j int, e *epiPtrs) {
	var c0 vec
	for kk := 0; kk < k; kk++ {
		c0 = load(b, kk*16).MulAdd(bcast(a, kk), c0)
	}
	if e != nil {
		c0 = e.finish(c0, j, co)
	}
	c0.Store(ptrAt(c, co))
	archsimd.ClearAVXUpperBits()
}
