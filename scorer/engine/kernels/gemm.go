package kernels

import (
	"fmt"
	"unsafe"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
)

// panelWidth is the number of B columns in one packed panel (two AVX-512 vectors). A B
// whose column count n is an odd multiple of 16 ends with one 16-column panel.
const panelWidth = 32

// PackedB is the right-hand matrix of [Gemm] rearranged once, at load time, into column
// panels: for each panel of 32 columns (the last one may be 16 wide) its k rows are stored
// contiguously, 32 (or 16) floats per row. It is read-only after [PackB] and may be shared
// by concurrent Gemm calls.
type PackedB struct {
	k, n int
	data []float32
	// rows is b as it was given, k×n row-major: what the portable Gemm hands gonum.
	rows []float32
}

// K returns the number of rows (the reduction length) of the packed matrix.
func (p *PackedB) K() int { return p.k }

// N returns the number of columns of the packed matrix, a multiple of 16.
func (p *PackedB) N() int { return p.n }

// PackB packs the k×n row-major matrix b (row stride n) for [Gemm]. n must be a positive
// multiple of 16 (pad output channels with zero columns) and k positive.
func PackB(k, n int, b []float32) *PackedB {
	if k < 1 || n < 1 || n%Lanes != 0 {
		panic(fmt.Sprintf("kernels: PackB: k=%d n=%d; want k ≥ 1 and n a positive multiple of %d", k, n, Lanes))
	}
	if len(b) < k*n {
		panic(fmt.Sprintf("kernels: PackB: b has %d elements, want ≥ %d", len(b), k*n))
	}
	p := &PackedB{k: k, n: n, data: make([]float32, k*n), rows: append([]float32(nil), b[:k*n]...)}
	off := 0
	for j0 := 0; j0 < n; j0 += panelWidth {
		w := min(panelWidth, n-j0)
		for kk := 0; kk < k; kk++ {
			copy(p.data[off:off+w], b[kk*n+j0:kk*n+j0+w])
			off += w
		}
	}
	return p
}

// panel returns the packed rows of the panel starting at column j0 and its width.
func (p *PackedB) panel(j0 int) ([]float32, int) {
	w := min(panelWidth, p.n-j0)
	return p.data[j0*p.k : j0*p.k+w*p.k], w
}

// Gemm computes C = epilogue(A·B) for the m×k matrix a (row stride lda ≥ k), the packed
// k×n matrix pb and the m×n matrix c (row stride ldc ≥ n):
//
//	c[i*ldc+j] = act(Σ_kk a[i*lda+kk]·B[kk][j] + Bias[j]) + Residual[i*ldc+j]
//
// Columns of c beyond n and the elements a[i*lda+kk] for kk ≥ k are neither read nor
// written. It is the 1×1 convolution of an NHWC tensor: m = H·W pixels, a = the input with
// lda = its padded channel count, k = its real (or padded) input channel count and n = the
// padded output channel count. Gemm allocates nothing. It panics if a slice is too short.
func Gemm(m, n, k int, a []float32, lda int, pb *PackedB, c []float32, ldc int, ep *Epilogue) {
	gemmWith(selected, m, n, k, a, lda, pb, c, ldc, ep)
}

// gemmWith is Gemm with kernel variant v, which the CPU must support.
func gemmWith(v impl, m, n, k int, a []float32, lda int, pb *PackedB, c []float32, ldc int, ep *Epilogue) {
	checkGemm(m, n, k, a, lda, pb, c, ldc, ep)
	if m == 0 {
		return
	}
	if gemmSIMD(v, m, n, k, a, lda, pb, c, ldc, ep) {
		return
	}
	gemmPortable(m, n, k, a, lda, pb, c, ldc, ep)
}

func checkGemm(m, n, k int, a []float32, lda int, pb *PackedB, c []float32, ldc int, ep *Epilogue) {
	switch {
	case pb == nil:
		panic("kernels: Gemm: nil PackedB")
	case k != pb.k || n != pb.n:
		panic(fmt.Sprintf("kernels: Gemm: k×n = %d×%d but B is packed as %d×%d", k, n, pb.k, pb.n))
	case m < 0:
		panic(fmt.Sprintf("kernels: Gemm: m=%d", m))
	case lda < k || ldc < n:
		panic(fmt.Sprintf("kernels: Gemm: lda=%d (k=%d), ldc=%d (n=%d)", lda, k, ldc, n))
	}
	if m == 0 {
		return
	}
	if need := (m-1)*lda + k; len(a) < need {
		panic(fmt.Sprintf("kernels: Gemm: a has %d elements, want ≥ %d", len(a), need))
	}
	need := (m-1)*ldc + n
	if len(c) < need {
		panic(fmt.Sprintf("kernels: Gemm: c has %d elements, want ≥ %d", len(c), need))
	}
	ep.check(n, need)
}

// portableRows × portableCols is the largest block of C gemmPortable hands gonum per call:
// gonum starts goroutines (and allocates) from 4 of its 64×64 blocks on, so a call stays
// at 3.
const (
	portableRows = 64
	portableCols = 192
)

// gemmPortable is the plain-Go Gemm: gonum's serial Sgemm multiplies blocks of A's rows by
// the row-major B straight into c, and the epilogue finishes the rows in place. gonum's
// kernels run at 2–4× the speed of a plain triple loop, best over whole rows of B rather
// than 32-column panels. A residual that overlaps c would be overwritten before it is added,
// so that case takes the row loop (gemmRows). It is the whole implementation in builds
// without SIMD and the fallback on CPUs without AVX2; it allocates nothing.
func gemmPortable(m, n, k int, a []float32, lda int, pb *PackedB, c []float32, ldc int, ep *Epilogue) {
	if ep != nil && overlaps(ep.Residual, c) {
		gemmRows(m, n, k, a, lda, pb, c, ldc, ep)
		return
	}
	var impl gonum.Implementation
	for i0 := 0; i0 < m; i0 += portableRows {
		mt := min(portableRows, m-i0)
		for j0 := 0; j0 < n; j0 += portableCols {
			nt := min(portableCols, n-j0)
			impl.Sgemm(blas.NoTrans, blas.NoTrans, mt, nt, k, 1, a[i0*lda:], lda, pb.rows[j0:], n, 0, c[i0*ldc+j0:], ldc)
		}
		for i := i0; i < i0+mt; i++ {
			ep.applyRow(c[i*ldc:i*ldc+n], i*ldc)
		}
	}
}

// gemmRows is Gemm one output row segment of a panel at a time, accumulated apart from c so
// that the residual may alias it.
func gemmRows(m, n, k int, a []float32, lda int, pb *PackedB, c []float32, ldc int, ep *Epilogue) {
	for j0 := 0; j0 < n; j0 += panelWidth {
		bp, w := pb.panel(j0)
		var acc [panelWidth]float32
		row := acc[:w]
		for i := 0; i < m; i++ {
			clear(row)
			ar := a[i*lda : i*lda+k]
			for kk, av := range ar {
				br := bp[kk*w : kk*w+w]
				for j, bv := range br {
					row[j] += av * bv
				}
			}
			applyCols(ep, row, j0, i*ldc+j0)
			copy(c[i*ldc+j0:i*ldc+j0+w], row)
		}
	}
}

// overlaps reports whether the slices share any element.
func overlaps(a, b []float32) bool {
	if len(a) == 0 || len(b) == 0 {
		return false
	}
	a0, b0 := uintptr(unsafe.Pointer(&a[0])), uintptr(unsafe.Pointer(&b[0]))
	return a0 < b0+uintptr(len(b))*4 && b0 < a0+uintptr(len(a))*4
}

// applyCols applies ep to row, which holds output channels j0..j0+len(row)-1 and whose
// residual starts at resOff.
func applyCols(ep *Epilogue, row []float32, j0, resOff int) {
	sub := Epilogue{Act: ep.Act, Residual: ep.Residual, ResidualFirst: ep.ResidualFirst}
	if ep.Bias != nil {
		sub.Bias = ep.Bias[j0:]
	}
	if ep.Slope != nil {
		sub.Slope = ep.Slope[j0:]
	}
	sub.applyRow(row, resOff)
}
