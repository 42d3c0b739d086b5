package engine

import "fmt"

// copyRaw copies src's elements into dst (same element type).
func copyRaw(dst, src *tensorData) {
	if src.dt == dtInt64 {
		copy(dst.i, src.i)
	} else {
		copy(dst.f, src.f)
	}
}

// copyShort is copy for slices that are often only a few elements long (the rows of a
// [1, 4420, 2] tensor), where calling memmove costs more than the copy.
func copyShort[T float32 | int64](dst, src []T) {
	if len(src) > 8 {
		copy(dst, src)
		return
	}
	dst = dst[:len(src)]
	for i := range dst {
		dst[i] = src[i]
	}
}

// reshapeKernel copies the data unchanged under a new shape.
func reshapeKernel(_ *runCtx, in, out []*tensorData) { copyRaw(out[0], in[0]) }

// strided describes out[i] = in[base + Σ idx_d·stride_d] over the output dims.
type strided struct {
	rank   int
	dims   [maxRank]int
	stride [maxRank]int
	base   int
}

// simplify drops the size-1 dimensions of s and merges dimensions that step through the
// input contiguously, so that gatherStrided runs long rows and few counters.
func (s *strided) simplify() {
	var out strided
	out.base = s.base
	for k := 0; k < s.rank; k++ {
		if s.dims[k] == 1 {
			continue
		}
		if s.dims[k] == 0 {
			return // empty: nothing to gather, keep s as it is
		}
		if r := out.rank; r > 0 && out.stride[r-1] == s.stride[k]*s.dims[k] {
			out.dims[r-1] *= s.dims[k]
			out.stride[r-1] = s.stride[k]
			continue
		}
		out.dims[out.rank], out.stride[out.rank] = s.dims[k], s.stride[k]
		out.rank++
	}
	*s = out
}

func gatherStrided[T float32 | int64](s *strided, src, dst []T) {
	if len(dst) == 0 {
		return
	}
	if s.rank == 0 {
		dst[0] = src[s.base]
		return
	}
	if s.rank == 2 && s.stride[1] == 1 && s.dims[1] <= 8 {
		// Many short rows, such as a slice of the last axis of a [1, 4420, 4] tensor.
		n, st := s.dims[1], s.stride[0]
		off := s.base
		for o := 0; o < len(dst); o += n {
			row, in := dst[o:o+n], src[off:off+n]
			for j := range row {
				row[j] = in[j]
			}
			off += st
		}
		return
	}
	last := s.rank - 1
	n, st := s.dims[last], s.stride[last]
	var idx [maxRank]int
	off, o := s.base, 0
	for {
		row := dst[o : o+n]
		if st == 1 {
			copyShort(row, src[off:off+n])
		} else {
			p := off
			for i := range row {
				row[i] = src[p]
				p += st
			}
		}
		o += n
		k := last - 1
		for ; k >= 0; k-- {
			idx[k]++
			off += s.stride[k]
			if idx[k] < s.dims[k] {
				break
			}
			off -= s.stride[k] * s.dims[k]
			idx[k] = 0
		}
		if k < 0 {
			return
		}
	}
}

func (s *strided) run(in, out *tensorData) {
	if in.dt == dtInt64 {
		gatherStrided(s, in.i, out.i)
	} else {
		gatherStrided(s, in.f, out.f)
	}
}

// rowStrides returns the row-major element strides of shape.
func rowStrides(shape []int) []int {
	st := make([]int, len(shape))
	acc := 1
	for k := len(shape) - 1; k >= 0; k-- {
		st[k] = acc
		acc *= shape[k]
	}
	return st
}

func compileFlatten(c *compileCtx) (compiled, error) {
	x, err := c.need(0, dtUnknown)
	if err != nil {
		return compiled{}, err
	}
	axis, err := c.attrInt("axis", 1)
	if err != nil {
		return compiled{}, err
	}
	r := len(x.shape)
	a := int(axis)
	if a < 0 {
		a += r
	}
	if a < 0 || a > r {
		return compiled{}, fmt.Errorf("axis %d out of range for rank %d", axis, r)
	}
	return single(x.dt, []int{numel(x.shape[:a]), numel(x.shape[a:])}, reshapeKernel)
}

func compileReshape(c *compileCtx) (compiled, error) {
	x, err := c.need(0, dtUnknown)
	if err != nil {
		return compiled{}, err
	}
	var target []int
	if t, ok, err := c.attrInts("shape"); err != nil {
		return compiled{}, err
	} else if ok && c.input(1) == nil {
		target = t
	} else if target, err = c.constInts(1); err != nil {
		return compiled{}, err
	}
	allowZero, err := c.attrInt("allowzero", 0)
	if err != nil {
		return compiled{}, err
	}
	shape := make([]int, len(target))
	infer := -1
	known := 1
	for k, d := range target {
		switch {
		case d == 0 && allowZero == 0:
			if k >= len(x.shape) {
				return compiled{}, fmt.Errorf("shape %v copies dim %d of a rank-%d input", target, k, len(x.shape))
			}
			shape[k] = x.shape[k]
		case d == -1:
			if infer >= 0 {
				return compiled{}, fmt.Errorf("shape %v has more than one -1", target)
			}
			infer = k
			continue
		case d < 0:
			return compiled{}, fmt.Errorf("bad shape %v", target)
		default:
			shape[k] = d
		}
		known *= shape[k]
	}
	total := numel(x.shape)
	if infer >= 0 {
		if known == 0 || total%known != 0 {
			return compiled{}, fmt.Errorf("cannot reshape %v to %v", x.shape, target)
		}
		shape[infer] = total / known
	}
	if numel(shape) != total {
		return compiled{}, fmt.Errorf("cannot reshape %v to %v", x.shape, target)
	}
	return single(x.dt, shape, reshapeKernel)
}

func compileUnsqueeze(c *compileCtx) (compiled, error) {
	x, err := c.need(0, dtUnknown)
	if err != nil {
		return compiled{}, err
	}
	axes, ok, err := c.attrInts("axes")
	if err != nil {
		return compiled{}, err
	}
	if !ok {
		if axes, err = c.constInts(1); err != nil {
			return compiled{}, err
		}
	}
	r := len(x.shape) + len(axes)
	if r > maxRank {
		return compiled{}, fmt.Errorf("rank %d exceeds %d", r, maxRank)
	}
	inserted := make([]bool, r)
	for _, a := range axes {
		a, err := normAxis(a, r)
		if err != nil {
			return compiled{}, err
		}
		if inserted[a] {
			return compiled{}, fmt.Errorf("repeated axis in %v", axes)
		}
		inserted[a] = true
	}
	shape := make([]int, 0, r)
	k := 0
	for i := 0; i < r; i++ {
		if inserted[i] {
			shape = append(shape, 1)
		} else {
			shape = append(shape, x.shape[k])
			k++
		}
	}
	return single(x.dt, shape, reshapeKernel)
}

func compileTranspose(c *compileCtx) (compiled, error) {
	x, err := c.need(0, dtUnknown)
	if err != nil {
		return compiled{}, err
	}
	r := len(x.shape)
	perm, ok, err := c.attrInts("perm")
	if err != nil {
		return compiled{}, err
	}
	if !ok {
		perm = make([]int, r)
		for k := range perm {
			perm[k] = r - 1 - k
		}
	}
	if len(perm) != r || r > maxRank {
		return compiled{}, fmt.Errorf("perm %v does not match rank %d", perm, r)
	}
	seen := make([]bool, r)
	inStride := rowStrides(x.shape)
	s := &strided{rank: r}
	shape := make([]int, r)
	for k, p := range perm {
		if p < 0 || p >= r || seen[p] {
			return compiled{}, fmt.Errorf("bad perm %v", perm)
		}
		seen[p] = true
		shape[k] = x.shape[p]
		s.dims[k] = x.shape[p]
		s.stride[k] = inStride[p]
	}
	s.simplify()
	return single(x.dt, shape, func(_ *runCtx, in, out []*tensorData) { s.run(in[0], out[0]) })
}

func compileSlice(c *compileCtx) (compiled, error) {
	x, err := c.need(0, dtUnknown)
	if err != nil {
		return compiled{}, err
	}
	r := len(x.shape)
	var starts, ends, axes, steps []int
	if c.opset < 10 {
		var ok bool
		if starts, ok, err = c.attrInts("starts"); err != nil || !ok {
			return compiled{}, fmt.Errorf("attribute starts: missing or bad (%v)", err)
		}
		if ends, ok, err = c.attrInts("ends"); err != nil || !ok {
			return compiled{}, fmt.Errorf("attribute ends: missing or bad (%v)", err)
		}
		if axes, _, err = c.attrInts("axes"); err != nil {
			return compiled{}, err
		}
	} else {
		if starts, err = c.constInts(1); err != nil {
			return compiled{}, err
		}
		if ends, err = c.constInts(2); err != nil {
			return compiled{}, err
		}
		if c.input(3) != nil {
			if axes, err = c.constInts(3); err != nil {
				return compiled{}, err
			}
		}
		if c.input(4) != nil {
			if steps, err = c.constInts(4); err != nil {
				return compiled{}, err
			}
		}
	}
	if axes == nil {
		axes = make([]int, len(starts))
		for k := range axes {
			axes[k] = k
		}
	}
	if steps == nil {
		steps = make([]int, len(starts))
		for k := range steps {
			steps[k] = 1
		}
	}
	if len(ends) != len(starts) || len(axes) != len(starts) || len(steps) != len(starts) || r > maxRank {
		return compiled{}, fmt.Errorf("starts %v, ends %v, axes %v, steps %v do not match", starts, ends, axes, steps)
	}
	begin := make([]int, r)
	step := make([]int, r)
	shape := append([]int(nil), x.shape...)
	for k := range step {
		step[k] = 1
	}
	seen := make([]bool, r)
	for k, a := range axes {
		a, err := normAxis(a, r)
		if err != nil {
			return compiled{}, err
		}
		if seen[a] {
			return compiled{}, fmt.Errorf("repeated axis in %v", axes)
		}
		seen[a] = true
		dim, st := x.shape[a], steps[k]
		if st == 0 {
			return compiled{}, fmt.Errorf("slice step 0")
		}
		s, e := starts[k], ends[k]
		if s < 0 {
			s += dim
		}
		if e < 0 {
			e += dim
		}
		var n int
		if st > 0 {
			s = min(max(s, 0), dim)
			e = min(max(e, 0), dim)
			if e > s {
				n = (e - s + st - 1) / st
			}
		} else {
			s = min(max(s, -1), dim-1)
			e = min(max(e, -1), dim-1)
			if s > e {
				n = (s - e - st - 1) / -st
			}
		}
		begin[a], step[a], shape[a] = s, st, n
	}
	inStride := rowStrides(x.shape)
	sd := &strided{rank: r}
	for k := 0; k < r; k++ {
		sd.dims[k] = shape[k]
		sd.stride[k] = inStride[k] * step[k]
		if shape[k] > 0 {
			sd.base += begin[k] * inStride[k]
		}
	}
	sd.simplify()
	return single(x.dt, shape, func(_ *runCtx, in, out []*tensorData) { sd.run(in[0], out[0]) })
}

func compileConcat(c *compileCtx) (compiled, error) {
	if len(c.in) == 0 {
		return compiled{}, fmt.Errorf("no inputs")
	}
	first, err := c.need(0, dtUnknown)
	if err != nil {
		return compiled{}, err
	}
	axisAttr, err := c.attrInt("axis", 1)
	if err != nil {
		return compiled{}, err
	}
	if _, ok := c.n.attrs["axis"]; !ok && c.opset >= 4 {
		return compiled{}, fmt.Errorf("attribute axis is required")
	}
	r := len(first.shape)
	axis, err := normAxis(int(axisAttr), r)
	if err != nil {
		return compiled{}, err
	}
	shape := append([]int(nil), first.shape...)
	shape[axis] = 0
	widths := make([]int, len(c.in))
	inner := numel(first.shape[axis+1:])
	for k := range c.in {
		v, err := c.need(k, first.dt)
		if err != nil {
			return compiled{}, err
		}
		if len(v.shape) != r {
			return compiled{}, fmt.Errorf("input %d has rank %d, want %d", k, len(v.shape), r)
		}
		for d := range v.shape {
			if d != axis && v.shape[d] != first.shape[d] {
				return compiled{}, fmt.Errorf("input %d shape %v does not match %v", k, v.shape, first.shape)
			}
		}
		shape[axis] += v.shape[axis]
		widths[k] = v.shape[axis] * inner
	}
	outer := numel(first.shape[:axis])
	total := shape[axis] * inner
	dt := first.dt
	return single(dt, shape, func(_ *runCtx, in, out []*tensorData) {
		off := 0
		for k, t := range in {
			if dt == dtInt64 {
				concatInto(out[0].i, t.i, outer, total, off, widths[k])
			} else {
				concatInto(out[0].f, t.f, outer, total, off, widths[k])
			}
			off += widths[k]
		}
	})
}

// concatInto copies the outer rows of w elements of src into dst, whose rows are total
// elements long, at offset off of each row.
func concatInto[T float32 | int64](dst, src []T, outer, total, off, w int) {
	if w > 8 {
		for o := 0; o < outer; o++ {
			copy(dst[o*total+off:o*total+off+w], src[o*w:(o+1)*w])
		}
		return
	}
	for o := 0; o < outer; o++ {
		d, s := dst[o*total+off:o*total+off+w], src[o*w:(o+1)*w]
		for j := range d {
			d[j] = s[j]
		}
	}
}

func compileConstant(c *compileCtx) (compiled, error) {
	var val *tensorData
	if t, ok, err := c.attrTensor("value"); err != nil {
		return compiled{}, err
	} else if ok {
		val = t
	}
	for name, v := range c.n.attrs {
		var t *tensorData
		switch name {
		case "value":
			continue
		case "value_float":
			f, ok := v.(float32)
			if !ok {
				return compiled{}, fmt.Errorf("attribute %s: bad type %T", name, v)
			}
			t = &tensorData{dt: dtFloat32, f: []float32{f}}
		case "value_floats":
			f, ok := v.([]float32)
			if !ok {
				return compiled{}, fmt.Errorf("attribute %s: bad type %T", name, v)
			}
			t = &tensorData{dt: dtFloat32, shape: []int{len(f)}, f: f}
		case "value_int":
			i, ok := v.(int64)
			if !ok {
				return compiled{}, fmt.Errorf("attribute %s: bad type %T", name, v)
			}
			t = &tensorData{dt: dtInt64, i: []int64{i}}
		case "value_ints":
			i, ok := v.([]int64)
			if !ok {
				return compiled{}, fmt.Errorf("attribute %s: bad type %T", name, v)
			}
			t = &tensorData{dt: dtInt64, shape: []int{len(i)}, i: i}
		default:
			return compiled{}, unsupported("attribute %s", name)
		}
		if val != nil {
			return compiled{}, fmt.Errorf("more than one value attribute")
		}
		val = t
	}
	if val == nil {
		return compiled{}, fmt.Errorf("no value attribute")
	}
	return single(val.dt, val.shape, func(_ *runCtx, _, out []*tensorData) { copyRaw(out[0], val) })
}

func compileShape(c *compileCtx) (compiled, error) {
	x, err := c.need(0, dtUnknown)
	if err != nil {
		return compiled{}, err
	}
	r := len(x.shape)
	start, err := c.attrInt("start", 0)
	if err != nil {
		return compiled{}, err
	}
	end, err := c.attrInt("end", int64(r))
	if err != nil {
		return compiled{}, err
	}
	clampAxis := func(a int) int {
		if a < 0 {
			a += r
		}
		return min(max(a, 0), r)
	}
	s, e := clampAxis(int(start)), clampAxis(int(end))
	dims := append([]int(nil), x.shape[s:max(s, e)]...)
	out, err := single(dtInt64, []int{len(dims)}, func(_ *runCtx, _, out []*tensorData) {
		for k, d := range dims {
			out[0].i[k] = int64(d)
		}
	})
	out.shapeOnly = true
	return out, err
}

func compileGather(c *compileCtx) (compiled, error) {
	x, err := c.need(0, dtUnknown)
	if err != nil {
		return compiled{}, err
	}
	idx, err := c.need(1, dtInt64)
	if err != nil {
		return compiled{}, err
	}
	axisAttr, err := c.attrInt("axis", 0)
	if err != nil {
		return compiled{}, err
	}
	axis, err := normAxis(int(axisAttr), len(x.shape))
	if err != nil {
		return compiled{}, err
	}
	shape := append(append(append([]int(nil), x.shape[:axis]...), idx.shape...), x.shape[axis+1:]...)
	if len(shape) > maxRank {
		return compiled{}, fmt.Errorf("rank %d exceeds %d", len(shape), maxRank)
	}
	outer, dim, inner := numel(x.shape[:axis]), x.shape[axis], numel(x.shape[axis+1:])
	name := c.n.name
	return single(x.dt, shape, func(rc *runCtx, in, out []*tensorData) {
		ind := in[1].i
		for o := 0; o < outer; o++ {
			for k, v := range ind {
				j := int(v)
				if j < 0 {
					j += dim
				}
				if j < 0 || j >= dim {
					rc.fail(fmt.Errorf("gather node %q: index %d out of range [%d, %d)", name, v, -dim, dim))
					return
				}
				dst := (o*len(ind) + k) * inner
				src := (o*dim + j) * inner
				if in[0].dt == dtInt64 {
					copy(out[0].i[dst:dst+inner], in[0].i[src:src+inner])
				} else {
					copy(out[0].f[dst:dst+inner], in[0].f[src:src+inner])
				}
			}
		}
	})
}
