package engine

import (
	"errors"
	"fmt"
	"sort"
)

// step is one kernel call of an execution plan.
type step struct {
	node *nodeIR
	run  kernelFunc
	in   []int // value indices, -1 for omitted inputs
	out  []int
}

// plan is an execution plan for fixed input shapes: the constants (initializers and folded
// expressions), the steps that remain, and a buffer assignment for every computed value.
type plan struct {
	values  []planValue // by value index
	steps   []step
	slot    []int   // value index → buffer slot, -1 for constants and graph inputs
	slotLen []int   // per slot, elements
	slotDT  []dtype // per slot
	scratch int
	inputs  []int
	outputs []int
	folded  int // elements allocated by constant folding
}

// buildPlan plans g for the given graph-input specs. Inputs in bound are treated as constants
// (dynamic mode binds the actual inputs so every shape can be inferred). With opts asking
// for it, the steps are then lowered to channels-last kernels (lowerNHWC).
func buildPlan(g *graphIR, inputs map[int]planValue, modelName string, opts planOptions) (*plan, error) {
	p := &plan{values: make([]planValue, len(g.values)), inputs: g.inputs, outputs: g.outputs}
	defined := make([]bool, len(g.values))
	for v, t := range g.consts {
		p.values[v] = planValue{dt: t.dt, shape: t.shape, c: t}
		defined[v] = true
	}
	for _, v := range g.inputs {
		spec, ok := inputs[v]
		if !ok {
			return nil, fmt.Errorf("no shape for input %q", g.values[v])
		}
		p.values[v] = spec
		defined[v] = true
	}
	for _, n := range g.nodes {
		if err := p.addNode(g, n, defined, opts); err != nil {
			return nil, &NodeError{Model: modelName, Op: n.op, Node: n.name, Err: err}
		}
	}
	for _, v := range g.outputs {
		if !defined[v] {
			return nil, fmt.Errorf("%w: graph output %q is never computed", ErrMalformed, g.values[v])
		}
	}
	if opts.layout == layoutNHWC && len(p.steps) > 0 {
		p.lowerNHWC(g)
	}
	p.assignBuffers(g)
	total := p.scratch
	for _, n := range p.slotLen {
		total += n
	}
	if total > maxTotalElements {
		return nil, fmt.Errorf("%s: the plan needs %d buffer elements, more than %d", modelName, total, maxTotalElements)
	}
	return p, nil
}

func (p *plan) addNode(g *graphIR, n *nodeIR, defined []bool, opts planOptions) (err error) {
	compile, ok := compilerFor(n.op)
	if !ok {
		return unsupported("operator")
	}
	if n.op == "Conv" && opts.conv != nil {
		compile = opts.conv
	}
	c := &compileCtx{n: n, opset: g.opset, in: make([]*planValue, len(n.in))}
	allConst := true
	for k, v := range n.in {
		if v < 0 {
			continue
		}
		if !defined[v] {
			return fmt.Errorf("input %q is used before it is computed", g.values[v])
		}
		c.in[k] = &p.values[v]
		if p.values[v].c == nil {
			allConst = false
		}
	}
	comp, err := compile(c)
	if err != nil {
		return err
	}
	if len(comp.outs) < len(n.out) {
		for k := len(comp.outs); k < len(n.out); k++ {
			if g.values[n.out[k]] != "" {
				return unsupported("output %d", k)
			}
		}
	}
	for k, o := range n.out {
		if k >= len(comp.outs) {
			break
		}
		if _, err := checkedNumel(comp.outs[k].shape); err != nil {
			return err
		}
		p.values[o] = planValue{dt: comp.outs[k].dt, shape: comp.outs[k].shape}
		defined[o] = true
	}
	if allConst || comp.shapeOnly {
		// Fold: run the kernel now on freshly allocated outputs.
		in := make([]*tensorData, len(n.in))
		for k, v := range n.in {
			if v < 0 {
				continue
			}
			if t := p.values[v].c; t != nil {
				in[k] = t
			} else {
				in[k] = &tensorData{dt: p.values[v].dt, shape: p.values[v].shape}
			}
		}
		out := make([]*tensorData, len(comp.outs))
		for k, s := range comp.outs {
			p.folded += numel(s.shape)
			if p.folded > maxTotalElements {
				return fmt.Errorf("constant folding needs more than %d elements", maxTotalElements)
			}
			out[k] = newTensorData(s.dt, s.shape)
		}
		rc := &runCtx{scratch: make([]float32, comp.scratch)}
		comp.run(rc, in, out)
		if rc.err != nil {
			return rc.err
		}
		for k, o := range n.out {
			if k < len(out) {
				p.values[o].c = out[k]
			}
		}
		return nil
	}
	p.steps = append(p.steps, step{node: n, run: comp.run, in: n.in, out: n.out[:min(len(n.out), len(comp.outs))]})
	p.scratch = max(p.scratch, comp.scratch)
	return nil
}

// assignBuffers gives every computed value a buffer slot, reusing the slot of a value whose
// last reader has run (greedy, best fit by size). Graph outputs keep their own slots.
func (p *plan) assignBuffers(g *graphIR) {
	p.slot = make([]int, len(p.values))
	for k := range p.slot {
		p.slot[k] = -1
	}
	lastUse := make([]int, len(p.values))
	for k := range lastUse {
		lastUse[k] = -1
	}
	for s, st := range p.steps {
		for _, v := range st.in {
			if v >= 0 {
				lastUse[v] = s
			}
		}
	}
	isOutput := make([]bool, len(p.values))
	for _, v := range g.outputs {
		isOutput[v] = true
	}
	var free []int
	for s, st := range p.steps {
		for _, v := range st.out {
			if p.slot[v] >= 0 || p.values[v].c != nil {
				continue
			}
			size := p.values[v].storageLen()
			dt := p.values[v].dt
			best := -1
			for fi, sl := range free {
				if p.slotDT[sl] != dt || isOutput[v] {
					continue
				}
				if best < 0 || absDiff(p.slotLen[sl], size) < absDiff(p.slotLen[free[best]], size) {
					best = fi
				}
			}
			if best >= 0 {
				sl := free[best]
				free = append(free[:best], free[best+1:]...)
				p.slot[v] = sl
				p.slotLen[sl] = max(p.slotLen[sl], size)
			} else {
				p.slot[v] = len(p.slotLen)
				p.slotLen = append(p.slotLen, size)
				p.slotDT = append(p.slotDT, dt)
			}
		}
		// Release the inputs read for the last time, and outputs nobody reads.
		release := func(v int) {
			if v >= 0 && p.slot[v] >= 0 && !isOutput[v] && !containsInt(free, p.slot[v]) {
				free = append(free, p.slot[v])
			}
		}
		for _, v := range st.in {
			if v >= 0 && lastUse[v] == s {
				release(v)
			}
		}
		for _, v := range st.out {
			if lastUse[v] < 0 {
				release(v)
			}
		}
	}
	sort.Ints(free)
}

func absDiff(a, b int) int {
	if a > b {
		return a - b
	}
	return b - a
}

func containsInt(s []int, x int) bool {
	for _, v := range s {
		if v == x {
			return true
		}
	}
	return false
}

// NodeError is an error at one operator of a model: an unsupported operator, attribute or
// data type, or a malformed node. Err wraps ErrUnsupported when the engine lacks the feature.
type NodeError struct {
	Model string // model file name
	Op    string // ONNX operator type
	Node  string // the node's first output name
	Err   error
}

func (e *NodeError) Error() string {
	return fmt.Sprintf("%s: %s node %q: %v", e.Model, e.Op, e.Node, e.Err)
}

func (e *NodeError) Unwrap() error { return e.Err }

// isNeedConst reports whether err says a shape depends on runtime data.
func isNeedConst(err error) bool { return errors.Is(err, errNeedConst) }
