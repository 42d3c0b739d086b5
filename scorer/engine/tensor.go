package engine

import (
	"fmt"

	"gorgonia.org/tensor"
)

// dtype is the element type of a value inside the engine. Only float32 (activations and
// weights) and int64 (shapes, indices) are computed with; int32 and bool constants are
// widened to int64 when decoded.
type dtype uint8

const (
	dtUnknown dtype = iota
	dtFloat32
	dtInt64
)

func (d dtype) String() string {
	switch d {
	case dtFloat32:
		return "float32"
	case dtInt64:
		return "int64"
	}
	return "unknown"
}

// maxRank bounds the rank of every tensor the engine handles; the broadcasting loops keep
// their index counters in fixed-size arrays of this length.
const maxRank = 8

// maxElements bounds the element count of any declared or inferred tensor, and
// maxTotalElements the sum over a model's declared values and over a plan's buffers, so that
// a corrupt model cannot make the loader allocate without limit. The shipped models need
// well under a million elements per value.
const (
	maxElements      = 1 << 26
	maxTotalElements = 1 << 27
)

// tensorData is a value inside the engine: a dense row-major tensor holding either float32 or
// int64 elements.
type tensorData struct {
	dt    dtype
	shape []int
	f     []float32
	i     []int64
}

// numel returns the number of elements a shape holds.
func numel(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}

// checkedNumel returns the element count of shape or an error when a dimension is negative
// or the count exceeds maxElements.
func checkedNumel(shape []int) (int, error) {
	if len(shape) > maxRank {
		return 0, fmt.Errorf("rank %d exceeds the supported %d", len(shape), maxRank)
	}
	n := 1
	for _, d := range shape {
		if d < 0 {
			return 0, fmt.Errorf("negative dimension in shape %v", shape)
		}
		if d != 0 && n > maxElements/d {
			return 0, fmt.Errorf("shape %v has more than %d elements", shape, maxElements)
		}
		n *= d
	}
	return n, nil
}

// newTensorData allocates a zeroed tensor of the given type and shape.
func newTensorData(dt dtype, shape []int) *tensorData {
	t := &tensorData{dt: dt, shape: append([]int(nil), shape...)}
	switch dt {
	case dtFloat32:
		t.f = make([]float32, numel(shape))
	case dtInt64:
		t.i = make([]int64, numel(shape))
	}
	return t
}

// len returns the element count.
func (t *tensorData) len() int {
	if t.dt == dtInt64 {
		return len(t.i)
	}
	return len(t.f)
}

// ints returns the elements as ints (for shape-like int64 tensors).
func (t *tensorData) ints() []int {
	out := make([]int, len(t.i))
	for k, v := range t.i {
		out[k] = int(v)
	}
	return out
}

// fromGorgonia converts a gorgonia tensor into engine data, sharing the backing slice when
// the element type is float32 or int64. The caller must not mutate the result.
func fromGorgonia(t tensor.Tensor) (*tensorData, error) {
	d, ok := t.(*tensor.Dense)
	if !ok || d == nil {
		return nil, fmt.Errorf("tensor of type %T is not a *tensor.Dense", t)
	}
	if d.RequiresIterator() {
		return nil, fmt.Errorf("tensor is a non-contiguous view")
	}
	shape := append([]int(nil), d.Shape()...)
	if len(shape) == 1 && shape[0] == 1 && d.IsScalar() {
		shape = nil
	}
	out := &tensorData{shape: shape}
	switch v := d.Data().(type) {
	case []float32:
		out.dt, out.f = dtFloat32, v
	case float32:
		out.dt, out.f = dtFloat32, []float32{v}
	case []float64:
		out.dt, out.f = dtFloat32, make([]float32, len(v))
		for k, x := range v {
			out.f[k] = float32(x)
		}
	case float64:
		out.dt, out.f = dtFloat32, []float32{float32(v)}
	case []int64:
		out.dt, out.i = dtInt64, v
	case int64:
		out.dt, out.i = dtInt64, []int64{v}
	case []int32:
		out.dt, out.i = dtInt64, make([]int64, len(v))
		for k, x := range v {
			out.i[k] = int64(x)
		}
	case int32:
		out.dt, out.i = dtInt64, []int64{int64(v)}
	case []bool:
		out.dt, out.i = dtInt64, make([]int64, len(v))
		for k, x := range v {
			if x {
				out.i[k] = 1
			}
		}
	default:
		return nil, fmt.Errorf("unsupported data type %v", d.Dtype())
	}
	if numel(out.shape) != out.len() {
		return nil, fmt.Errorf("shape %v does not match %d elements", out.shape, out.len())
	}
	return out, nil
}

// toGorgonia wraps engine data as a *tensor.Dense sharing its backing slice.
func toGorgonia(t *tensorData) *tensor.Dense {
	shape := t.shape
	if t.dt == dtInt64 {
		return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(t.i))
	}
	return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(t.f))
}

func equalShape(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for k := range a {
		if a[k] != b[k] {
			return false
		}
	}
	return true
}

// floats returns t's float32 data, nil for a nil t.
func (t *tensorData) floats() []float32 {
	if t == nil {
		return nil
	}
	return t.f
}
