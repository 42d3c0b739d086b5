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

// Accelerated reports whether the kernels run vectorised (AVX-512) on this CPU.
func Accelerated() bool { return archsimd.X86.AVX512() }
