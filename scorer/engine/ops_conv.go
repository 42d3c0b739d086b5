package engine

import (
	"fmt"
	"math"
)

// activation is an activation fused into a convolution's store.
type activation uint8

const (
	actNone activation = iota
	actRelu
	actPRelu // per-channel slope
)

// convFusion holds what the load-time fusion pass folded into a Conv node: BatchNormalization
// folded into the weights and bias, and a following Relu or PRelu.
type convFusion struct {
	w, b  *tensorData // replaced weights and bias (nil = the node's own inputs)
	act   activation
	slope []float32 // per output channel, for actPRelu
}

// convGeom is the geometry of a 2-D convolution.
type convGeom struct {
	n, c, h, w     int // input
	m, oh, ow      int // output channels and size
	kh, kw         int
	sh, sw         int
	dh, dw         int
	pt, pl, pb, pr int
	group          int
}

// convPads resolves pads for one spatial axis from auto_pad.
func convPads(autoPad string, in, k, s, d int, explicitBegin, explicitEnd int) (begin, end, out int, err error) {
	dk := d*(k-1) + 1
	switch autoPad {
	case "", "NOTSET":
		begin, end = explicitBegin, explicitEnd
		if in+begin+end < dk {
			return 0, 0, 0, fmt.Errorf("kernel %d (dilated %d) larger than padded input %d", k, dk, in+begin+end)
		}
		out = (in+begin+end-dk)/s + 1
	case "VALID":
		if in < dk {
			return 0, 0, 0, fmt.Errorf("kernel larger than input")
		}
		out = (in-dk)/s + 1
	case "SAME_UPPER", "SAME_LOWER":
		out = (in + s - 1) / s
		total := max(0, (out-1)*s+dk-in)
		if autoPad == "SAME_UPPER" {
			begin = total / 2
		} else {
			begin = total - total/2
		}
		end = total - begin
	default:
		return 0, 0, 0, unsupported("auto_pad %q", autoPad)
	}
	return begin, end, out, nil
}

// spatialAttrs reads kernel_shape-related attributes shared by Conv and the pools.
func (c *compileCtx) spatialAttrs(nsp int, kernel []int) (strides, dilations, pads []int, autoPad string, err error) {
	ones := func() []int {
		s := make([]int, nsp)
		for k := range s {
			s[k] = 1
		}
		return s
	}
	var ok bool
	if strides, ok, err = c.attrInts("strides"); err != nil {
		return
	} else if !ok {
		strides = ones()
	}
	if dilations, ok, err = c.attrInts("dilations"); err != nil {
		return
	} else if !ok {
		dilations = ones()
	}
	if pads, ok, err = c.attrInts("pads"); err != nil {
		return
	} else if !ok {
		pads = make([]int, 2*nsp)
	}
	if autoPad, err = c.attrString("auto_pad", "NOTSET"); err != nil {
		return
	}
	if len(strides) != nsp || len(dilations) != nsp || len(pads) != 2*nsp || len(kernel) != nsp {
		err = fmt.Errorf("strides/dilations/pads/kernel_shape do not match %d spatial dims", nsp)
		return
	}
	for k := 0; k < nsp; k++ {
		if strides[k] < 1 || dilations[k] < 1 || pads[k] < 0 || pads[k+nsp] < 0 || kernel[k] < 1 {
			err = fmt.Errorf("bad strides %v, dilations %v, pads %v or kernel %v", strides, dilations, pads, kernel)
			return
		}
	}
	return
}

// parseConv validates a Conv node and returns its geometry, its fusion (never nil) and
// whether it has a bias.
func parseConv(c *compileCtx) (g convGeom, fu *convFusion, hasBias bool, err error) {
	x, err := c.need(0, dtFloat32)
	if err != nil {
		return g, nil, false, err
	}
	wv, err := c.need(1, dtFloat32)
	if err != nil {
		return g, nil, false, err
	}
	fu = c.n.fusion
	if fu == nil {
		fu = &convFusion{}
	}
	wShape := wv.shape
	if fu.w != nil {
		wShape = fu.w.shape
	}
	if len(x.shape) != 4 || len(wShape) != 4 {
		return g, nil, false, unsupported("Conv with %d-D input (only 2-D convolution is implemented)", len(x.shape)-2)
	}
	group, err := c.attrInt("group", 1)
	if err != nil {
		return g, nil, false, err
	}
	g = convGeom{n: x.shape[0], c: x.shape[1], h: x.shape[2], w: x.shape[3], m: wShape[0], kh: wShape[2], kw: wShape[3], group: int(group)}
	if ks, ok, err := c.attrInts("kernel_shape"); err != nil {
		return g, nil, false, err
	} else if ok && (len(ks) != 2 || ks[0] != g.kh || ks[1] != g.kw) {
		return g, nil, false, fmt.Errorf("kernel_shape %v does not match weights %v", ks, wShape)
	}
	if g.group < 1 || g.c%g.group != 0 || g.m%g.group != 0 || wShape[1] != g.c/g.group {
		return g, nil, false, fmt.Errorf("group %d does not fit input %v and weights %v", g.group, x.shape, wShape)
	}
	strides, dil, pads, autoPad, err := c.spatialAttrs(2, []int{g.kh, g.kw})
	if err != nil {
		return g, nil, false, err
	}
	g.sh, g.sw, g.dh, g.dw = strides[0], strides[1], dil[0], dil[1]
	if g.pt, g.pb, g.oh, err = convPads(autoPad, g.h, g.kh, g.sh, g.dh, pads[0], pads[2]); err != nil {
		return g, nil, false, err
	}
	if g.pl, g.pr, g.ow, err = convPads(autoPad, g.w, g.kw, g.sw, g.dw, pads[1], pads[3]); err != nil {
		return g, nil, false, err
	}
	hasBias = fu.b != nil || c.input(2) != nil
	if bv := c.input(2); bv != nil && fu.b == nil && (bv.dt != dtFloat32 || numel(bv.shape) != g.m) {
		return g, nil, false, fmt.Errorf("bias shape %v does not match %d output channels", bv.shape, g.m)
	}
	return g, fu, hasBias, nil
}

func compileConv(c *compileCtx) (compiled, error) {
	g, fu, hasBias, err := parseConv(c)
	if err != nil {
		return compiled{}, err
	}
	shape := []int{g.n, g.m, g.oh, g.ow}
	cg := g.c / g.group
	scratch := 0
	kind := convGeneral
	switch {
	case cg == 1 && g.m == g.c:
		kind = convDepthwise
	case g.kh == 1 && g.kw == 1 && g.sh == 1 && g.sw == 1 && g.pt+g.pl+g.pb+g.pr == 0:
		kind = convPointwise
	default:
		scratch = cg * g.kh * g.kw * g.oh * g.ow
	}
	var dw *depthwisePlan
	if kind == convDepthwise {
		dw = newDepthwisePlan(&g)
	}
	act, slope := fu.act, fu.slope
	out, err := single(dtFloat32, shape, func(rc *runCtx, in, out []*tensorData) {
		w := in[1].f
		if fu.w != nil {
			w = fu.w.f
		}
		var bias []float32
		if fu.b != nil {
			bias = fu.b.f
		} else if hasBias {
			bias = in[2].f
		}
		switch kind {
		case convDepthwise:
			dw.run(&g, in[0].f, w, bias, act, slope, out[0].f)
		case convPointwise:
			convPointwiseRun(&g, in[0].f, w, bias, act, slope, out[0].f)
		default:
			convGeneralRun(&g, in[0].f, w, bias, act, slope, out[0].f, rc.scratch)
		}
	})
	out.scratch = scratch
	return out, err
}

type convKind uint8

const (
	convGeneral convKind = iota
	convPointwise
	convDepthwise
)

// epilogue adds the bias and applies the activation to one output channel plane, in one pass.
func epilogue(plane []float32, ch int, bias []float32, act activation, slope []float32) {
	var b float32
	if bias != nil {
		b = bias[ch]
	}
	switch act {
	case actRelu:
		for i, v := range plane {
			plane[i] = max(v+b, 0)
		}
	case actPRelu:
		s := slope[ch]
		for i, v := range plane {
			v += b
			if v < 0 {
				v *= s
			}
			plane[i] = v
		}
	default:
		if bias != nil {
			for i := range plane {
				plane[i] += b
			}
		}
	}
}

// convPointwiseRun is a 1×1, stride 1, unpadded convolution: one GEMM per image and group.
func convPointwiseRun(g *convGeom, x, w, bias []float32, act activation, slope []float32, out []float32) {
	hw := g.h * g.w
	cg, mg := g.c/g.group, g.m/g.group
	for n := 0; n < g.n; n++ {
		for gr := 0; gr < g.group; gr++ {
			xs := x[(n*g.c+gr*cg)*hw:]
			os := out[(n*g.m+gr*mg)*hw:]
			gemm(false, false, mg, hw, cg, 1, w[gr*mg*cg:], cg, xs, hw, 0, os, hw)
		}
		for m := 0; m < g.m; m++ {
			epilogue(out[(n*g.m+m)*hw:(n*g.m+m+1)*hw], m, bias, act, slope)
		}
	}
}

// im2col lays out the receptive fields of one group of channels as a
// (cg·kh·kw) × (oh·ow) matrix.
func im2col(g *convGeom, x []float32, cg int, col []float32) {
	ohw := g.oh * g.ow
	row := 0
	for ch := 0; ch < cg; ch++ {
		plane := x[ch*g.h*g.w : (ch+1)*g.h*g.w]
		for ky := 0; ky < g.kh; ky++ {
			for kx := 0; kx < g.kw; kx++ {
				dst := col[row*ohw : (row+1)*ohw]
				row++
				for oy := 0; oy < g.oh; oy++ {
					iy := oy*g.sh - g.pt + ky*g.dh
					d := dst[oy*g.ow : (oy+1)*g.ow]
					if iy < 0 || iy >= g.h {
						clear(d)
						continue
					}
					src := plane[iy*g.w : (iy+1)*g.w]
					ix := -g.pl + kx*g.dw
					for ox := range d {
						if ix >= 0 && ix < g.w {
							d[ox] = src[ix]
						} else {
							d[ox] = 0
						}
						ix += g.sw
					}
				}
			}
		}
	}
}

// convGeneralRun is any grouped 2-D convolution as im2col + GEMM.
func convGeneralRun(g *convGeom, x, w, bias []float32, act activation, slope []float32, out, scratch []float32) {
	hw, ohw := g.h*g.w, g.oh*g.ow
	cg, mg := g.c/g.group, g.m/g.group
	k := cg * g.kh * g.kw
	col := scratch[:k*ohw]
	for n := 0; n < g.n; n++ {
		for gr := 0; gr < g.group; gr++ {
			im2col(g, x[(n*g.c+gr*cg)*hw:], cg, col)
			gemm(false, false, mg, ohw, k, 1, w[gr*mg*k:], k, col, ohw, 0, out[(n*g.m+gr*mg)*ohw:], ohw)
		}
		for m := 0; m < g.m; m++ {
			epilogue(out[(n*g.m+m)*ohw:(n*g.m+m+1)*ohw], m, bias, act, slope)
		}
	}
}

// depthwisePlan precomputes, for every output column, the range of kernel columns that
// fall inside the input, so the inner loop has no bounds tests.
type depthwisePlan struct {
	kxLo, kxHi []int // per output column
	kyLo, kyHi []int // per output row
}

func newDepthwisePlan(g *convGeom) *depthwisePlan {
	p := &depthwisePlan{make([]int, g.ow), make([]int, g.ow), make([]int, g.oh), make([]int, g.oh)}
	rng := func(o, s, pad, d, k, size int) (lo, hi int) {
		lo, hi = 0, k
		for lo < k && o*s-pad+lo*d < 0 {
			lo++
		}
		for hi > lo && o*s-pad+(hi-1)*d >= size {
			hi--
		}
		return lo, hi
	}
	for ox := 0; ox < g.ow; ox++ {
		p.kxLo[ox], p.kxHi[ox] = rng(ox, g.sw, g.pl, g.dw, g.kw, g.w)
	}
	for oy := 0; oy < g.oh; oy++ {
		p.kyLo[oy], p.kyHi[oy] = rng(oy, g.sh, g.pt, g.dh, g.kh, g.h)
	}
	return p
}

// run is a depthwise convolution (one input channel per output channel) as a direct loop.
func (p *depthwisePlan) run(g *convGeom, x, w, bias []float32, act activation, slope []float32, out []float32) {
	hw, ohw, kk := g.h*g.w, g.oh*g.ow, g.kh*g.kw
	for n := 0; n < g.n; n++ {
		for ch := 0; ch < g.c; ch++ {
			plane := x[(n*g.c+ch)*hw : (n*g.c+ch+1)*hw]
			wk := w[ch*kk : (ch+1)*kk]
			o := out[(n*g.m+ch)*ohw : (n*g.m+ch+1)*ohw]
			for oy := 0; oy < g.oh; oy++ {
				orow := o[oy*g.ow : (oy+1)*g.ow]
				kyLo, kyHi := p.kyLo[oy], p.kyHi[oy]
				iy0 := oy*g.sh - g.pt
				if g.kh == 3 && g.kw == 3 && g.dh == 1 && g.dw == 1 && kyLo == 0 && kyHi == 3 {
					p.row3x3(g, plane, wk, iy0, orow)
					continue
				}
				for ox := range orow {
					ix0 := ox*g.sw - g.pl
					kxLo, kxHi := p.kxLo[ox], p.kxHi[ox]
					var s float32
					for ky := kyLo; ky < kyHi; ky++ {
						row := plane[(iy0+ky*g.dh)*g.w:]
						wr := wk[ky*g.kw:]
						for kx := kxLo; kx < kxHi; kx++ {
							s += row[ix0+kx*g.dw] * wr[kx]
						}
					}
					orow[ox] = s
				}
			}
			epilogue(o, ch, bias, act, slope)
		}
	}
}

// row3x3 computes one output row of an undilated 3×3 depthwise convolution whose three input
// rows iy0..iy0+2 are all inside the image; columns whose window is clipped by the padding use
// the general loop.
func (p *depthwisePlan) row3x3(g *convGeom, plane, wk []float32, iy0 int, orow []float32) {
	r0 := plane[iy0*g.w : (iy0+1)*g.w]
	r1 := plane[(iy0+1)*g.w : (iy0+2)*g.w]
	r2 := plane[(iy0+2)*g.w : (iy0+3)*g.w]
	w0, w1, w2, w3, w4, w5, w6, w7, w8 := wk[0], wk[1], wk[2], wk[3], wk[4], wk[5], wk[6], wk[7], wk[8]
	for ox := range orow {
		ix0 := ox*g.sw - g.pl
		if p.kxLo[ox] == 0 && p.kxHi[ox] == 3 {
			a, b, c := r0[ix0:ix0+3], r1[ix0:ix0+3], r2[ix0:ix0+3]
			orow[ox] = a[0]*w0 + a[1]*w1 + a[2]*w2 + b[0]*w3 + b[1]*w4 + b[2]*w5 + c[0]*w6 + c[1]*w7 + c[2]*w8
			continue
		}
		var s float32
		for kx := p.kxLo[ox]; kx < p.kxHi[ox]; kx++ {
			s += r0[ix0+kx]*wk[kx] + r1[ix0+kx]*wk[3+kx] + r2[ix0+kx]*wk[6+kx]
		}
		orow[ox] = s
	}
}

// foldBatchNorm returns conv weights and bias with an inference BatchNormalization folded in.
func foldBatchNorm(w, b, scale, shift, mean, variance *tensorData, eps float32) (*tensorData, *tensorData, error) {
	m := w.shape[0]
	for _, t := range []*tensorData{scale, shift, mean, variance} {
		if t.dt != dtFloat32 || len(t.f) != m {
			return nil, nil, fmt.Errorf("BatchNormalization parameter of shape %v does not match %d channels", t.shape, m)
		}
	}
	if b != nil && (b.dt != dtFloat32 || len(b.f) != m) {
		return nil, nil, fmt.Errorf("bias shape %v does not match %d channels", b.shape, m)
	}
	per := len(w.f) / m
	nw := newTensorData(dtFloat32, w.shape)
	nb := newTensorData(dtFloat32, []int{m})
	for ch := 0; ch < m; ch++ {
		s := float64(scale.f[ch]) / math.Sqrt(float64(variance.f[ch])+float64(eps))
		for i := 0; i < per; i++ {
			nw.f[ch*per+i] = float32(float64(w.f[ch*per+i]) * s)
		}
		bias := 0.0
		if b != nil {
			bias = float64(b.f[ch])
		}
		nb.f[ch] = float32((bias-float64(mean.f[ch]))*s + float64(shift.f[ch]))
	}
	return nw, nb, nil
}
