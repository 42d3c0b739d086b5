package engine

import (
	"errors"
	"fmt"

	"github.com/spoofsense/spoofsense/scorer/engine/kernels"
	"gorgonia.org/tensor"
)

// planValue is what the planner knows about a value: its type and static shape, and its data
// when it is a constant (an initializer, a Constant or a folded expression).
type planValue struct {
	dt    dtype
	shape []int // the logical (NCHW) shape, also for NHWC16 values
	c     *tensorData
	nhwc  bool // stored channels-last, channels padded to 16 (rank-4 float32; see lowerNHWC)
}

// storageLen returns the number of elements the value's buffer holds.
func (v *planValue) storageLen() int {
	if v.nhwc {
		s := v.shape
		return s[0] * s[2] * s[3] * kernels.Pad16(s[1])
	}
	return numel(v.shape)
}

// runCtx is the per-session state a kernel may use: scratch memory sized at plan time.
type runCtx struct {
	scratch []float32
	err     error // set by a kernel that meets bad data (e.g. an index out of range)
}

// fail records the first data error a kernel meets.
func (rc *runCtx) fail(err error) {
	if rc.err == nil {
		rc.err = err
	}
}

// kernelFunc computes a node's outputs from its inputs. Output buffers are preallocated with
// the planned shapes; a kernel must not allocate in steady state.
type kernelFunc func(rc *runCtx, in, out []*tensorData)

// outSpec is the planned type and shape of an output.
type outSpec struct {
	dt    dtype
	shape []int
}

// compiled is a node ready to run: its output specs, its kernel and its scratch need.
type compiled struct {
	outs    []outSpec
	run     kernelFunc
	scratch int // float32 elements
	// shapeOnly marks kernels that read only the shapes of their inputs (Shape): they are
	// evaluated at plan time even when their inputs are not constants.
	shapeOnly bool
}

// compileCtx is what an operator's compiler sees.
type compileCtx struct {
	n     *nodeIR
	in    []*planValue // nil for an omitted optional input
	opset int64
}

// opCompiler validates a node, infers its outputs and returns its kernel.
type opCompiler func(c *compileCtx) (compiled, error)

// errNeedConst reports that an operator needs the data of an input to know its output shape
// and that input is not a constant (the model then runs in dynamic mode).
var errNeedConst = errors.New("output shape depends on non-constant data")

// ErrUnsupported is wrapped by errors about operators, attributes or data types the engine
// does not implement.
var ErrUnsupported = errors.New("unsupported")

func unsupported(format string, args ...interface{}) error {
	return fmt.Errorf("%w %s", ErrUnsupported, fmt.Sprintf(format, args...))
}

// compilers maps ONNX operator types to their compilers.
func compilerFor(op string) (opCompiler, bool) {
	switch op {
	case "Conv":
		return compileConv, true
	case "BatchNormalization":
		return compileBatchNorm, true
	case "Relu", "Sigmoid", "Exp", "HardSigmoid", "HardSwish", "Identity", "Dropout":
		return compileUnary, true
	case "Clip":
		return compileClip, true
	case "Add", "Sub", "Mul", "Div", "PRelu":
		return compileBinary, true
	case "MatMul":
		return compileMatMul, true
	case "Gemm":
		return compileGemm, true
	case "Flatten":
		return compileFlatten, true
	case "GlobalAveragePool":
		return compileGlobalAveragePool, true
	case "MaxPool", "AveragePool":
		return compilePool, true
	case "Concat":
		return compileConcat, true
	case "Transpose":
		return compileTranspose, true
	case "Reshape":
		return compileReshape, true
	case "Softmax":
		return compileSoftmax, true
	case "Constant":
		return compileConstant, true
	case "Shape":
		return compileShape, true
	case "Gather":
		return compileGather, true
	case "Unsqueeze":
		return compileUnsqueeze, true
	case "Slice":
		return compileSlice, true
	case "Resize":
		return compileResize, true
	}
	return nil, false
}

// SupportedOps lists the ONNX operators the engine implements.
func SupportedOps() []string {
	return []string{"Add", "AveragePool", "BatchNormalization", "Clip", "Concat", "Constant", "Conv",
		"Div", "Dropout", "Exp", "Flatten", "Gather", "Gemm", "GlobalAveragePool", "HardSigmoid",
		"HardSwish", "Identity", "MatMul", "MaxPool", "Mul", "PRelu", "Relu", "Reshape", "Resize",
		"Shape", "Sigmoid", "Slice", "Softmax", "Sub", "Transpose", "Unsqueeze"}
}

// --- attribute access ---

func (c *compileCtx) attrInt(name string, def int64) (int64, error) {
	v, ok := c.n.attrs[name]
	if !ok {
		return def, nil
	}
	i, ok := v.(int64)
	if !ok {
		return 0, fmt.Errorf("attribute %s: want an int, got %T", name, v)
	}
	return i, nil
}

func (c *compileCtx) attrFloat(name string, def float32) (float32, error) {
	v, ok := c.n.attrs[name]
	if !ok {
		return def, nil
	}
	f, ok := v.(float32)
	if !ok {
		return 0, fmt.Errorf("attribute %s: want a float, got %T", name, v)
	}
	return f, nil
}

func (c *compileCtx) attrString(name, def string) (string, error) {
	v, ok := c.n.attrs[name]
	if !ok {
		return def, nil
	}
	s, ok := v.(string)
	if !ok {
		return "", fmt.Errorf("attribute %s: want a string, got %T", name, v)
	}
	return s, nil
}

// attrInts returns an ints attribute, or nil when it is absent.
func (c *compileCtx) attrInts(name string) ([]int, bool, error) {
	v, ok := c.n.attrs[name]
	if !ok {
		return nil, false, nil
	}
	s, ok := v.([]int64)
	if !ok {
		return nil, false, fmt.Errorf("attribute %s: want ints, got %T", name, v)
	}
	out := make([]int, len(s))
	for k, x := range s {
		out[k] = int(x)
	}
	return out, true, nil
}

func (c *compileCtx) attrTensor(name string) (*tensorData, bool, error) {
	v, ok := c.n.attrs[name]
	if !ok {
		return nil, false, nil
	}
	t, ok := v.(tensor.Tensor)
	if !ok {
		return nil, false, fmt.Errorf("attribute %s: want a tensor, got %T", name, v)
	}
	d, err := fromGorgonia(t)
	if err != nil {
		return nil, false, fmt.Errorf("attribute %s: %w", name, err)
	}
	return d, true, nil
}

// input returns input k, or nil when it is absent or omitted.
func (c *compileCtx) input(k int) *planValue {
	if k < len(c.in) {
		return c.in[k]
	}
	return nil
}

// need returns input k, failing when it is missing.
func (c *compileCtx) need(k int, dt dtype) (*planValue, error) {
	v := c.input(k)
	if v == nil {
		return nil, fmt.Errorf("missing input %d", k)
	}
	if dt != dtUnknown && v.dt != dt {
		return nil, unsupported("data type %v for input %d (want %v)", v.dt, k, dt)
	}
	return v, nil
}

// constInts returns the data of an int64 input that must be constant.
func (c *compileCtx) constInts(k int) ([]int, error) {
	v := c.input(k)
	if v == nil {
		return nil, fmt.Errorf("missing input %d", k)
	}
	if v.c == nil {
		return nil, errNeedConst
	}
	if v.dt != dtInt64 {
		return nil, unsupported("data type %v for input %d (want int64)", v.dt, k)
	}
	return v.c.ints(), nil
}

// normAxis maps a possibly negative axis into [0, rank).
func normAxis(axis, rank int) (int, error) {
	if axis < -rank || axis >= rank {
		return 0, fmt.Errorf("axis %d out of range for rank %d", axis, rank)
	}
	if axis < 0 {
		axis += rank
	}
	return axis, nil
}

// single builds a one-output compiled node.
func single(dt dtype, shape []int, run kernelFunc) (compiled, error) {
	if _, err := checkedNumel(shape); err != nil {
		return compiled{}, err
	}
	return compiled{outs: []outSpec{{dt, shape}}, run: run}, nil
}
