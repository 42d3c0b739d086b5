//go:build goexperiment.simd && amd64

package kernels

import (
	"simd/archsimd"
	"unsafe"
)

// gemmSIMD runs Gemm with the micro-kernels of variant v and reports whether it could
// (false for the portable variant).
func gemmSIMD(v impl, m, n, k int, a []float32, lda int, pb *PackedB, c []float32, ldc int, ep *Epilogue) bool {
	switch v {
	case implAVX512:
		gemmAVX512(m, n, k, a, lda, pb, c, ldc, ep)
	case implAVX2:
		gemmAVX2(m, n, k, a, lda, pb, c, ldc, ep)
	default:
		return false
	}
	return true
}

// gemmAVX512 runs the micro-kernels over blocks of A rows (gemmL2Floats at a time), each
// block against every B panel in turn.
func gemmAVX512(m, n, k int, a []float32, lda int, pb *PackedB, c []float32, ldc int, ep *Epilogue) {
	e := makeEpiPtrs(ep)
	ap := unsafe.Pointer(unsafe.SliceData(a))
	cp := unsafe.Pointer(unsafe.SliceData(c))
	mc := max(24, gemmL2Floats/k/24*24)
	var tileBuf [256 + 16]float32
	tile := align64(unsafe.Pointer(&tileBuf))
	// br: the epilogue is at most a bias and a ReLU, which the BR kernels apply as they
	// store (a residual may alias C and a PReLU needs its slopes: those go through a tile).
	br := e == nil || (e.res == nil && (e.act == ActNone || e.act == ActReLU))
	relu := e != nil && e.act == ActReLU
	var zero [panelWidth]float32 // the bias when there is none
	zp := unsafe.Pointer(&zero)
	for i0 := 0; i0 < m; i0 += mc {
		i1 := min(m, i0+mc)
		for j0 := 0; j0 < n; j0 += panelWidth {
			bs, w := pb.panel(j0)
			bp := unsafe.Pointer(unsafe.SliceData(bs))
			i := i0
			if w == panelWidth {
				if br {
					bias := zp
					if e != nil && e.bias != nil {
						bias = unsafe.Add(e.bias, j0*4)
					}
					for ; i+8 <= i1; i += 8 {
						avx512Gemm8x32BR(k, unsafe.Add(ap, i*lda*4), lda*4, bp, unsafe.Add(cp, (i*ldc+j0)*4), ldc*4, bias, relu)
					}
				}
				for ; i+8 <= i1; i += 8 {
					avx512Gemm8x32(k, unsafe.Add(ap, i*lda*4), lda*4, bp, tile)
					avx512Store8x32(tile, cp, i*ldc+j0, ldc, j0, e)
				}
				for ; i+3 <= i1; i += 3 {
					kern3x32(k, unsafe.Add(ap, i*lda*4), lda, bp, cp, i*ldc+j0, ldc, j0, e)
				}
				for ; i < i1; i++ {
					kern1x32(k, unsafe.Add(ap, i*lda*4), bp, cp, i*ldc+j0, j0, e)
				}
			} else {
				if br {
					bias := zp
					if e != nil && e.bias != nil {
						bias = unsafe.Add(e.bias, j0*4)
					}
					for ; i+12 <= i1; i += 12 {
						avx512Gemm12x16BR(k, unsafe.Add(ap, i*lda*4), lda*4, bp, unsafe.Add(cp, (i*ldc+j0)*4), ldc*4, bias, relu)
					}
				}
				for ; i+12 <= i1; i += 12 {
					avx512Gemm12x16(k, unsafe.Add(ap, i*lda*4), lda*4, bp, tile)
					store12x16(tile, cp, i*ldc+j0, ldc, j0, e)
				}
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
// MulAdd compiles to VFMADD213PS, which overwrites its receiver with the result, so every
// FMA whose receiver is still needed costs a register copy, and the loop-carried
// accumulators need another copy back at the end of each iteration. The loop is therefore
// unrolled twice and written so that each FMA's receiver is a value used for the last
// time: the A element of rows 0 and 1 is broadcast once per FMA (a broadcast costs less
// than the copy), row 2 and the B vectors take turns. Three rows, not four: the scheduler
// hoists the loads and broadcasts of an iteration above its FMAs, and with four rows they
// no longer fit in the 15 allocatable vector registers. This measured 95 GFLOP/s against
// 75 for the straightforward loop.
func kern3x32(k int, a unsafe.Pointer, lda int, b unsafe.Pointer, c unsafe.Pointer, co, ldc, j int, e *epiPtrs) {
	var c00, c01, c10, c11, c20, c21 vec
	a1, a2 := lda*4, 2*lda*4
	kk := 0
	for ; kk+2 <= k; kk += 2 {
		b0 := archsimd.LoadFloat32x16((*[16]float32)(b))
		b1 := archsimd.LoadFloat32x16((*[16]float32)(unsafe.Add(b, 64)))
		x0 := archsimd.BroadcastFloat32x16(*(*float32)(a))
		c00 = x0.MulAdd(b0, c00)
		x0 = archsimd.BroadcastFloat32x16(*(*float32)(a))
		c01 = x0.MulAdd(b1, c01)
		x1 := archsimd.BroadcastFloat32x16(*(*float32)(unsafe.Add(a, a1)))
		c10 = x1.MulAdd(b0, c10)
		x1 = archsimd.BroadcastFloat32x16(*(*float32)(unsafe.Add(a, a1)))
		c11 = x1.MulAdd(b1, c11)
		x2 := archsimd.BroadcastFloat32x16(*(*float32)(unsafe.Add(a, a2)))
		c20 = b0.MulAdd(x2, c20)
		c21 = x2.MulAdd(b1, c21)
		b0 = archsimd.LoadFloat32x16((*[16]float32)(unsafe.Add(b, 128)))
		b1 = archsimd.LoadFloat32x16((*[16]float32)(unsafe.Add(b, 192)))
		x0 = archsimd.BroadcastFloat32x16(*(*float32)(unsafe.Add(a, 4)))
		c00 = x0.MulAdd(b0, c00)
		x0 = archsimd.BroadcastFloat32x16(*(*float32)(unsafe.Add(a, 4)))
		c01 = x0.MulAdd(b1, c01)
		x1 = archsimd.BroadcastFloat32x16(*(*float32)(unsafe.Add(a, a1+4)))
		c10 = x1.MulAdd(b0, c10)
		x1 = archsimd.BroadcastFloat32x16(*(*float32)(unsafe.Add(a, a1+4)))
		c11 = x1.MulAdd(b1, c11)
		x2 = archsimd.BroadcastFloat32x16(*(*float32)(unsafe.Add(a, a2+4)))
		c20 = b0.MulAdd(x2, c20)
		c21 = x2.MulAdd(b1, c21)
		if kk+2 < k { // never form a pointer past the end of A or B
			a = unsafe.Add(a, 8)
			b = unsafe.Add(b, 256)
		}
	}
	if kk < k { // odd k: a and b point at element k-1
		b0 := archsimd.LoadFloat32x16((*[16]float32)(b))
		b1 := archsimd.LoadFloat32x16((*[16]float32)(unsafe.Add(b, 64)))
		x0 := archsimd.BroadcastFloat32x16(*(*float32)(a))
		x1 := archsimd.BroadcastFloat32x16(*(*float32)(unsafe.Add(a, a1)))
		x2 := archsimd.BroadcastFloat32x16(*(*float32)(unsafe.Add(a, a2)))
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
	// The broadcasts are the FMAs' receivers: each is used once, so no register copies (see
	// kern3x32); unrolled twice to halve the accumulator moves at the loop's end.
	kk := 0
	for ; kk+2 <= k; kk += 2 {
		b0 := archsimd.LoadFloat32x16((*[16]float32)(unsafe.Add(b, kk*64)))
		c0 = archsimd.BroadcastFloat32x16(*(*float32)(unsafe.Add(a, kk*4))).MulAdd(b0, c0)
		c1 = archsimd.BroadcastFloat32x16(*(*float32)(unsafe.Add(a, (a1+kk)*4))).MulAdd(b0, c1)
		c2 = archsimd.BroadcastFloat32x16(*(*float32)(unsafe.Add(a, (a2+kk)*4))).MulAdd(b0, c2)
		c3 = archsimd.BroadcastFloat32x16(*(*float32)(unsafe.Add(a, (a3+kk)*4))).MulAdd(b0, c3)
		b1 := archsimd.LoadFloat32x16((*[16]float32)(unsafe.Add(b, kk*64+64)))
		c0 = archsimd.BroadcastFloat32x16(*(*float32)(unsafe.Add(a, kk*4+4))).MulAdd(b1, c0)
		c1 = archsimd.BroadcastFloat32x16(*(*float32)(unsafe.Add(a, (a1+kk)*4+4))).MulAdd(b1, c1)
		c2 = archsimd.BroadcastFloat32x16(*(*float32)(unsafe.Add(a, (a2+kk)*4+4))).MulAdd(b1, c2)
		c3 = archsimd.BroadcastFloat32x16(*(*float32)(unsafe.Add(a, (a3+kk)*4+4))).MulAdd(b1, c3)
	}
	if kk < k {
		b0 := load(b, kk*16)
		c0 = bcast(a, kk).MulAdd(b0, c0)
		c1 = bcast(a, a1+kk).MulAdd(b0, c1)
		c2 = bcast(a, a2+kk).MulAdd(b0, c2)
		c3 = bcast(a, a3+kk).MulAdd(b0, c3)
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

// avx512Gemm8x32 (assembly, gemm_avx512_amd64.s) writes the 8×32 product of 8 rows of A at
// a (lda bytes apart) and the packed 32-column B panel at b, k ≥ 1, to the 256 floats at
// tile (64-byte aligned), row after row. In assembly the 16 accumulators live in Z16–Z31,
// registers the compiler does not allocate.
//
//go:noescape
func avx512Gemm8x32(k int, a unsafe.Pointer, lda int, b unsafe.Pointer, tile unsafe.Pointer)

// avx512Gemm8x32BR (assembly, gemm_avx512_amd64.s) is avx512Gemm8x32 storing straight to
// C at c (rows ldc bytes apart) after adding the 32 floats at bias and, if relu, clamping
// at zero.
//
//go:noescape
func avx512Gemm8x32BR(k int, a unsafe.Pointer, lda int, b unsafe.Pointer, c unsafe.Pointer, ldc int, bias unsafe.Pointer, relu bool)

// avx512Gemm12x16BR is avx512Gemm12x16 with avx512Gemm8x32BR's fused bias and ReLU.
//
//go:noescape
func avx512Gemm12x16BR(k int, a unsafe.Pointer, lda int, b unsafe.Pointer, c unsafe.Pointer, ldc int, bias unsafe.Pointer, relu bool)

// avx512Gemm12x16 (assembly, gemm_avx512_amd64.s) is avx512Gemm8x32 for a 16-column B
// panel and 12 rows of A, to the 192 floats at tile (64-byte aligned).
//
//go:noescape
func avx512Gemm12x16(k int, a unsafe.Pointer, lda int, b unsafe.Pointer, tile unsafe.Pointer)

// avx512Store8x32 applies e to the 8×32 tile t and stores it at element co of c (row
// stride ldc, output channel j). The tile is apart from c so that a residual aliasing c
// is read before it is overwritten.
func avx512Store8x32(t unsafe.Pointer, c unsafe.Pointer, co, ldc, j int, e *epiPtrs) {
	for r := 0; r < 8; r++ {
		v0 := load(t, r*32)
		v1 := load(t, r*32+16)
		o := co + r*ldc
		if e != nil {
			v0 = e.finish(v0, j, o)
			v1 = e.finish(v1, j+16, o+16)
		}
		v0.Store(ptrAt(c, o))
		v1.Store(ptrAt(c, o+16))
	}
	archsimd.ClearAVXUpperBits()
}

// align64 returns p rounded up to a multiple of 64 bytes (p must have 64 bytes to spare).
func align64(p unsafe.Pointer) unsafe.Pointer {
	return unsafe.Add(p, (64-uintptr(p)%64)%64)
}
