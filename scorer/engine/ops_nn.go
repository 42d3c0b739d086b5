package engine

import (
	"fmt"
	"math"

	"github.com/spoofsense/spoofsense/scorer/engine/kernels"
)

func compileBatchNorm(c *compileCtx) (compiled, error) {
	x, err := c.need(0, dtFloat32)
	if err != nil {
		return compiled{}, err
	}
	if len(x.shape) < 2 {
		return compiled{}, fmt.Errorf("input rank %d < 2", len(x.shape))
	}
	ch := x.shape[1]
	for k := 1; k <= 4; k++ {
		v, err := c.need(k, dtFloat32)
		if err != nil {
			return compiled{}, err
		}
		if numel(v.shape) != ch {
			return compiled{}, fmt.Errorf("input %d shape %v does not match %d channels", k, v.shape, ch)
		}
	}
	if tm, err := c.attrInt("training_mode", 0); err != nil {
		return compiled{}, err
	} else if tm != 0 {
		return compiled{}, unsupported("attribute training_mode=%d", tm)
	}
	if len(c.n.out) > 1 {
		return compiled{}, unsupported("training outputs (%d outputs)", len(c.n.out))
	}
	eps, err := c.attrFloat("epsilon", 1e-5)
	if err != nil {
		return compiled{}, err
	}
	inner := numel(x.shape[2:])
	return single(dtFloat32, x.shape, func(_ *runCtx, in, out []*tensorData) {
		scale, shift, mean, variance := in[1].f, in[2].f, in[3].f, in[4].f
		xs, o := in[0].f, out[0].f
		for n := 0; n < x.shape[0]; n++ {
			for k := 0; k < ch; k++ {
				s := float32(float64(scale[k]) / math.Sqrt(float64(variance[k])+float64(eps)))
				t := shift[k] - mean[k]*s
				off := (n*ch + k) * inner
				for i, v := range xs[off : off+inner] {
					o[off+i] = v*s + t
				}
			}
		}
	})
}

func compileSoftmax(c *compileCtx) (compiled, error) {
	x, err := c.need(0, dtFloat32)
	if err != nil {
		return compiled{}, err
	}
	r := len(x.shape)
	def := int64(-1)
	if c.opset < 13 {
		def = 1
	}
	axisAttr, err := c.attrInt("axis", def)
	if err != nil {
		return compiled{}, err
	}
	axis, err := normAxis(int(axisAttr), r)
	if err != nil {
		return compiled{}, err
	}
	var outer, length, inner int
	if c.opset < 13 { // coerced to 2-D at axis
		outer, length, inner = numel(x.shape[:axis]), numel(x.shape[axis:]), 1
	} else {
		outer, length, inner = numel(x.shape[:axis]), x.shape[axis], numel(x.shape[axis+1:])
	}
	return single(dtFloat32, x.shape, func(_ *runCtx, in, out []*tensorData) {
		softmax(in[0].f, out[0].f, outer, length, inner)
	})
}

// softmax normalises x over the middle axis of an outer×length×inner layout.
func softmax(x, out []float32, outer, length, inner int) {
	if inner == 1 && length > 0 { // rows of consecutive elements: the kernel
		kernels.SoftmaxRows(out[:outer*length], x[:outer*length], length)
		return
	}
	for o := 0; o < outer; o++ {
		for i := 0; i < inner; i++ {
			base := o*length*inner + i
			m := float32(math.Inf(-1))
			for k := 0; k < length; k++ {
				m = max(m, x[base+k*inner])
			}
			var sum float64
			for k := 0; k < length; k++ {
				e := 1.0 // exp(0): the maximum, at least once per row
				if v := x[base+k*inner]; v != m {
					e = math.Exp(float64(v - m))
				}
				out[base+k*inner] = float32(e)
				sum += e
			}
			inv := 1 / sum
			for k := 0; k < length; k++ {
				out[base+k*inner] = float32(float64(out[base+k*inner]) * inv)
			}
		}
	}
}

func compileGlobalAveragePool(c *compileCtx) (compiled, error) {
	x, err := c.need(0, dtFloat32)
	if err != nil {
		return compiled{}, err
	}
	if len(x.shape) < 3 {
		return compiled{}, fmt.Errorf("input rank %d < 3", len(x.shape))
	}
	shape := append([]int(nil), x.shape...)
	for k := 2; k < len(shape); k++ {
		shape[k] = 1
	}
	planes, size := x.shape[0]*x.shape[1], numel(x.shape[2:])
	return single(dtFloat32, shape, func(_ *runCtx, in, out []*tensorData) {
		for p := 0; p < planes; p++ {
			var s float32
			for _, v := range in[0].f[p*size : (p+1)*size] {
				s += v
			}
			out[0].f[p] = s / float32(size)
		}
	})
}

// poolGeom is a pooling window over up to three spatial dims (fewer are padded with 1s).
type poolGeom struct {
	planes     int
	in, out    [3]int
	k, s, d    [3]int
	padBegin   [3]int
	isMax      bool
	includePad bool
	colMajor   bool // indices in column-major order (storage_order=1)
}

func compilePool(c *compileCtx) (compiled, error) {
	x, err := c.need(0, dtFloat32)
	if err != nil {
		return compiled{}, err
	}
	nsp := len(x.shape) - 2
	if nsp < 1 || nsp > 3 {
		return compiled{}, unsupported("%s over %d spatial dims", c.n.op, nsp)
	}
	kernel, ok, err := c.attrInts("kernel_shape")
	if err != nil {
		return compiled{}, err
	}
	if !ok {
		return compiled{}, fmt.Errorf("attribute kernel_shape is required")
	}
	strides, dil, pads, autoPad, err := c.spatialAttrs(nsp, kernel)
	if err != nil {
		return compiled{}, err
	}
	ceil, err := c.attrInt("ceil_mode", 0)
	if err != nil {
		return compiled{}, err
	}
	so, err := c.attrInt("storage_order", 0)
	if err != nil {
		return compiled{}, err
	}
	cip, err := c.attrInt("count_include_pad", 0)
	if err != nil {
		return compiled{}, err
	}
	g := poolGeom{planes: x.shape[0] * x.shape[1], isMax: c.n.op == "MaxPool", includePad: cip != 0, colMajor: so != 0}
	shape := append([]int(nil), x.shape[:2]...)
	off := 3 - nsp
	for k := 0; k < 3; k++ {
		g.in[k], g.out[k], g.k[k], g.s[k], g.d[k] = 1, 1, 1, 1, 1
	}
	for k := 0; k < nsp; k++ {
		in, kk, s, d := x.shape[2+k], kernel[k], strides[k], dil[k]
		begin, end, out, err := convPads(autoPad, in, kk, s, d, pads[k], pads[k+nsp])
		if err != nil {
			return compiled{}, err
		}
		if ceil != 0 && (autoPad == "NOTSET" || autoPad == "") {
			dk := d*(kk-1) + 1
			out = (in+begin+end-dk+s-1)/s + 1
		}
		g.in[off+k], g.out[off+k], g.k[off+k], g.s[off+k], g.d[off+k], g.padBegin[off+k] = in, out, kk, s, d, begin
		shape = append(shape, out)
	}
	var outs []outSpec
	outs = append(outs, outSpec{dtFloat32, shape})
	withIndices := len(c.n.out) > 1
	if withIndices {
		if !g.isMax {
			return compiled{}, fmt.Errorf("AveragePool has one output")
		}
		outs = append(outs, outSpec{dtInt64, shape})
	}
	if _, err := checkedNumel(shape); err != nil {
		return compiled{}, err
	}
	return compiled{outs: outs, run: func(_ *runCtx, in, out []*tensorData) {
		var ind []int64
		if withIndices {
			ind = out[1].i
		}
		pool(&g, in[0].f, out[0].f, ind)
	}}, nil
}

// pool computes max or average pooling; indices (optional) receive the flat input index of
// each maximum.
func pool(g *poolGeom, x, out []float32, indices []int64) {
	inSize := g.in[0] * g.in[1] * g.in[2]
	o := 0
	for p := 0; p < g.planes; p++ {
		plane := x[p*inSize : (p+1)*inSize]
		for z := 0; z < g.out[0]; z++ {
			for y := 0; y < g.out[1]; y++ {
				for xx := 0; xx < g.out[2]; xx++ {
					best := float32(math.Inf(-1))
					bestIdx := 0
					var sum float32
					count, padded := 0, 0
					for kz := 0; kz < g.k[0]; kz++ {
						iz := z*g.s[0] - g.padBegin[0] + kz*g.d[0]
						for ky := 0; ky < g.k[1]; ky++ {
							iy := y*g.s[1] - g.padBegin[1] + ky*g.d[1]
							for kx := 0; kx < g.k[2]; kx++ {
								ix := xx*g.s[2] - g.padBegin[2] + kx*g.d[2]
								if iz < 0 || iz >= g.in[0] || iy < 0 || iy >= g.in[1] || ix < 0 || ix >= g.in[2] {
									padded++
									continue
								}
								idx := (iz*g.in[1]+iy)*g.in[2] + ix
								v := plane[idx]
								if v > best {
									best, bestIdx = v, idx
								}
								sum += v
								count++
							}
						}
					}
					if g.isMax {
						out[o] = best
						if indices != nil {
							if g.colMajor {
								iz, rem := bestIdx/(g.in[1]*g.in[2]), bestIdx%(g.in[1]*g.in[2])
								iy, ix := rem/g.in[2], rem%g.in[2]
								bestIdx = (ix*g.in[1]+iy)*g.in[0] + iz
							}
							indices[o] = int64(p*inSize + bestIdx)
						}
					} else {
						div := count
						if g.includePad {
							div += padded
						}
						if div > 0 {
							out[o] = sum / float32(div)
						} else {
							out[o] = 0
						}
					}
					o++
				}
			}
		}
	}
}
