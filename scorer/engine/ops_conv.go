package engine

import (
	"errors"
	"fmt"
	"math"

	"github.com/spoofsense/spoofsense/scorer/engine/kernels"
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

// compileConv compiles a Conv whose input and output stay NCHW values: every Conv in dynamic
// mode, and in a static plan one the channels-last lowering did not take (grouped, or with
// weights the graph computes). It runs on the same kernels as the lowered convolutions
// (nchwConv): the only convolution code the engine has. Constant weights are packed now;
// weights or a bias the graph computes are packed at every run, which allocates.
func compileConv(c *compileCtx) (compiled, error) {
	g, fu, hasBias, err := parseConv(c)
	if err != nil {
		return compiled{}, err
	}
	shape := []int{g.n, g.m, g.oh, g.ow}
	empty := g.n == 0 || g.m == 0 || g.oh == 0 || g.ow == 0
	if g.c == 0 && !empty {
		return compiled{}, unsupported("Conv with no input channels")
	}
	w := fu.w
	if w == nil {
		w = c.input(1).c
	}
	var b *tensorData
	if hasBias {
		if b = fu.b; b == nil {
			b = c.input(2).c
		}
	}
	var packed *nchwConv
	if !empty && w != nil && (!hasBias || b != nil) {
		if packed, err = newNCHWConv(g, w.f, b.floats(), fu); err != nil {
			return compiled{}, err
		}
	}
	out, err := single(dtFloat32, shape, func(rc *runCtx, in, out []*tensorData) {
		if empty {
			return
		}
		k, scratch := packed, rc.scratch
		if k == nil {
			w, b := fu.w, fu.b
			if w == nil {
				w = in[1]
			}
			if b == nil && hasBias {
				b = in[2]
			}
			var err error
			if k, err = newNCHWConv(g, w.f, b.floats(), fu); err != nil {
				rc.fail(err)
				return
			}
			scratch = make([]float32, k.scratch)
		}
		k.run(in[0].f, out[0].f, scratch)
	})
	if packed != nil {
		out.scratch = packed.scratch
	}
	return out, err
}

// errGroupedConv is packConv's refusal of a grouped convolution that is not depthwise: the
// kernels run dense and depthwise ones, so nchwConv splits it into one dense part per group.
var errGroupedConv = errors.New("grouped convolution")

// packConv packs a convolution of geometry gm — dense (group 1) or depthwise — for the
// channels-last kernels, with weights w in ONNX layout, bias (nil for none) and the fused
// activation in its epilogue. nchwIn says its input is an NCHW value, which a dense
// convolution with few input channels (a stem) reads directly (kernels.PlanarConv).
func packConv(gm convGeom, w, bias []float32, act activation, slope []float32, nchwIn bool) (*nhwcConv, error) {
	geom := kernels.ConvGeom{KH: gm.kh, KW: gm.kw, StrideH: gm.sh, StrideW: gm.sw,
		PadTop: gm.pt, PadLeft: gm.pl, PadBottom: gm.pb, PadRight: gm.pr, DilationH: gm.dh, DilationW: gm.dw}
	nc := &nhwcConv{n: gm.n, h: gm.h, w: gm.w, resIn: -1,
		inSize: gm.h * gm.w * kernels.Pad16(gm.c), outSize: gm.oh * gm.ow * kernels.Pad16(gm.m)}
	var err error
	switch {
	case gm.group == 1 && gm.c <= maxPlanarChannels && nchwIn:
		nc.planar, err = kernels.PackPlanarConv(gm.m, gm.c, geom, w)
		nc.inSize = gm.c * gm.h * gm.w
	case gm.group == gm.c && gm.m == gm.c:
		nc.dw, err = kernels.PackDepthwise(gm.c, geom, w)
	case gm.group == 1:
		if nc.dense, err = kernels.PackConv(gm.m, gm.c, geom, w); err == nil {
			nc.scratch = nc.dense.ScratchSize(gm.h, gm.w)
		}
	default:
		return nil, errGroupedConv
	}
	if err != nil {
		return nil, err
	}
	if bias != nil {
		nc.ep.Bias = kernels.PadChannels(bias)
	}
	switch act {
	case actRelu:
		nc.ep.Act = kernels.ActReLU
	case actPRelu:
		nc.ep.Act = kernels.ActPReLU
		nc.ep.Slope = kernels.PadChannels(slope)
	}
	return nc, nil
}

// nchwConv is a convolution between NCHW values on the channels-last kernels: for each image
// and group the input channels are converted to NHWC16 (unless the part reads them planar),
// convolved and converted back. A dense or depthwise convolution is one part; any other
// grouped one is a dense part per group. It is read-only once built.
type nchwConv struct {
	g         convGeom
	parts     []*nhwcConv
	cin, cout int // channels of each part
	scratch   int // floats: a part's NHWC16 input and output and its kernel's own scratch
}

// newNCHWConv packs the convolution of geometry g with weights w, bias (nil for none) and
// fu's activation.
func newNCHWConv(g convGeom, w, bias []float32, fu *convFusion) (*nchwConv, error) {
	nc := &nchwConv{g: g, cin: g.c, cout: g.m}
	groups, sub := 1, g
	if g.group > 1 && !(g.group == g.c && g.m == g.c) {
		groups = g.group
		nc.cin, nc.cout = g.c/g.group, g.m/g.group
		sub.c, sub.m, sub.group = nc.cin, nc.cout, 1
	}
	per := len(w) / g.m // weights per output channel
	for p := range groups {
		m0, m1 := p*nc.cout, (p+1)*nc.cout
		var bp, sp []float32
		if bias != nil {
			bp = bias[m0:m1]
		}
		if fu.act == actPRelu {
			sp = fu.slope[m0:m1]
		}
		k, err := packConv(sub, w[m0*per:m1*per], bp, fu.act, sp, true)
		if err != nil {
			return nil, err
		}
		need := k.outSize + k.scratch
		if k.planar == nil {
			need += k.inSize
		}
		nc.scratch = max(nc.scratch, need)
		nc.parts = append(nc.parts, k)
	}
	return nc, nil
}

// run convolves the NCHW batch x into the NCHW batch y; scratch holds nc.scratch floats.
func (nc *nchwConv) run(x, y, scratch []float32) {
	g := nc.g
	hw, ohw := g.h*g.w, g.oh*g.ow
	for b := 0; b < g.n; b++ {
		for p, k := range nc.parts {
			xs := x[(b*g.c+p*nc.cin)*hw : (b*g.c+(p+1)*nc.cin)*hw]
			ys := y[(b*g.m+p*nc.cout)*ohw : (b*g.m+(p+1)*nc.cout)*ohw]
			in, rest := xs, scratch
			if k.planar == nil {
				in, rest = rest[:k.inSize], rest[k.inSize:]
				kernels.NCHWToNHWC(in, xs, nc.cin, g.h, g.w)
			}
			out := rest[:k.outSize]
			k.image(in, out, rest[k.outSize:], &k.ep)
			kernels.NHWCToNCHW(ys, out, nc.cout, g.oh, g.ow)
		}
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
