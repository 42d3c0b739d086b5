package engine

// compileConvReference is the NCHW convolution the engine had before every convolution ran
// on the channels-last kernels: GEMM on gonum's serial kernels (1×1 directly, others through
// im2col) and a direct loop for depthwise convolutions. It stays as the tests' independent
// reference (planOptions.conv): the golden tests run it beside the production paths.
func compileConvReference(c *compileCtx) (compiled, error) {
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
