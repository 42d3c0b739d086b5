//go:build goexperiment.simd && amd64

package kernels

import (
	"simd/archsimd"
	"unsafe"
)

// Every kernel function ends with archsimd.ClearAVXUpperBits (VZEROUPPER): the Go code
// around the kernels uses SSE instructions (MOVUPS for struct copies, X15 as zero), and on
// Intel cores each of those pays a false dependency on the dirty upper halves of the
// vector registers otherwise. Measured here, without it the generic depthwise kernel ran
// 3× slower.

// vec is one AVX-512 vector of 16 float32 lanes.
type vec = archsimd.Float32x16

// ptrAt returns the address of element i of the float32 array starting at p.
func ptrAt(p unsafe.Pointer, i int) *[16]float32 {
	return (*[16]float32)(unsafe.Add(p, i*4))
}

// load returns the 16 floats starting at element i of p.
func load(p unsafe.Pointer, i int) vec { return archsimd.LoadFloat32x16(ptrAt(p, i)) }

// bcast returns element i of p broadcast to all lanes.
func bcast(p unsafe.Pointer, i int) vec {
	return archsimd.BroadcastFloat32x16(*(*float32)(unsafe.Add(p, i*4)))
}

// epiPtrs is an [Epilogue] as raw base pointers, nil where absent, for the SIMD kernels.
type epiPtrs struct {
	bias, slope, res unsafe.Pointer
	act              Activation
	resFirst         bool // add res before the activation
}

func makeEpiPtrs(ep *Epilogue) *epiPtrs {
	if ep == nil || (ep.Bias == nil && ep.Act == ActNone && ep.Residual == nil) {
		return nil
	}
	e := &epiPtrs{act: ep.Act, resFirst: ep.ResidualFirst}
	if ep.Bias != nil {
		e.bias = unsafe.Pointer(unsafe.SliceData(ep.Bias))
	}
	if ep.Act == ActPReLU {
		e.slope = unsafe.Pointer(unsafe.SliceData(ep.Slope))
	}
	if ep.Residual != nil {
		e.res = unsafe.Pointer(unsafe.SliceData(ep.Residual))
	}
	return e
}

// prelu returns x where x ≥ 0 and s·x elsewhere, lane by lane.
func prelu(x, s, zero vec) vec { return x.Min(zero).MulAdd(s, x.Max(zero)) }

// finish applies e to v, output channels j..j+15 whose residual is at element r.
func (e *epiPtrs) finish(v vec, j, r int) vec {
	if e.bias != nil {
		v = v.Add(load(e.bias, j))
	}
	if e.res != nil && e.resFirst {
		v = v.Add(load(e.res, r))
	}
	switch e.act {
	case ActReLU:
		v = v.Max(vec{})
	case ActPReLU:
		v = prelu(v, load(e.slope, j), vec{})
	}
	if e.res != nil && !e.resFirst {
		v = v.Add(load(e.res, r))
	}
	return v
}

// cpuRuns reports whether this build and CPU can run variant v.
func cpuRuns(v impl) bool {
	switch v {
	case implAVX512:
		return archsimd.X86.AVX512()
	case implAVX2:
		return archsimd.X86.AVX2() && archsimd.X86.FMA()
	}
	return v == implPortable
}

// whyNot says why cpuRuns(v) is false.
func whyNot(v impl) string {
	switch v {
	case implAVX512:
		return "this CPU has no AVX-512 (or GODEBUG hides it)"
	case implAVX2:
		return "this CPU lacks AVX2 or FMA (or GODEBUG hides them)"
	}
	return "no such variant"
}

// vec8 is one AVX2 vector of 8 float32 lanes: the AVX2 kernels handle a 16-lane channel
// group as two of them.
type vec8 = archsimd.Float32x8

// ptr8 returns the address of element i of the float32 array starting at p.
func ptr8(p unsafe.Pointer, i int) *[8]float32 {
	return (*[8]float32)(unsafe.Add(p, i*4))
}

// load8 returns the 8 floats starting at element i of p.
func load8(p unsafe.Pointer, i int) vec8 { return archsimd.LoadFloat32x8(ptr8(p, i)) }

// bcast8 returns element i of p broadcast to all 8 lanes.
func bcast8(p unsafe.Pointer, i int) vec8 {
	return archsimd.BroadcastFloat32x8(*(*float32)(unsafe.Add(p, i*4)))
}

// prelu8 is prelu for 8 lanes.
func prelu8(x, s, zero vec8) vec8 { return x.Min(zero).MulAdd(s, x.Max(zero)) }

// finish8 applies e to v, output channels j..j+7 whose residual is at element r.
func (e *epiPtrs) finish8(v vec8, j, r int) vec8 {
	if e.bias != nil {
		v = v.Add(load8(e.bias, j))
	}
	if e.res != nil && e.resFirst {
		v = v.Add(load8(e.res, r))
	}
	switch e.act {
	case ActReLU:
		v = v.Max(vec8{})
	case ActPReLU:
		v = prelu8(v, load8(e.slope, j), vec8{})
	}
	if e.res != nil && !e.resFirst {
		v = v.Add(load8(e.res, r))
	}
	return v
}
