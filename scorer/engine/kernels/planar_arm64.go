package kernels

import "unsafe"

// planarSIMD runs PlanarConv with NEON and reports whether it could (false for the
// portable variant and for more than maxPlanarTaps taps): six output pixels of a row
// times one 16-channel block at a time (neonConv6x16) where the whole window lies inside
// the input, one pixel at a time elsewhere (neonTaps, the taps outside the input
// skipped).
func planarSIMD(v impl, x []float32, h, w int, pw *PlanarConvWeights, y []float32, oh, ow int, ep *Epilogue) bool {
	g := pw.geom
	if v != implNEON || pw.cin*g.KH*g.KW > maxPlanarTaps {
		return false
	}
	p := planarNEON{x: unsafe.Pointer(unsafe.SliceData(x)), y: unsafe.Pointer(unsafe.SliceData(y)),
		pw: pw, h: h, w: w, ow: ow, e: makeNEONEpi(ep)}
	ox0, ox1 := interiorCols(g, w, ow)
	var offsBuf [maxPlanarTaps]int32
	offs := planarOffsets(pw, h, w, &offsBuf)
	wb := unsafe.Pointer(unsafe.SliceData(pw.w))
	cs := pw.coutP * 4
	var tile [96]float32
	for oy := 0; oy < oh; oy++ {
		iy := oy*g.StrideH - g.PadTop
		inside := iy >= 0 && iy+(g.KH-1)*g.DilationH < h
		for cb := 0; cb < pw.coutP; cb += Lanes {
			ox := 0
			if inside {
				for ; ox < ox0; ox++ {
					p.pixel(oy, ox, cb)
				}
				for ; ox+6 <= ox1; ox += 6 {
					ix := ox*g.StrideW - g.PadLeft
					neonConv6x16(&offs[0], len(offs), unsafe.Add(p.x, (iy*w+ix)*4), g.StrideW*4, unsafe.Add(wb, cb*4), cs, &tile)
					p.e.store(unsafe.Pointer(&tile), 6, Lanes*4, p.y, (oy*ow+ox)*pw.coutP+cb, cs, cb)
				}
			}
			for ; ox < ow; ox++ {
				p.pixel(oy, ox, cb)
			}
		}
	}
	return true
}

// planarNEON is one PlanarConv call of the NEON kernels: its tensors, shapes and
// epilogue, and the buffers of its single-pixel kernel.
type planarNEON struct {
	x, y unsafe.Pointer
	pw   *PlanarConvWeights
	h, w int
	ow   int
	e    neonEpi
	xs   [maxPlanarTaps]unsafe.Pointer // a pixel's tap addresses
	px   [Lanes]float32                // neonTaps's output
}

// pixel computes output pixel (oy, ox), channels cb..cb+15, for any position of the window
// (the taps outside the input skipped).
func (p *planarNEON) pixel(oy, ox, cb int) {
	cp := p.pw.coutP
	t := 0
	for ci := 0; ci < p.pw.cin; ci++ {
		plane := unsafe.Add(p.x, ci*p.h*p.w*4)
		t += windowAddrs(p.xs[t:], &p.pw.geom, p.h, p.w, oy, ox, plane, 4)
	}
	neonTaps(t, &p.xs[0], unsafe.Add(unsafe.Pointer(unsafe.SliceData(p.pw.w)), cb*4), cp*4, &p.px, 1)
	p.e.store(unsafe.Pointer(&p.px), 1, Lanes*4, p.y, (oy*p.ow+ox)*cp+cb, cp*4, cb)
}

// convDirectSIMD runs a dense NHWC convolution with 16 output channels directly, as on
// amd64: the input is copied into scratch with its zero padding around it, six output
// pixels of a row at a time run through neonConv6x16 with the tap offsets of the padded
// input, the row's last pixels one at a time through neonConv1x16. It reports whether it
// could (false for the portable variant).
func convDirectSIMD(v impl, x []float32, h, w int, cw *ConvWeights, y, scratch []float32, oh, ow int, ep *Epilogue) bool {
	if v != implNEON {
		return false
	}
	var offsBuf [maxDirectTaps]int32
	d := prepareDirect(x, h, w, cw, scratch, offsBuf[:])
	e := makeNEONEpi(ep)
	yp := unsafe.Pointer(unsafe.SliceData(y))
	var tile [96]float32
	var px [Lanes]float32
	for oy := 0; oy < oh; oy++ {
		row := unsafe.Add(d.x, oy*d.rs)
		ox := 0
		for ; ox+6 <= ow; ox += 6 {
			neonConv6x16(&d.offs[0], len(d.offs), unsafe.Add(row, ox*d.s), d.s, d.wt, Lanes*4, &tile)
			e.store(unsafe.Pointer(&tile), 6, Lanes*4, yp, (oy*ow+ox)*Lanes, Lanes*4, 0)
		}
		for ; ox < ow; ox++ {
			neonConv1x16(&d.offs[0], len(d.offs), unsafe.Add(row, ox*d.s), d.wt, Lanes*4, &px)
			e.store(unsafe.Pointer(&px), 1, Lanes*4, yp, (oy*ow+ox)*Lanes, Lanes*4, 0)
		}
	}
	return true
}

// neonConv6x16 (assembly, planar_arm64.s) writes output pixels 0..5 × 16 channels of a
// convolution whose taps all lie inside the input to tile, row after row (pixel p's
// channels at p*16): x is pixel 0's first tap, s the bytes from one pixel's first tap to
// the next's, offs[0..n-1] the tap offsets in floats, tap t's weights at wt + t*ws bytes.
//
//go:noescape
func neonConv6x16(offs *int32, n int, x unsafe.Pointer, s int, wt unsafe.Pointer, ws int, tile *[96]float32)

// neonConv1x16 (assembly, planar_arm64.s) is neonConv6x16 for one output pixel.
//
//go:noescape
func neonConv1x16(offs *int32, n int, x unsafe.Pointer, wt unsafe.Pointer, ws int, out *[16]float32)
