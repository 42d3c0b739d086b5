package engine

import (
	"errors"
	"fmt"
)

// LoadOptions configure Load.
type LoadOptions struct {
	// Name names the model (usually its file name) in errors.
	Name string
	// Batch, when positive, replaces the leading (batch) dimension of every graph input of
	// rank ≥ 1 before planning, so a model declared for batch 1 (or a dynamic batch) is
	// planned statically for Batch images per Run. Operators that hard-code the batch (a
	// Reshape to a constant shape) keep their ONNX meaning. Zero keeps the declared shapes.
	Batch int
}

// ValueInfo describes a graph input or output.
type ValueInfo struct {
	Name string
	// Shape is the static shape; -1 marks a dimension only known at run time.
	Shape []int
	// DType is the element type: "float32" or "int64".
	DType string
}

// Model is a loaded, planned ONNX model. It is immutable and safe for concurrent use; run it
// through Sessions.
type Model struct {
	name    string
	g       *graphIR
	plan    *plan // nil in dynamic mode
	inputs  []ValueInfo
	outputs []ValueInfo
}

// ErrMalformed is wrapped by errors about model files that cannot be decoded.
var ErrMalformed = errors.New("malformed model")

// Load decodes an ONNX model and plans its execution: shape arithmetic on static shapes is
// folded to constants, BatchNormalization is folded into convolutions, activations are fused,
// and buffers are assigned. A model whose input shapes are not all static, or whose shapes
// depend on input data, is kept in dynamic mode and planned at every Run.
func Load(data []byte, opts LoadOptions) (m *Model, err error) {
	return load(data, opts, planOptions{})
}

// load is Load with the planner's knobs (tests plan both layouts in every build).
func load(data []byte, opts LoadOptions, popts planOptions) (m *Model, err error) {
	name := opts.Name
	if name == "" {
		name = "model"
	}
	defer func() {
		if r := recover(); r != nil {
			m, err = nil, fmt.Errorf("%s: %w: decoder panic: %v", name, ErrMalformed, r)
		}
	}()
	g, err := decodeGraph(data)
	if err != nil {
		var ne *NodeError
		if errors.As(err, &ne) {
			ne.Model = name
			return nil, ne
		}
		return nil, fmt.Errorf("%s: %w: %v", name, ErrMalformed, err)
	}
	for _, n := range g.nodes {
		if _, ok := compilerFor(n.op); !ok {
			return nil, &NodeError{Model: name, Op: n.op, Node: n.name, Err: unsupported("operator")}
		}
	}
	if err := fuse(g); err != nil {
		var ne *NodeError
		if errors.As(err, &ne) {
			ne.Model = name
		}
		return nil, err
	}
	if opts.Batch < 0 {
		return nil, fmt.Errorf("%s: LoadOptions.Batch is %d, want ≥ 0", name, opts.Batch)
	}
	m = &Model{name: name, g: g}
	static := true
	specs := map[int]planValue{}
	for _, v := range g.inputs {
		vi := ValueInfo{Name: g.values[v], DType: "float32"}
		d, ok := g.decl[vi.Name]
		if !ok || !d.hasShape {
			static = false
		} else {
			vi.Shape = append([]int(nil), d.shape...)
			if opts.Batch > 0 && len(vi.Shape) > 0 {
				vi.Shape[0] = opts.Batch
			}
			for _, x := range vi.Shape {
				if x < 0 {
					static = false
				}
			}
		}
		dt := dtFloat32
		switch d.elemType {
		case 1: // FLOAT
		case 7, 6, 9: // INT64, INT32, BOOL
			dt, vi.DType = dtInt64, "int64"
		default:
			if ok {
				return nil, fmt.Errorf("%s: input %q: %w data type %d", name, vi.Name, ErrUnsupported, d.elemType)
			}
		}
		if dt == dtInt64 {
			static = false // int64 inputs usually drive shapes: plan with their values
		}
		specs[v] = planValue{dt: dt, shape: vi.Shape}
		m.inputs = append(m.inputs, vi)
	}
	for _, v := range g.outputs {
		vi := ValueInfo{Name: g.values[v], DType: "float32"}
		if d, ok := g.decl[vi.Name]; ok && d.hasShape {
			vi.Shape = append([]int(nil), d.shape...)
			if d.elemType == 7 || d.elemType == 6 || d.elemType == 9 {
				vi.DType = "int64"
			}
		}
		m.outputs = append(m.outputs, vi)
	}
	if static {
		p, err := buildPlan(g, specs, name, popts)
		switch {
		case err == nil:
			m.plan = p
			for k, v := range g.outputs {
				pv := p.values[v]
				m.outputs[k].Shape = append([]int(nil), pv.shape...)
				m.outputs[k].DType = pv.dt.String()
			}
		case isNeedConst(err):
			// dynamic mode
		default:
			return nil, err
		}
	}
	return m, nil
}

// Name returns the model's name as given to Load.
func (m *Model) Name() string { return m.name }

// Inputs describes the graph inputs (initializers excluded), in graph order.
func (m *Model) Inputs() []ValueInfo { return cloneInfos(m.inputs) }

// Outputs describes the graph outputs, in graph order.
func (m *Model) Outputs() []ValueInfo { return cloneInfos(m.outputs) }

// Static reports whether the model was fully planned at load time; a dynamic model is
// planned again at every Run and allocates.
func (m *Model) Static() bool { return m.plan != nil }

func cloneInfos(v []ValueInfo) []ValueInfo {
	out := make([]ValueInfo, len(v))
	for k, x := range v {
		out[k] = ValueInfo{Name: x.Name, Shape: append([]int(nil), x.Shape...), DType: x.DType}
	}
	return out
}
