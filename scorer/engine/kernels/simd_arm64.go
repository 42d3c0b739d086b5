package kernels

import "unsafe"

// The arm64 kernels are NEON (ASIMD) in Go assembly: every arm64 CPU has it, FMLA
// included, so an arm64 build runs them whatever GOEXPERIMENT says (simd/archsimd is
// amd64-only). A vector holds 4 float32, so a 16-channel group is four registers. Each
// kernel computes into registers and writes a small tile; neonStore applies the epilogue
// (bias, residual, ReLU/PReLU) on the way from the tile to the output, so a residual that
// aliases the output is read before it is overwritten. Their speed is not measured: these
// machines are amd64, and qemu, which runs the tests, says nothing about it. Each
// assembly function's comment gives its register blocking and loads per FMA for a later
// check on real hardware.

// cpuRuns reports whether this build and CPU can run variant v: NEON and the portable
// kernels.
func cpuRuns(v impl) bool { return v == implNEON || v == implPortable }

// whyNot says why cpuRuns(v) is false.
func whyNot(v impl) string {
	if cpuRuns(v) {
		return ""
	}
	return "an arm64 build runs the neon or the portable kernels"
}

// The epilogue steps neonStore applies, in this order, as bits of its flags.
const (
	epiBias     = 1 << iota // add the bias
	epiResFirst             // add the residual before the activation
	epiReLU                 // max(x, 0)
	epiPReLU                // x ≥ 0 ? x : slope·x
	epiResLast              // add the residual after the activation
)

// neonEpi is an [Epilogue] as raw base pointers (nil where absent) and the flags of
// neonStore.
type neonEpi struct {
	bias, slope, res unsafe.Pointer
	flags            int
}

// makeNEONEpi returns ep in the form the NEON kernels take.
func makeNEONEpi(ep *Epilogue) neonEpi {
	var e neonEpi
	if ep == nil {
		return e
	}
	if ep.Bias != nil {
		e.bias, e.flags = unsafe.Pointer(unsafe.SliceData(ep.Bias)), e.flags|epiBias
	}
	switch ep.Act {
	case ActReLU:
		e.flags |= epiReLU
	case ActPReLU:
		e.slope, e.flags = unsafe.Pointer(unsafe.SliceData(ep.Slope)), e.flags|epiPReLU
	}
	if ep.Residual != nil {
		e.res = unsafe.Pointer(unsafe.SliceData(ep.Residual))
		if ep.ResidualFirst {
			e.flags |= epiResFirst
		} else {
			e.flags |= epiResLast
		}
	}
	return e
}

// store writes rows ≥ 1 rows of 16 floats from t (ts bytes apart) to element co of c
// (rows cs bytes apart), output channels j..j+15, applying e.
func (e *neonEpi) store(t unsafe.Pointer, rows, ts int, c unsafe.Pointer, co, cs, j int) {
	var bias, slope, res unsafe.Pointer
	if e.bias != nil {
		bias = unsafe.Add(e.bias, j*4)
	}
	if e.slope != nil {
		slope = unsafe.Add(e.slope, j*4)
	}
	if e.res != nil {
		res = unsafe.Add(e.res, co*4)
	}
	neonStore(t, rows, ts, unsafe.Add(c, co*4), cs, bias, slope, res, e.flags)
}

// neonStore (assembly, simd_arm64.s) applies the epilogue that flags selects to rows of 16
// floats at t and stores them at c; see store.
//
//go:noescape
func neonStore(t unsafe.Pointer, rows, ts int, c unsafe.Pointer, cs int, bias, slope, res unsafe.Pointer, flags int)

// windowAddrs writes to xs the addresses of the taps of output pixel (oy, ox) of window g
// on an h×w input, in window order (ky, kx), and returns how many it wrote: input pixel
// (iy, ix) is at base + (iy*w+ix)*ps bytes; a tap outside the input is nil (the kernels
// skip it).
func windowAddrs(xs []unsafe.Pointer, g *ConvGeom, h, w, oy, ox int, base unsafe.Pointer, ps int) int {
	t := 0
	for ky := 0; ky < g.KH; ky++ {
		iy := oy*g.StrideH - g.PadTop + ky*g.DilationH
		for kx := 0; kx < g.KW; kx++ {
			ix := ox*g.StrideW - g.PadLeft + kx*g.DilationW
			if uint(iy) < uint(h) && uint(ix) < uint(w) {
				xs[t] = unsafe.Add(base, (iy*w+ix)*ps)
			} else {
				xs[t] = nil
			}
			t++
		}
	}
	return t
}

// neonTaps (assembly, simd_arm64.s) computes out = Σ_t in_t · wt[t*ws/4 : +16] over n ≥ 1
// taps whose inputs are at xs[t] (nil: outside the input, skipped): the float32 there
// broadcast if bcast is 1, else the 16 floats there.
//
//go:noescape
func neonTaps(n int, xs *unsafe.Pointer, wt unsafe.Pointer, ws int, out *[16]float32, bcast int)
