package engine

import (
	"context"
	"fmt"

	"gorgonia.org/tensor"
)

// Session is the per-goroutine run state of a Model: the activation buffers, scratch memory
// and output tensors. A Session is not safe for concurrent use; create one per goroutine with
// Model.NewSession and reuse it — in steady state Run does not allocate (for static models).
type Session struct {
	m        *Model
	vals     []*tensorData   // by value index
	stepIn   [][]*tensorData // per step
	stepOut  [][]*tensorData
	rc       runCtx
	outMap   map[string]*tensor.Dense
	outDense []*tensor.Dense
	outF32   [][]float32
}

// NewSession returns fresh run state for m.
func (m *Model) NewSession() *Session {
	s := &Session{m: m, outMap: make(map[string]*tensor.Dense, len(m.g.outputs))}
	p := m.plan
	if p == nil {
		return s
	}
	bufF := make([][]float32, len(p.slotLen))
	bufI := make([][]int64, len(p.slotLen))
	for k, n := range p.slotLen {
		if p.slotDT[k] == dtInt64 {
			bufI[k] = make([]int64, n)
		} else {
			bufF[k] = make([]float32, n)
		}
	}
	s.vals = make([]*tensorData, len(p.values))
	for v, pv := range p.values {
		switch {
		case pv.c != nil:
			s.vals[v] = pv.c
		case p.slot[v] >= 0:
			n := pv.storageLen()
			t := &tensorData{dt: pv.dt, shape: pv.shape}
			if pv.dt == dtInt64 {
				t.i = bufI[p.slot[v]][:n]
			} else {
				t.f = bufF[p.slot[v]][:n]
			}
			s.vals[v] = t
		default:
			s.vals[v] = &tensorData{dt: pv.dt, shape: pv.shape}
		}
	}
	for _, st := range p.steps {
		in := make([]*tensorData, len(st.in))
		for k, v := range st.in {
			if v >= 0 {
				in[k] = s.vals[v]
			}
		}
		out := make([]*tensorData, len(st.out))
		for k, v := range st.out {
			out[k] = s.vals[v]
		}
		s.stepIn = append(s.stepIn, in)
		s.stepOut = append(s.stepOut, out)
	}
	s.rc.scratch = make([]float32, p.scratch)
	for _, v := range m.g.outputs {
		t := s.vals[v]
		s.outDense = append(s.outDense, toGorgonia(t))
		s.outF32 = append(s.outF32, t.f)
	}
	return s
}

// Run computes the model's outputs. inputs maps every graph input name to a float32 (or, for
// integer inputs, int64) *tensor.Dense of the declared shape; they are read, not kept. The
// returned map and its tensors belong to the session and stay valid until its next Run.
func (s *Session) Run(ctx context.Context, inputs map[string]*tensor.Dense) (out map[string]*tensor.Dense, err error) {
	m := s.m
	defer func() {
		if r := recover(); r != nil {
			out, err = nil, fmt.Errorf("%s: engine panic: %v", m.name, r)
		}
	}()
	if len(inputs) != len(m.g.inputs) {
		return nil, fmt.Errorf("%s: got %d inputs, the model has %d", m.name, len(inputs), len(m.g.inputs))
	}
	if m.plan == nil {
		return s.runDynamic(ctx, inputs)
	}
	for _, v := range m.g.inputs {
		name := m.g.values[v]
		d, ok := inputs[name]
		if !ok || d == nil {
			return nil, fmt.Errorf("%s: missing input %q", m.name, name)
		}
		t := s.vals[v]
		if !equalShape(d.Shape(), t.shape) && !(len(t.shape) == 0 && d.Shape().TotalSize() == 1) {
			return nil, fmt.Errorf("%s: input %q has shape %v, want %v", m.name, name, d.Shape(), t.shape)
		}
		if d.RequiresIterator() {
			return nil, fmt.Errorf("%s: input %q is a non-contiguous view", m.name, name)
		}
		switch d.Dtype() {
		case tensor.Float32:
			if t.dt != dtFloat32 {
				return nil, fmt.Errorf("%s: input %q is float32, want %v", m.name, name, t.dt)
			}
			t.f = d.Float32s()
		case tensor.Int64:
			if t.dt != dtInt64 {
				return nil, fmt.Errorf("%s: input %q is int64, want %v", m.name, name, t.dt)
			}
			t.i = d.Int64s()
		default:
			return nil, fmt.Errorf("%s: input %q: %w data type %v", m.name, name, ErrUnsupported, d.Dtype())
		}
		if t.len() != numel(t.shape) {
			return nil, fmt.Errorf("%s: input %q has %d elements, want %d", m.name, name, t.len(), numel(t.shape))
		}
	}
	if err := s.runSteps(ctx); err != nil {
		return nil, err
	}
	for k, v := range m.g.outputs {
		s.outMap[m.g.values[v]] = s.outDense[k]
	}
	return s.outMap, nil
}

// RunFloat32 is the zero-copy fast path for a static model with a single float32 input: in
// is that input's data (row-major, of the declared shape) and is not kept. It returns the
// outputs' data in graph order; the slices belong to the session and stay valid until its
// next Run.
func (s *Session) RunFloat32(ctx context.Context, in []float32) (out [][]float32, err error) {
	m := s.m
	defer func() {
		if r := recover(); r != nil {
			out, err = nil, fmt.Errorf("%s: engine panic: %v", m.name, r)
		}
	}()
	if m.plan == nil || len(m.g.inputs) != 1 {
		return nil, fmt.Errorf("%s: RunFloat32 needs a static model with one input", m.name)
	}
	t := s.vals[m.g.inputs[0]]
	if t.dt != dtFloat32 || len(in) != numel(t.shape) {
		return nil, fmt.Errorf("%s: input has %d elements, want %d (shape %v)", m.name, len(in), numel(t.shape), t.shape)
	}
	t.f = in
	if err := s.runSteps(ctx); err != nil {
		return nil, err
	}
	for k, v := range m.g.outputs {
		if s.vals[v].dt != dtFloat32 {
			return nil, fmt.Errorf("%s: output %q is not float32", m.name, m.g.values[v])
		}
		s.outF32[k] = s.vals[v].f
	}
	return s.outF32, nil
}

func (s *Session) runSteps(ctx context.Context) error {
	p := s.m.plan
	s.rc.err = nil
	for k := range p.steps {
		if k%16 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		st := &p.steps[k]
		st.run(&s.rc, s.stepIn[k], s.stepOut[k])
		if s.rc.err != nil {
			return fmt.Errorf("%s: %w", s.m.name, s.rc.err)
		}
	}
	return nil
}

// runDynamic plans the graph with the actual inputs bound as constants, which evaluates it.
func (s *Session) runDynamic(ctx context.Context, inputs map[string]*tensor.Dense) (map[string]*tensor.Dense, error) {
	m := s.m
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	g := *m.g
	g.consts = make(map[int]*tensorData, len(m.g.consts)+len(inputs))
	for k, v := range m.g.consts {
		g.consts[k] = v
	}
	for _, v := range m.g.inputs {
		name := m.g.values[v]
		d, ok := inputs[name]
		if !ok {
			return nil, fmt.Errorf("%s: missing input %q", m.name, name)
		}
		t, err := fromGorgonia(d)
		if err != nil {
			return nil, fmt.Errorf("%s: input %q: %w", m.name, name, err)
		}
		g.consts[v] = t
	}
	g.inputs = nil
	p, err := buildPlan(&g, nil, m.name, planOptions{layout: layoutNCHW})
	if err != nil {
		return nil, err
	}
	clear(s.outMap)
	for _, v := range g.outputs {
		t := p.values[v].c
		if t == nil {
			return nil, fmt.Errorf("%s: output %q was not computed", m.name, g.values[v])
		}
		s.outMap[g.values[v]] = toGorgonia(t)
	}
	return s.outMap, nil
}
