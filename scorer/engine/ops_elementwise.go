package engine

import (
	"fmt"
	"math"

	"github.com/spoofsense/spoofsense/scorer/engine/kernels"
)

// binOp is an elementwise binary operator.
type binOp uint8

const (
	binAdd binOp = iota
	binSub
	binMul
	binDiv
	binPRelu
)

// broadcast is a numpy broadcast of two shapes, reduced to as few dimensions as possible:
// adjacent dimensions are merged when both operands step through them the same way.
type broadcast struct {
	rank   int
	dims   [maxRank]int // output dims, outermost first
	sa, sb [maxRank]int // element strides of a and b per dim (0 = broadcast)
}

// broadcastShape returns the numpy broadcast of a and b.
func broadcastShape(a, b []int) ([]int, error) {
	r := max(len(a), len(b))
	out := make([]int, r)
	for k := 0; k < r; k++ {
		da, db := 1, 1
		if i := k - (r - len(a)); i >= 0 {
			da = a[i]
		}
		if i := k - (r - len(b)); i >= 0 {
			db = b[i]
		}
		switch {
		case da == db:
			out[k] = da
		case da == 1:
			out[k] = db
		case db == 1:
			out[k] = da
		default:
			return nil, fmt.Errorf("shapes %v and %v do not broadcast", a, b)
		}
	}
	return out, nil
}

func newBroadcast(a, b, out []int) broadcast {
	r := len(out)
	pa := make([]int, r)
	pb := make([]int, r)
	for k := 0; k < r; k++ {
		pa[k], pb[k] = 1, 1
		if i := k - (r - len(a)); i >= 0 {
			pa[k] = a[i]
		}
		if i := k - (r - len(b)); i >= 0 {
			pb[k] = b[i]
		}
	}
	// Collect dims with their full/broadcast flags, dropping size-1 output dims.
	type dim struct {
		n      int
		fa, fb bool
	}
	var ds []dim
	for k := 0; k < r; k++ {
		if out[k] == 1 {
			continue
		}
		d := dim{out[k], pa[k] != 1, pb[k] != 1}
		if len(ds) > 0 && ds[len(ds)-1].fa == d.fa && ds[len(ds)-1].fb == d.fb {
			ds[len(ds)-1].n *= d.n
			continue
		}
		ds = append(ds, d)
	}
	if len(ds) == 0 {
		ds = append(ds, dim{1, true, true})
	}
	var bc broadcast
	bc.rank = len(ds)
	sa, sb := 1, 1
	for k := len(ds) - 1; k >= 0; k-- {
		bc.dims[k] = ds[k].n
		if ds[k].fa {
			bc.sa[k] = sa
			sa *= ds[k].n
		}
		if ds[k].fb {
			bc.sb[k] = sb
			sb *= ds[k].n
		}
	}
	return bc
}

// apply computes out = op(a, b) over the broadcast, one innermost row at a time.
func applyBinary[T float32 | int64](bc *broadcast, op binOp, a, b, out []T) {
	inner := bc.dims[bc.rank-1]
	ia, ib := bc.sa[bc.rank-1], bc.sb[bc.rank-1]
	if bc.rank == 1 {
		binaryRow(op, out[:inner], a, ia, b, ib)
		return
	}
	var idx [maxRank]int
	offA, offB, o := 0, 0, 0
	for {
		binaryRow(op, out[o:o+inner], a[offA:], ia, b[offB:], ib)
		o += inner
		// Advance the outer counters.
		k := bc.rank - 2
		for ; k >= 0; k-- {
			idx[k]++
			offA += bc.sa[k]
			offB += bc.sb[k]
			if idx[k] < bc.dims[k] {
				break
			}
			offA -= bc.sa[k] * bc.dims[k]
			offB -= bc.sb[k] * bc.dims[k]
			idx[k] = 0
		}
		if k < 0 {
			return
		}
	}
}

// binaryRow computes one row; the strides of a and b are 0 (broadcast) or 1.
func binaryRow[T float32 | int64](op binOp, out, a []T, ia int, b []T, ib int) {
	switch {
	case ia == 1 && ib == 1:
		a, b = a[:len(out)], b[:len(out)]
		switch op {
		case binAdd:
			for i := range out {
				out[i] = a[i] + b[i]
			}
		case binSub:
			for i := range out {
				out[i] = a[i] - b[i]
			}
		case binMul:
			for i := range out {
				out[i] = a[i] * b[i]
			}
		case binDiv:
			for i := range out {
				out[i] = a[i] / b[i]
			}
		case binPRelu:
			for i := range out {
				if x := a[i]; x < 0 {
					out[i] = x * b[i]
				} else {
					out[i] = x
				}
			}
		}
	case ib == 0:
		a = a[:len(out)*ia]
		y := b[0]
		for i := range out {
			x := a[i*ia]
			switch op {
			case binAdd:
				out[i] = x + y
			case binSub:
				out[i] = x - y
			case binMul:
				out[i] = x * y
			case binDiv:
				out[i] = x / y
			case binPRelu:
				if x < 0 {
					x *= y
				}
				out[i] = x
			}
		}
	default: // ia == 0, ib == 1
		b = b[:len(out)]
		x := a[0]
		for i := range out {
			y := b[i]
			switch op {
			case binAdd:
				out[i] = x + y
			case binSub:
				out[i] = x - y
			case binMul:
				out[i] = x * y
			case binDiv:
				out[i] = x / y
			case binPRelu:
				if x < 0 {
					out[i] = x * y
				} else {
					out[i] = x
				}
			}
		}
	}
}

func compileBinary(c *compileCtx) (compiled, error) {
	a, err := c.need(0, dtUnknown)
	if err != nil {
		return compiled{}, err
	}
	b, err := c.need(1, a.dt)
	if err != nil {
		return compiled{}, err
	}
	op := map[string]binOp{"Add": binAdd, "Sub": binSub, "Mul": binMul, "Div": binDiv, "PRelu": binPRelu}[c.n.op]
	if _, ok := c.n.attrs["broadcast"]; ok && c.opset < 7 {
		return compiled{}, unsupported("legacy attribute broadcast (opset %d)", c.opset)
	}
	if op == binPRelu && a.dt != dtFloat32 {
		return compiled{}, unsupported("data type %v", a.dt)
	}
	shape, err := broadcastShape(a.shape, b.shape)
	if err != nil {
		return compiled{}, err
	}
	if op == binPRelu && !equalShape(shape, a.shape) {
		return compiled{}, fmt.Errorf("slope shape %v does not broadcast to X shape %v", b.shape, a.shape)
	}
	bc := newBroadcast(a.shape, b.shape, shape)
	if numel(shape) == 0 {
		return single(a.dt, shape, func(*runCtx, []*tensorData, []*tensorData) {})
	}
	if a.dt == dtInt64 {
		return single(dtInt64, shape, func(_ *runCtx, in, out []*tensorData) {
			if op == binDiv {
				for _, v := range in[1].i {
					if v == 0 {
						// Integer division by zero: define it as 0 rather than panic.
						for k := range out[0].i {
							out[0].i[k] = 0
						}
						return
					}
				}
			}
			applyBinary(&bc, op, in[0].i, in[1].i, out[0].i)
		})
	}
	return single(dtFloat32, shape, func(_ *runCtx, in, out []*tensorData) {
		applyBinary(&bc, op, in[0].f, in[1].f, out[0].f)
	})
}

// unaryOp is an elementwise unary operator with up to two parameters.
type unaryOp uint8

const (
	unRelu unaryOp = iota
	unSigmoid
	unExp
	unClip
	unHardSigmoid
	unHardSwish
	unIdentity
)

// applyUnary computes out = op(x).
func applyUnary(op unaryOp, p0, p1 float32, x, out []float32) {
	x = x[:len(out)]
	switch op {
	case unRelu:
		for i, v := range x {
			out[i] = max(v, 0)
		}
	case unSigmoid:
		for i, v := range x {
			out[i] = float32(1 / (1 + math.Exp(-float64(v))))
		}
	case unExp:
		kernels.Exp(out, x)
	case unClip:
		for i, v := range x {
			out[i] = min(max(v, p0), p1)
		}
	case unHardSigmoid:
		for i, v := range x {
			out[i] = min(max(p0*v+p1, 0), 1)
		}
	case unHardSwish:
		for i, v := range x {
			out[i] = v * min(max(v/6+0.5, 0), 1)
		}
	case unIdentity:
		copy(out, x)
	}
}

func compileUnary(c *compileCtx) (compiled, error) {
	x, err := c.need(0, dtUnknown)
	if err != nil {
		return compiled{}, err
	}
	var op unaryOp
	var p0, p1 float32
	switch c.n.op {
	case "Relu":
		op = unRelu
	case "Sigmoid":
		op = unSigmoid
	case "Exp":
		op = unExp
	case "HardSwish":
		op = unHardSwish
	case "HardSigmoid":
		op = unHardSigmoid
		if p0, err = c.attrFloat("alpha", 0.2); err != nil {
			return compiled{}, err
		}
		if p1, err = c.attrFloat("beta", 0.5); err != nil {
			return compiled{}, err
		}
	case "Identity":
		op = unIdentity
	case "Dropout":
		op = unIdentity
		if len(c.n.out) > 1 {
			return compiled{}, unsupported("Dropout mask output")
		}
		if t := c.input(2); t != nil {
			if t.c == nil || len(t.c.i) != 1 || t.c.i[0] != 0 {
				return compiled{}, unsupported("Dropout in training mode")
			}
		}
	}
	if op == unIdentity && x.dt == dtInt64 {
		return single(dtInt64, x.shape, func(_ *runCtx, in, out []*tensorData) { copy(out[0].i, in[0].i) })
	}
	if x.dt != dtFloat32 {
		return compiled{}, unsupported("data type %v", x.dt)
	}
	return single(dtFloat32, x.shape, func(_ *runCtx, in, out []*tensorData) {
		applyUnary(op, p0, p1, in[0].f, out[0].f)
	})
}

func compileClip(c *compileCtx) (compiled, error) {
	x, err := c.need(0, dtFloat32)
	if err != nil {
		return compiled{}, err
	}
	if c.opset < 11 {
		lo, err := c.attrFloat("min", -math.MaxFloat32)
		if err != nil {
			return compiled{}, err
		}
		hi, err := c.attrFloat("max", math.MaxFloat32)
		if err != nil {
			return compiled{}, err
		}
		return single(dtFloat32, x.shape, func(_ *runCtx, in, out []*tensorData) {
			applyUnary(unClip, lo, hi, in[0].f, out[0].f)
		})
	}
	for k := 1; k <= 2; k++ {
		if v := c.input(k); v != nil && (v.dt != dtFloat32 || numel(v.shape) != 1) {
			return compiled{}, fmt.Errorf("input %d must be a float32 scalar", k)
		}
	}
	hasMin, hasMax := c.input(1) != nil, c.input(2) != nil
	return single(dtFloat32, x.shape, func(_ *runCtx, in, out []*tensorData) {
		lo, hi := float32(-math.MaxFloat32), float32(math.MaxFloat32)
		if hasMin {
			lo = in[1].f[0]
		}
		if hasMax {
			hi = in[2].f[0]
		}
		applyUnary(unClip, lo, hi, in[0].f, out[0].f)
	})
}
