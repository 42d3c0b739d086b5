package kernels

import "unsafe"

// maxDwTaps bounds KH·KW for the NEON depthwise kernels (their table of tap addresses);
// larger windows run the portable kernel.
const maxDwTaps = 64

// dwChunk is the number of interior pixels neonDw3x3Row8 computes per call: its tile is
// dwChunk pixels of 16 channels.
const dwChunk = 32

// depthwiseSIMD runs Depthwise with NEON and reports whether it could (false for the
// portable variant and for windows of more than maxDwTaps taps). Bands of output rows,
// every 16-channel block of a band before the next band, as on amd64: 3×3 windows with
// stride 1 or 2 run their interior pixels through neonDw3x3Row8 (the nine weights in
// registers), every other pixel through neonTaps.
func depthwiseSIMD(v impl, x []float32, h, w int, dw *DepthwiseWeights, y []float32, oh, ow int, ep *Epilogue) bool {
	g := dw.geom
	fast := g.KH == 3 && g.KW == 3 && g.DilationH == 1 && g.DilationW == 1 &&
		g.StrideH == g.StrideW && (g.StrideH == 1 || g.StrideH == 2)
	if v != implNEON || g.KH*g.KW > maxDwTaps {
		return false
	}
	d := dwNEON{x: unsafe.Pointer(unsafe.SliceData(x)), y: unsafe.Pointer(unsafe.SliceData(y)),
		wt: unsafe.Pointer(unsafe.SliceData(dw.w)), h: h, w: w, cp: dw.cp, oh: oh, ow: ow, g: g,
		e: makeNEONEpi(ep)}
	band := max(1, dwBandFloats/(ow*dw.cp))
	for r0 := 0; r0 < oh; r0 += band {
		r1 := min(oh, r0+band)
		for cb := 0; cb < dw.cp; cb += Lanes {
			if fast {
				d.block3x3(cb, r0, r1)
				continue
			}
			for oy := r0; oy < r1; oy++ {
				for ox := 0; ox < ow; ox++ {
					d.pixel(cb, oy, ox)
				}
			}
		}
	}
	return true
}

// dwNEON is one Depthwise call of the NEON kernels: its tensors, shapes and epilogue, and
// the buffers its kernels write.
type dwNEON struct {
	x, y, wt unsafe.Pointer // input, output, packed weights
	h, w, cp int            // input size, padded channel count
	oh, ow   int            // output size
	g        ConvGeom
	e        neonEpi
	xs       [maxDwTaps]unsafe.Pointer // a pixel's tap addresses, for neonTaps
	tile     [dwChunk * Lanes]float32  // neonDw3x3Row8's output, before the epilogue
	px       [Lanes]float32            // neonTaps's output
}

// pixel computes output pixel (oy, ox), channels cb..cb+15, for any window (the taps
// outside the input skipped).
func (d *dwNEON) pixel(cb, oy, ox int) {
	t := windowAddrs(d.xs[:], &d.g, d.h, d.w, oy, ox, unsafe.Add(d.x, cb*4), d.cp*4)
	neonTaps(t, &d.xs[0], unsafe.Add(d.wt, cb*4), d.cp*4, &d.px, 0)
	d.e.store(unsafe.Pointer(&d.px), 1, Lanes*4, d.y, (oy*d.ow+ox)*d.cp+cb, d.cp*4, cb)
}

// block3x3 computes output rows [ra,rb) of channel block cb of a 3×3 depthwise
// convolution with stride 1 or 2: the pixels whose window lies inside the input dwChunk
// at a time through neonDw3x3Row8 (two 8-channel halves into the tile, then the epilogue
// on the way out), the others through pixel.
func (d *dwNEON) block3x3(cb, ra, rb int) {
	g := &d.g
	s := g.StrideH
	// Interior output range: oy*s-PadTop ≥ 0 and oy*s-PadTop+2 ≤ h-1 (same for x).
	oy0, oy1 := ceilDiv(g.PadTop, s), min(d.oh, floorDiv(d.h-3+g.PadTop, s)+1)
	ox0, ox1 := ceilDiv(g.PadLeft, s), min(d.ow, floorDiv(d.w-3+g.PadLeft, s)+1)
	if ox0 >= ox1 {
		oy1 = oy0 // no interior column: every pixel is a border one
	}
	cs := d.cp * 4
	wa := unsafe.Add(d.wt, cb*4)
	tile := unsafe.Pointer(&d.tile)
	for oy := ra; oy < rb; oy++ {
		if oy < oy0 || oy >= oy1 {
			for ox := 0; ox < d.ow; ox++ {
				d.pixel(cb, oy, ox)
			}
			continue
		}
		for ox := 0; ox < ox0; ox++ {
			d.pixel(cb, oy, ox)
		}
		iy := oy*s - g.PadTop
		for ox := ox0; ox < ox1; ox += dwChunk {
			n := min(dwChunk, ox1-ox)
			xa := unsafe.Add(d.x, ((iy*d.w+ox*s-g.PadLeft)*d.cp+cb)*4)
			neonDw3x3Row8(n, xa, d.w*cs, cs, s*cs, wa, tile)
			neonDw3x3Row8(n, unsafe.Add(xa, 32), d.w*cs, cs, s*cs, unsafe.Add(wa, 32), unsafe.Add(tile, 32))
			d.e.store(tile, n, Lanes*4, d.y, (oy*d.ow+ox)*d.cp+cb, cs, cb)
		}
		for ox := ox1; ox < d.ow; ox++ {
			d.pixel(cb, oy, ox)
		}
	}
}

// neonDw3x3Row8 (assembly, depthwise_arm64.s) computes n interior output pixels of a 3×3
// depthwise convolution, 8 channels, into tile (pixel i's channels at i*16): x is pixel
// 0's top-left tap, rs the input row stride, cs its pixel stride (also the weights' tap
// stride), ps the input step between output pixels, all in bytes; w the weights of tap 0.
//
//go:noescape
func neonDw3x3Row8(n int, x unsafe.Pointer, rs, cs, ps int, w unsafe.Pointer, tile unsafe.Pointer)
