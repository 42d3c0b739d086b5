package engine

import (
	"fmt"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
)

// gemm computes C = alpha·op(A)·op(B) + beta·C with row-major matrices, op(A) m×k and op(B)
// k×n. It calls gonum's serial kernels on tiles small enough (at most 3 blocks of 64×64) that
// gonum does not start goroutines, so it neither allocates nor competes with other sessions
// for cores.
func gemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	const tileM, tileN = 64, 192
	ta, tb := blas.NoTrans, blas.NoTrans
	if transA {
		ta = blas.Trans
	}
	if transB {
		tb = blas.Trans
	}
	var impl gonum.Implementation
	for i := 0; i < m; i += tileM {
		mt := min(tileM, m-i)
		var aSub []float32
		if transA {
			aSub = a[i:]
		} else {
			aSub = a[i*lda:]
		}
		for j := 0; j < n; j += tileN {
			nt := min(tileN, n-j)
			var bSub []float32
			if transB {
				bSub = b[j*ldb:]
			} else {
				bSub = b[j:]
			}
			impl.Sgemm(ta, tb, mt, nt, k, alpha, aSub, lda, bSub, ldb, beta, c[i*ldc+j:], ldc)
		}
	}
}

func compileMatMul(c *compileCtx) (compiled, error) {
	a, err := c.need(0, dtFloat32)
	if err != nil {
		return compiled{}, err
	}
	b, err := c.need(1, dtFloat32)
	if err != nil {
		return compiled{}, err
	}
	if len(a.shape) == 0 || len(b.shape) == 0 {
		return compiled{}, fmt.Errorf("matrix product of a scalar")
	}
	as, bs := a.shape, b.shape
	if len(as) == 1 {
		as = []int{1, as[0]}
	}
	if len(bs) == 1 {
		bs = []int{bs[0], 1}
	}
	m, k, n := as[len(as)-2], as[len(as)-1], bs[len(bs)-1]
	if bs[len(bs)-2] != k {
		return compiled{}, fmt.Errorf("shapes %v and %v do not match", a.shape, b.shape)
	}
	batch, err := broadcastShape(as[:len(as)-2], bs[:len(bs)-2])
	if err != nil {
		return compiled{}, err
	}
	shape := append(append([]int(nil), batch...), m, n)
	if len(a.shape) == 1 {
		shape = append(shape[:len(shape)-2], n)
	}
	if len(b.shape) == 1 {
		shape = shape[:len(shape)-1]
		if len(a.shape) == 1 {
			shape = shape[:0]
		}
	}
	// Batch offsets of A and B for every output batch (numpy broadcast over batch dims).
	abatch, bbatch := as[:len(as)-2], bs[:len(bs)-2]
	nb := numel(batch)
	offA := make([]int, nb)
	offB := make([]int, nb)
	for t := 0; t < nb; t++ {
		rem := t
		ia, ib, strideA, strideB := 0, 0, 1, 1
		for d := len(batch) - 1; d >= 0; d-- {
			x := rem % batch[d]
			rem /= batch[d]
			if da := d - (len(batch) - len(abatch)); da >= 0 {
				if abatch[da] != 1 {
					ia += x * strideA
				}
				strideA *= abatch[da]
			}
			if db := d - (len(batch) - len(bbatch)); db >= 0 {
				if bbatch[db] != 1 {
					ib += x * strideB
				}
				strideB *= bbatch[db]
			}
		}
		offA[t], offB[t] = ia*m*k, ib*k*n
	}
	return single(dtFloat32, shape, func(_ *runCtx, in, out []*tensorData) {
		for t := range offA {
			o := out[0].f[t*m*n : (t+1)*m*n]
			if k == 0 {
				clear(o)
				continue
			}
			gemm(false, false, m, n, k, 1, in[0].f[offA[t]:], k, in[1].f[offB[t]:], n, 0, o, n)
		}
	})
}

func compileGemm(c *compileCtx) (compiled, error) {
	a, err := c.need(0, dtFloat32)
	if err != nil {
		return compiled{}, err
	}
	b, err := c.need(1, dtFloat32)
	if err != nil {
		return compiled{}, err
	}
	if len(a.shape) != 2 || len(b.shape) != 2 {
		return compiled{}, fmt.Errorf("want 2-D A and B, got %v and %v", a.shape, b.shape)
	}
	alpha, err := c.attrFloat("alpha", 1)
	if err != nil {
		return compiled{}, err
	}
	beta, err := c.attrFloat("beta", 1)
	if err != nil {
		return compiled{}, err
	}
	ta, err := c.attrInt("transA", 0)
	if err != nil {
		return compiled{}, err
	}
	tb, err := c.attrInt("transB", 0)
	if err != nil {
		return compiled{}, err
	}
	m, k := a.shape[0], a.shape[1]
	if ta != 0 {
		m, k = k, m
	}
	kb, n := b.shape[0], b.shape[1]
	if tb != 0 {
		kb, n = n, kb
	}
	if kb != k {
		return compiled{}, fmt.Errorf("shapes %v and %v do not match", a.shape, b.shape)
	}
	shape := []int{m, n}
	cv := c.input(2)
	var bc broadcast
	if cv != nil {
		if cv.dt != dtFloat32 {
			return compiled{}, unsupported("data type %v for C", cv.dt)
		}
		if s, err := broadcastShape(shape, cv.shape); err != nil || !equalShape(s, shape) {
			return compiled{}, fmt.Errorf("shape %v of input C does not broadcast to %v", cv.shape, shape)
		}
		bc = newBroadcast(shape, cv.shape, shape)
	}
	lda, ldb := a.shape[1], b.shape[1]
	return single(dtFloat32, shape, func(_ *runCtx, in, out []*tensorData) {
		o := out[0].f
		betaEff := float32(0)
		if cv != nil && m*n > 0 {
			// out = C broadcast, then out = alpha·A·B + beta·out
			clear(o)
			applyBinary(&bc, binAdd, o, in[2].f, o)
			betaEff = beta
		}
		if k == 0 {
			for i := range o {
				o[i] *= betaEff
			}
			return
		}
		gemm(ta != 0, tb != 0, m, n, k, alpha, in[0].f, lda, in[1].f, ldb, betaEff, o, n)
	})
}
