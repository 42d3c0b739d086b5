package engine

import (
	"github.com/spoofsense/spoofsense/scorer/engine/kernels"
)

// layoutMode chooses the activation layout of a plan.
type layoutMode uint8

const (
	// layoutNHWC runs the convolution chains channels-last (lowerNHWC): every static plan.
	layoutNHWC layoutMode = iota
	// layoutNCHW keeps every value NCHW, convolutions included (nchwConv): dynamic mode.
	layoutNCHW
)

// planOptions are the planner's knobs.
type planOptions struct {
	layout layoutMode
	// conv, when set, compiles Conv nodes instead of compileConv: the tests' NCHW reference.
	conv opCompiler
}

// lowering is the state of lowerNHWC: a planned (NCHW) step list is rewritten into a new
// one where convolutions and the elementwise operators between them run on NHWC16 values
// (channels-last, channel count padded to a multiple of 16, padding channels zero, see
// package kernels). Every NHWC16 value is a new value index, the "twin" of the original
// NCHW value it stands for; the original index keeps NCHW semantics and is computed from its
// twin only when an NCHW operator or a graph output needs it.
type lowering struct {
	p       *plan
	opset   int64
	readers []int             // original value → number of reading steps (graph outputs count 2)
	twin    map[int]int       // original value → its NHWC16 twin
	stale   map[int]bool      // values whose NCHW data no step has computed yet
	defAt   map[int]int       // NHWC16 value → index of the step computing it
	conv    map[int]*nhwcConv // step index → its convolution, for epilogue fusion
}

// lowerNHWC rewrites p.steps to run channels-last (see lowering). It only changes how the
// values are computed, never the graph's outputs; operators without an NHWC kernel, and
// convolutions it cannot pack, keep their NCHW kernels.
func (p *plan) lowerNHWC(g *graphIR) {
	l := &lowering{p: p, opset: g.opset, readers: make([]int, len(p.values)), twin: map[int]int{},
		stale: map[int]bool{}, defAt: map[int]int{}, conv: map[int]*nhwcConv{}}
	for _, st := range p.steps {
		for _, v := range st.in {
			if v >= 0 {
				l.readers[v]++
			}
		}
	}
	for _, v := range g.outputs {
		l.readers[v] += 2
	}
	old := p.steps
	p.steps = nil
	for i := range old {
		if !l.lower(&old[i]) {
			for _, v := range old[i].in {
				if v >= 0 {
					l.needNCHW(v)
				}
			}
			l.emit(old[i])
		}
	}
	for _, v := range g.outputs {
		l.needNCHW(v)
	}
}

// emit appends a step.
func (l *lowering) emit(st step) int {
	k := len(l.p.steps)
	l.p.steps = append(l.p.steps, st)
	for _, v := range st.out {
		if l.p.values[v].nhwc {
			l.defAt[v] = k
		}
	}
	return k
}

// newTwin adds the NHWC16 twin of value v (not yet computed) and records it.
func (l *lowering) newTwin(v int) int {
	pv := l.p.values[v]
	l.p.values = append(l.p.values, planValue{dt: pv.dt, shape: pv.shape, nhwc: true})
	t := len(l.p.values) - 1
	l.twin[v] = t
	l.stale[v] = true
	return t
}

// needNHWC returns the NHWC16 twin of v, converting v when it has none yet.
func (l *lowering) needNHWC(v int) int {
	if t, ok := l.twin[v]; ok {
		return t
	}
	pv := l.p.values[v]
	t := len(l.p.values)
	l.p.values = append(l.p.values, planValue{dt: pv.dt, shape: pv.shape, nhwc: true})
	l.twin[v] = t
	s := pv.shape
	l.emit(step{node: &nodeIR{op: "ToNHWC", name: "to_nhwc"}, in: []int{v}, out: []int{t}, run: toNHWCKernel(s[0], s[1], s[2], s[3])})
	return t
}

// needNCHW makes sure a step computes v's NCHW data from its twin before the next step.
func (l *lowering) needNCHW(v int) {
	if !l.stale[v] {
		return
	}
	s := l.p.values[v].shape
	l.emit(step{node: &nodeIR{op: "ToNCHW", name: "to_nchw"}, in: []int{l.twin[v]}, out: []int{v}, run: toNCHWKernel(s[0], s[1], s[2], s[3])})
	delete(l.stale, v)
}

// hasTwin reports whether the non-constant, rank-4 float32 value v is available in NHWC16.
func (l *lowering) hasTwin(v int) bool {
	if v < 0 {
		return false
	}
	_, ok := l.twin[v]
	return ok
}

// lower emits the NHWC16 form of st and reports whether it could.
func (l *lowering) lower(st *step) bool {
	n := st.node
	if len(st.out) != 1 || l.p.values[st.out[0]].dt != dtFloat32 || numel(l.p.values[st.out[0]].shape) == 0 {
		return false
	}
	o := st.out[0]
	shape := l.p.values[o].shape
	switch n.op {
	case "Conv":
		return l.lowerConv(st)
	case "Add", "Mul":
		a, b := st.in[0], st.in[1]
		if !l.hasTwin(a) || !l.hasTwin(b) {
			return false
		}
		sa, sb := l.p.values[a].shape, l.p.values[b].shape
		if n.op == "Add" && equalShape(sa, sb) {
			if l.fuseResidual(a, b, o) || l.fuseResidual(b, a, o) {
				return true
			}
			l.emitSimple(st, []int{l.twin[a], l.twin[b]}, nhwcAdd)
			return true
		}
		if n.op != "Mul" {
			return false
		}
		if equalShape(sa, sb) {
			l.emitSimple(st, []int{l.twin[a], l.twin[b]}, nhwcMul)
			return true
		}
		if isChannelVector(sb, sa) {
			l.emitSimple(st, []int{l.twin[a], l.twin[b]}, nhwcScaleKernel(sa))
			return true
		}
		if isChannelVector(sa, sb) {
			l.emitSimple(st, []int{l.twin[b], l.twin[a]}, nhwcScaleKernel(sb))
			return true
		}
	case "Relu":
		x := st.in[0]
		if !l.hasTwin(x) {
			return false
		}
		if c, k := l.fusibleConv(x); c != nil && c.ep.Act == kernels.ActNone {
			c.ep.Act = kernels.ActReLU
			c.ep.ResidualFirst = c.resIn >= 0
			l.retarget(k, o)
			return true
		}
		l.emitSimple(st, []int{l.twin[x]}, nhwcRelu)
		return true
	case "Sigmoid":
		if !l.hasTwin(st.in[0]) {
			return false
		}
		l.emitSimple(st, []int{l.twin[st.in[0]]}, nhwcSigmoidKernel(shape))
		return true
	case "GlobalAveragePool":
		x := st.in[0]
		if !l.hasTwin(x) {
			return false
		}
		l.emitSimple(st, []int{l.twin[x]}, nhwcGlobalAvgKernel(l.p.values[x].shape))
		return true
	case "Concat":
		axis, ok := n.attrs["axis"].(int64)
		if !ok || (axis != 1 && axis != -3) {
			return false
		}
		var ins []int
		var chans []int
		for _, v := range st.in {
			if !l.hasTwin(v) {
				return false
			}
			ins = append(ins, l.twin[v])
			chans = append(chans, l.p.values[v].shape[1])
		}
		l.emitSimple(st, ins, nhwcConcatKernel(shape, chans))
		return true
	}
	return false
}

// isChannelVector reports whether s is [N,C,1,1] for x of shape [N,C,H,W].
func isChannelVector(s, x []int) bool {
	return len(s) == 4 && len(x) == 4 && s[0] == x[0] && s[1] == x[1] && s[2] == 1 && s[3] == 1
}

// emitSimple emits st's NHWC16 form reading the twins ins, and gives its output a twin.
func (l *lowering) emitSimple(st *step, ins []int, run kernelFunc) {
	t := l.newTwin(st.out[0])
	l.emit(step{node: st.node, in: ins, out: []int{t}, run: run})
}

// fusibleConv returns the NHWC convolution computing x's twin and its step index, if x has
// no other reader.
func (l *lowering) fusibleConv(x int) (*nhwcConv, int) {
	if l.readers[x] != 1 {
		return nil, 0
	}
	k, ok := l.defAt[l.twin[x]]
	if !ok {
		return nil, 0
	}
	return l.conv[k], k
}

// retarget makes step k compute the twin of value o instead of its current output.
func (l *lowering) retarget(k, o int) {
	old := l.p.steps[k].out[0]
	delete(l.defAt, old)
	t := l.newTwin(o)
	l.p.steps[k].out = []int{t}
	l.defAt[t] = k
}

// fuseResidual folds o = x + r into the convolution computing x, as the residual of its
// epilogue, when x has no other reader and r is computed before that convolution runs.
func (l *lowering) fuseResidual(x, r, o int) bool {
	c, k := l.fusibleConv(x)
	if c == nil || c.resIn >= 0 {
		return false
	}
	rt := l.twin[r]
	if d, ok := l.defAt[rt]; !ok || d >= k {
		return false
	}
	st := &l.p.steps[k]
	c.resIn = len(st.in)
	st.in = append(st.in, rt)
	l.retarget(k, o)
	return true
}

// lowerConv emits the NHWC16 form of a Conv with constant weights that is dense (group 1)
// or depthwise, and reports whether it could.
func (l *lowering) lowerConv(st *step) bool {
	n, p := st.node, l.p
	c := &compileCtx{n: n, opset: l.opset, in: make([]*planValue, len(n.in))}
	for k, v := range n.in {
		if v >= 0 {
			c.in[k] = &p.values[v]
		}
	}
	gm, fu, hasBias, err := parseConv(c)
	if err != nil || gm.n == 0 || gm.c == 0 || gm.m == 0 {
		return false
	}
	w := fu.w
	if w == nil {
		w = p.values[n.in[1]].c
	}
	var bias []float32
	if hasBias {
		b := fu.b
		if b == nil {
			b = p.values[n.in[2]].c
		}
		if b == nil {
			return false
		}
		bias = b.f
	}
	if w == nil {
		return false
	}
	_, hasTwin := l.twin[st.in[0]]
	nc, err := packConv(gm, w.f, bias, fu.act, fu.slope, !hasTwin)
	if err != nil {
		return false
	}
	x := st.in[0]
	if nc.planar == nil {
		x = l.needNHWC(x)
	}
	t := l.newTwin(st.out[0])
	k := l.emit(step{node: n, in: []int{x}, out: []int{t}, run: nc.run})
	l.conv[k] = nc
	p.scratch = max(p.scratch, nc.scratch)
	return true
}

// maxPlanarChannels is the most input channels of an NCHW value that a dense convolution
// reads directly (kernels.PlanarConv) rather than converting it to NHWC16 first.
const maxPlanarChannels = 4

// nhwcConv is a convolution on NHWC16 values, weights packed at plan time. Its epilogue
// may gain an activation and a residual input during lowering; it is read-only once the
// plan is built.
type nhwcConv struct {
	n, h, w         int // batch and input size
	inSize, outSize int // floats per image
	dense           *kernels.ConvWeights
	dw              *kernels.DepthwiseWeights
	planar          *kernels.PlanarConvWeights // input NCHW
	ep              kernels.Epilogue           // without Residual
	resIn           int                        // index of the residual input, -1 for none
	scratch         int                        // floats of scratch the dense kernel needs
}

func (c *nhwcConv) run(rc *runCtx, in, out []*tensorData) {
	x, y := in[0].f, out[0].f
	ep := c.ep
	for b := 0; b < c.n; b++ {
		xb := x[b*c.inSize : (b+1)*c.inSize]
		yb := y[b*c.outSize : (b+1)*c.outSize]
		if c.resIn >= 0 {
			ep.Residual = in[c.resIn].f[b*c.outSize : (b+1)*c.outSize]
		}
		c.image(xb, yb, rc.scratch, &ep)
	}
}

// image convolves one image: x is NHWC16 (NCHW for a planar convolution), y NHWC16.
func (c *nhwcConv) image(x, y, scratch []float32, ep *kernels.Epilogue) {
	switch {
	case c.dw != nil:
		kernels.Depthwise(x, c.h, c.w, c.dw, y, ep)
	case c.planar != nil:
		kernels.PlanarConv(x, c.h, c.w, c.planar, y, ep)
	default:
		kernels.Conv(x, c.h, c.w, c.dense, y, scratch, ep)
	}
}
