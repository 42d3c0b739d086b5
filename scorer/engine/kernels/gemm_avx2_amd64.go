//go:build goexperiment.simd && amd64

package kernels

import (
	"simd/archsimd"
	"unsafe"
)

// gemmAVX2 is gemmAVX512 for CPUs with AVX2 and FMA but no AVX-512: the same blocking over
// rows of A and the same packed B, but each B panel is taken 16 columns (two 8-wide
// vectors) at a time, the packed rows of a 32-column panel being 32 floats apart.
//
// The micro-kernel is 6 rows × 16 columns in assembly (avx2Gemm6x16: 12 accumulators, 2
// B vectors and a broadcast, 15 of the 16 YMM registers), its epilogue in Go on the tile;
// the last rows of a block go through 4×16 and 1×16 tiles written with archsimd.
func gemmAVX2(m, n, k int, a []float32, lda int, pb *PackedB, c []float32, ldc int, ep *Epilogue) {
	e := makeEpiPtrs(ep)
	ap := unsafe.Pointer(unsafe.SliceData(a))
	cp := unsafe.Pointer(unsafe.SliceData(c))
	mc := max(12, gemmL2Floats/k/12*12)
	var tile [96]float32
	// br: at most a bias and a ReLU, applied by avx2Gemm6x16BR as it stores (a residual
	// may alias C, a PReLU needs its slopes: those go through the tile).
	br := e == nil || (e.res == nil && (e.act == ActNone || e.act == ActReLU))
	relu := e != nil && e.act == ActReLU
	var zero [Lanes]float32 // the bias when there is none
	zp := unsafe.Pointer(&zero)
	for i0 := 0; i0 < m; i0 += mc {
		i1 := min(m, i0+mc)
		for j0 := 0; j0 < n; j0 += panelWidth {
			bs, w := pb.panel(j0)
			bp := unsafe.Pointer(unsafe.SliceData(bs))
			for h := 0; h < w; h += Lanes {
				b := unsafe.Add(bp, h*4)
				i := i0
				if br {
					bias := zp
					if e != nil && e.bias != nil {
						bias = unsafe.Add(e.bias, (j0+h)*4)
					}
					for ; i+6 <= i1; i += 6 {
						avx2Gemm6x16BR(k, unsafe.Add(ap, i*lda*4), lda*4, b, w*4, unsafe.Add(cp, (i*ldc+j0+h)*4), ldc*4, bias, relu)
					}
				}
				for ; i+6 <= i1; i += 6 {
					avx2Gemm6x16(k, unsafe.Add(ap, i*lda*4), lda*4, b, w*4, &tile)
					avx2Store6x16(&tile, cp, i*ldc+j0+h, ldc, j0+h, e)
				}
				for ; i+4 <= i1; i += 4 {
					avx2Kern4x16(k, unsafe.Add(ap, i*lda*4), lda, b, w*4, cp, i*ldc+j0+h, ldc, j0+h, e)
				}
				for ; i < i1; i++ {
					avx2Kern1x16(k, unsafe.Add(ap, i*lda*4), b, w*4, cp, i*ldc+j0+h, j0+h, e)
				}
			}
		}
	}
}

// avx2Kern4x16 computes the 4×16 tile of C at element co (row stride ldc, output channel
// j) from 4 rows of A at a (stride lda floats) and 16 columns of a packed B panel at b
// whose rows are bs bytes apart. Written as kern3x32 is, for the same reasons: every
// FMA's receiver is a value used for the last time, unrolled twice.
func avx2Kern4x16(k int, a unsafe.Pointer, lda int, b unsafe.Pointer, bs int, c unsafe.Pointer, co, ldc, j int, e *epiPtrs) {
	var c00, c01, c10, c11, c20, c21, c30, c31 vec8
	a1, a2, a3 := lda*4, 2*lda*4, 3*lda*4
	kk := 0
	for ; kk+2 <= k; kk += 2 {
		b0 := archsimd.LoadFloat32x8((*[8]float32)(b))
		b1 := archsimd.LoadFloat32x8((*[8]float32)(unsafe.Add(b, 32)))
		x0 := archsimd.BroadcastFloat32x8(*(*float32)(a))
		c00 = x0.MulAdd(b0, c00)
		x0 = archsimd.BroadcastFloat32x8(*(*float32)(a))
		c01 = x0.MulAdd(b1, c01)
		x1 := archsimd.BroadcastFloat32x8(*(*float32)(unsafe.Add(a, a1)))
		c10 = x1.MulAdd(b0, c10)
		x1 = archsimd.BroadcastFloat32x8(*(*float32)(unsafe.Add(a, a1)))
		c11 = x1.MulAdd(b1, c11)
		x2 := archsimd.BroadcastFloat32x8(*(*float32)(unsafe.Add(a, a2)))
		c20 = x2.MulAdd(b0, c20)
		x2 = archsimd.BroadcastFloat32x8(*(*float32)(unsafe.Add(a, a2)))
		c21 = x2.MulAdd(b1, c21)
		x3 := archsimd.BroadcastFloat32x8(*(*float32)(unsafe.Add(a, a3)))
		c30 = b0.MulAdd(x3, c30)
		c31 = x3.MulAdd(b1, c31)
		b = unsafe.Add(b, bs)
		b0 = archsimd.LoadFloat32x8((*[8]float32)(b))
		b1 = archsimd.LoadFloat32x8((*[8]float32)(unsafe.Add(b, 32)))
		x0 = archsimd.BroadcastFloat32x8(*(*float32)(unsafe.Add(a, 4)))
		c00 = x0.MulAdd(b0, c00)
		x0 = archsimd.BroadcastFloat32x8(*(*float32)(unsafe.Add(a, 4)))
		c01 = x0.MulAdd(b1, c01)
		x1 = archsimd.BroadcastFloat32x8(*(*float32)(unsafe.Add(a, a1+4)))
		c10 = x1.MulAdd(b0, c10)
		x1 = archsimd.BroadcastFloat32x8(*(*float32)(unsafe.Add(a, a1+4)))
		c11 = x1.MulAdd(b1, c11)
		x2 = archsimd.BroadcastFloat32x8(*(*float32)(unsafe.Add(a, a2+4)))
		c20 = x2.MulAdd(b0, c20)
		x2 = archsimd.BroadcastFloat32x8(*(*float32)(unsafe.Add(a, a2+4)))
		c21 = x2.MulAdd(b1, c21)
		x3 = archsimd.BroadcastFloat32x8(*(*float32)(unsafe.Add(a, a3+4)))
		c30 = b0.MulAdd(x3, c30)
		c31 = x3.MulAdd(b1, c31)
		if kk+2 < k { // never form a pointer past the end of A or B
			a = unsafe.Add(a, 8)
			b = unsafe.Add(b, bs)
		}
	}
	if kk < k { // odd k: a and b point at element k-1
		b0 := archsimd.LoadFloat32x8((*[8]float32)(b))
		b1 := archsimd.LoadFloat32x8((*[8]float32)(unsafe.Add(b, 32)))
		x0 := archsimd.BroadcastFloat32x8(*(*float32)(a))
		x1 := archsimd.BroadcastFloat32x8(*(*float32)(unsafe.Add(a, a1)))
		x2 := archsimd.BroadcastFloat32x8(*(*float32)(unsafe.Add(a, a2)))
		x3 := archsimd.BroadcastFloat32x8(*(*float32)(unsafe.Add(a, a3)))
		c00 = b0.MulAdd(x0, c00)
		c01 = b1.MulAdd(x0, c01)
		c10 = b0.MulAdd(x1, c10)
		c11 = b1.MulAdd(x1, c11)
		c20 = b0.MulAdd(x2, c20)
		c21 = b1.MulAdd(x2, c21)
		c30 = b0.MulAdd(x3, c30)
		c31 = b1.MulAdd(x3, c31)
	}
	if e != nil {
		c00 = e.finish8(c00, j, co)
		c01 = e.finish8(c01, j+8, co+8)
		c10 = e.finish8(c10, j, co+ldc)
		c11 = e.finish8(c11, j+8, co+ldc+8)
		c20 = e.finish8(c20, j, co+2*ldc)
		c21 = e.finish8(c21, j+8, co+2*ldc+8)
		c30 = e.finish8(c30, j, co+3*ldc)
		c31 = e.finish8(c31, j+8, co+3*ldc+8)
	}
	c00.Store(ptr8(c, co))
	c01.Store(ptr8(c, co+8))
	c10.Store(ptr8(c, co+ldc))
	c11.Store(ptr8(c, co+ldc+8))
	c20.Store(ptr8(c, co+2*ldc))
	c21.Store(ptr8(c, co+2*ldc+8))
	c30.Store(ptr8(c, co+3*ldc))
	c31.Store(ptr8(c, co+3*ldc+8))
	archsimd.ClearAVXUpperBits()
}

// avx2Kern1x16 is avx2Kern4x16 for a single row.
func avx2Kern1x16(k int, a unsafe.Pointer, b unsafe.Pointer, bs int, c unsafe.Pointer, co, j int, e *epiPtrs) {
	var c0, c1 vec8
	for kk := 0; kk < k; kk++ {
		x := bcast8(a, kk)
		bk := unsafe.Add(b, kk*bs)
		c0 = archsimd.LoadFloat32x8((*[8]float32)(bk)).MulAdd(x, c0)
		c1 = archsimd.LoadFloat32x8((*[8]float32)(unsafe.Add(bk, 32))).MulAdd(x, c1)
	}
	if e != nil {
		c0 = e.finish8(c0, j, co)
		c1 = e.finish8(c1, j+8, co+8)
	}
	c0.Store(ptr8(c, co))
	c1.Store(ptr8(c, co+8))
	archsimd.ClearAVXUpperBits()
}

// avx2Gemm6x16 (assembly, gemm_avx2_amd64.s) writes the 6×16 product of 6 rows of A at a
// (lda bytes apart) and 16 columns of a packed B panel at b (rows bs bytes apart), k ≥ 1,
// to tile, row after row. It is assembly because the compiler spills a 6×16 tile (12
// accumulators) written with archsimd: it loads every broadcast scalar into its own
// register first and its FMAs overwrite a multiplicand, not the accumulator.
//
//go:noescape
func avx2Gemm6x16(k int, a unsafe.Pointer, lda int, b unsafe.Pointer, bs int, tile *[96]float32)

// avx2Gemm6x16BR (assembly, gemm_avx2_amd64.s) is avx2Gemm6x16 storing straight to C at c
// (rows ldc bytes apart) after adding the 16 floats at bias and, if relu, clamping at zero.
//
//go:noescape
func avx2Gemm6x16BR(k int, a unsafe.Pointer, lda int, b unsafe.Pointer, bs int, c unsafe.Pointer, ldc int, bias unsafe.Pointer, relu bool)

// avx2Store6x16 applies e to the 6×16 tile and stores it at element co of c (row stride
// ldc, output channel j). The tile is apart from c so that a residual aliasing c is read
// before it is overwritten.
func avx2Store6x16(tile *[96]float32, c unsafe.Pointer, co, ldc, j int, e *epiPtrs) {
	t := unsafe.Pointer(tile)
	for r := 0; r < 6; r++ {
		v0 := load8(t, r*16)
		v1 := load8(t, r*16+8)
		o := co + r*ldc
		if e != nil {
			v0 = e.finish8(v0, j, o)
			v1 = e.finish8(v1, j+8, o+8)
		}
		v0.Store(ptr8(c, o))
		v1.Store(ptr8(c, o+8))
	}
	archsimd.ClearAVXUpperBits()
}
