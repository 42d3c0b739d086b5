//go:build goexperiment.simd && amd64

package kernels

import (
	"simd/archsimd"
	"unsafe"
)

// planarSIMD runs PlanarConv with AVX-512 and reports whether it could: twelve output
// pixels of a row times one 16-channel block at a time (avx512Conv12x16), then six
// (planar6), where the whole window row lies inside the input, one pixel at a time
// elsewhere.
func planarSIMD(v impl, x []float32, h, w int, pw *PlanarConvWeights, y []float32, oh, ow int, ep *Epilogue) bool {
	switch v {
	case implAVX2:
		planarAVX2(x, h, w, pw, y, oh, ow, ep)
		return true
	case implAVX512:
	default:
		return false
	}
	e := makeEpiPtrs(ep)
	g := pw.geom
	xp := unsafe.Pointer(unsafe.SliceData(x))
	yp := unsafe.Pointer(unsafe.SliceData(y))
	// Output columns [ox0, ox1) have every tap column inside the input.
	ox0, ox1 := interiorCols(g, w, ow)
	// Offsets of the taps from a pixel's first one, in weight order, for the fast path.
	var offsBuf [maxPlanarTaps]int32
	taps := pw.cin * g.KH * g.KW
	var offs []int32
	if taps <= maxPlanarTaps {
		offs = planarOffsets(pw, h, w, &offsBuf)
	}
	wb := unsafe.Pointer(unsafe.SliceData(pw.w))
	var tileBuf [12*Lanes + 16]float32
	tile := align64(unsafe.Pointer(&tileBuf[0]))
	// br: at most a bias and a ReLU, which avx512Conv12x16BR applies as it stores.
	br := e == nil || (e.res == nil && (e.act == ActNone || e.act == ActReLU))
	relu := e != nil && e.act == ActReLU
	var zero [Lanes]float32 // the bias when there is none
	zp := unsafe.Pointer(&zero)
	for oy := 0; oy < oh; oy++ {
		ky0, ky1 := 0, g.KH
		for ky0 < g.KH && oy*g.StrideH-g.PadTop+ky0*g.DilationH < 0 {
			ky0++
		}
		for ky1 > ky0 && oy*g.StrideH-g.PadTop+(ky1-1)*g.DilationH >= h {
			ky1--
		}
		for cb := 0; cb < pw.coutP; cb += Lanes {
			ox := 0
			for ; ox < ox0; ox++ {
				planarPixel(xp, h, w, pw, yp, oy, ox, ow, cb, ky0, ky1, e)
			}
			if taps <= maxPlanarTaps && ky0 == 0 && ky1 == g.KH {
				iy := oy*g.StrideH - g.PadTop
				if br {
					bias := zp
					if e != nil && e.bias != nil {
						bias = unsafe.Add(e.bias, cb*4)
					}
					for ; ox+12 <= ox1; ox += 12 {
						ix := ox*g.StrideW - g.PadLeft
						avx512Conv12x16BR(&offs[0], len(offs), unsafe.Add(xp, (iy*w+ix)*4), g.StrideW*4, unsafe.Add(wb, cb*4), pw.coutP*4,
							unsafe.Add(yp, ((oy*ow+ox)*pw.coutP+cb)*4), pw.coutP*4, bias, relu)
					}
				}
				for ; ox+12 <= ox1; ox += 12 {
					ix := ox*g.StrideW - g.PadLeft
					avx512Conv12x16(&offs[0], len(offs), unsafe.Add(xp, (iy*w+ix)*4), g.StrideW*4, unsafe.Add(wb, cb*4), pw.coutP*4, tile)
					store12x16(tile, yp, (oy*ow+ox)*pw.coutP+cb, pw.coutP, cb, e)
				}
				if ox < ox1 && ox1-ox0 >= 12 && (e == nil || e.res == nil) {
					// The last interior pixels: one more tile ending at ox1, recomputing
					// some of the previous one's (harmless without a residual, which
					// may alias y), instead of up to 11 pixels through planarPixel.
					ox = ox1 - 12
					ix := ox*g.StrideW - g.PadLeft
					avx512Conv12x16(&offs[0], len(offs), unsafe.Add(xp, (iy*w+ix)*4), g.StrideW*4, unsafe.Add(wb, cb*4), pw.coutP*4, tile)
					store12x16(tile, yp, (oy*ow+ox)*pw.coutP+cb, pw.coutP, cb, e)
					ox = ox1
				}
				for ; ox+6 <= ox1; ox += 6 {
					ix := ox*g.StrideW - g.PadLeft
					planar6(unsafe.Add(xp, (iy*w+ix)*4), offs, g.StrideW*4, unsafe.Add(wb, cb*4), pw.coutP, yp, cb, e, (oy*ow+ox)*pw.coutP+cb)
				}
			}
			for ; ox < ow; ox++ {
				planarPixel(xp, h, w, pw, yp, oy, ox, ow, cb, ky0, ky1, e)
			}
		}
	}
	return true
}

// planarPixel computes output pixel (oy, ox), channels cb..cb+15, checking every tap column.
func planarPixel(xp unsafe.Pointer, h, w int, pw *PlanarConvWeights, yp unsafe.Pointer, oy, ox, ow, cb, ky0, ky1 int, e *epiPtrs) {
	g, cp := pw.geom, pw.coutP
	var acc vec
	for ci := 0; ci < pw.cin; ci++ {
		for ky := ky0; ky < ky1; ky++ {
			iy := oy*g.StrideH - g.PadTop + ky*g.DilationH
			for kx := 0; kx < g.KW; kx++ {
				ix := ox*g.StrideW - g.PadLeft + kx*g.DilationW
				if ix < 0 || ix >= w {
					continue
				}
				v := bcast(xp, (ci*h+iy)*w+ix)
				acc = v.MulAdd(load(planarW(pw), ((ci*g.KH+ky)*g.KW+kx)*cp+cb), acc)
			}
		}
	}
	out := (oy*ow+ox)*cp + cb
	if e != nil {
		acc = e.finish(acc, cb, out)
	}
	acc.Store(ptrAt(yp, out))
	archsimd.ClearAVXUpperBits()
}

// planarW returns the base address of pw's packed weights.
func planarW(pw *PlanarConvWeights) unsafe.Pointer { return unsafe.Pointer(unsafe.SliceData(pw.w)) }

// planar6 computes output pixels (oy, ox..ox+5), channels cb..cb+15, whose taps are all
// inside the input: x is the input address of pixel ox's first tap, offs the offsets (in
// floats) of the taps from it, wt the weights of tap 0 at channel cb (taps coutP apart).
// Six pixels, not eight: the scheduler hoists the scalar loads of all broadcasts above the
// FMAs, and with eight accumulators those no longer fit in the vector registers.
func planar6(x unsafe.Pointer, offs []int32, s int, wt unsafe.Pointer, cp int, y unsafe.Pointer, cb int, e *epiPtrs, out int) {
	var c0, c1, c2, c3, c4, c5 vec
	for t, off := range offs {
		r := unsafe.Add(x, int(off)*4)
		wv := archsimd.LoadFloat32x16((*[16]float32)(unsafe.Add(wt, t*cp*4)))
		c0 = archsimd.BroadcastFloat32x16(*(*float32)(r)).MulAdd(wv, c0)
		c1 = archsimd.BroadcastFloat32x16(*(*float32)(unsafe.Add(r, s))).MulAdd(wv, c1)
		c2 = archsimd.BroadcastFloat32x16(*(*float32)(unsafe.Add(r, 2*s))).MulAdd(wv, c2)
		c3 = archsimd.BroadcastFloat32x16(*(*float32)(unsafe.Add(r, 3*s))).MulAdd(wv, c3)
		c4 = archsimd.BroadcastFloat32x16(*(*float32)(unsafe.Add(r, 4*s))).MulAdd(wv, c4)
		c5 = archsimd.BroadcastFloat32x16(*(*float32)(unsafe.Add(r, 5*s))).MulAdd(wv, c5)
	}
	if e != nil {
		c0 = e.finish(c0, cb, out)
		c1 = e.finish(c1, cb, out+cp)
		c2 = e.finish(c2, cb, out+2*cp)
		c3 = e.finish(c3, cb, out+3*cp)
		c4 = e.finish(c4, cb, out+4*cp)
		c5 = e.finish(c5, cb, out+5*cp)
	}
	c0.Store(ptrAt(y, out))
	c1.Store(ptrAt(y, out+cp))
	c2.Store(ptrAt(y, out+2*cp))
	c3.Store(ptrAt(y, out+3*cp))
	c4.Store(ptrAt(y, out+4*cp))
	c5.Store(ptrAt(y, out+5*cp))
	archsimd.ClearAVXUpperBits()
}

// convDirectSIMD runs a dense NHWC convolution with 16 output channels directly: the input
// is copied into scratch with its zero padding around it, so that every output pixel's
// window lies inside, and twelve output pixels of a row at a time run through
// avx512Conv12x16, then six through planar6, with the tap offsets of the padded input; the
// row's last pixels run one at a time. It reports
// whether it could (AVX-512 present).
func convDirectSIMD(v impl, x []float32, h, w int, cw *ConvWeights, y, scratch []float32, oh, ow int, ep *Epilogue) bool {
	switch v {
	case implAVX2:
		convDirectAVX2(x, h, w, cw, y, scratch, oh, ow, ep)
		return true
	case implAVX512:
	default:
		return false
	}
	var offsBuf [maxDirectTaps]int32
	d := prepareDirect(x, h, w, cw, scratch, offsBuf[:])
	offs, wt, s := d.offs, d.wt, d.s
	e := makeEpiPtrs(ep)
	yp := unsafe.Pointer(unsafe.SliceData(y))
	var tileBuf [12*Lanes + 16]float32
	tile := align64(unsafe.Pointer(&tileBuf[0]))
	// br: at most a bias and a ReLU, which avx512Conv12x16BR applies as it stores.
	br := e == nil || (e.res == nil && (e.act == ActNone || e.act == ActReLU))
	relu := e != nil && e.act == ActReLU
	var zero [Lanes]float32 // the bias when there is none
	bias := unsafe.Pointer(&zero)
	if e != nil && e.bias != nil {
		bias = e.bias
	}
	// Rows whose width leaves many pixels outside the 12-pixel tiles (UltraFace's 5-wide
	// heads, its 40-wide RFB branches: 3 tiles and 4 single pixels a row) run as virtual
	// rows instead when that costs less: a tiled pixel counts 4, one in planar6 6, a
	// single one (latency-bound) 16, a dropped padding pixel as a tiled one.
	last := (oh-1)*d.rs/max(d.s, 1) + ow - 1 // the last real pixel, as a virtual one
	rowCost := oh * (ow/12*12*4 + ow%12/6*6*6 + ow%12%6*16)
	virtCost := (last+1)/12*12*4 + (last+1)%12*16
	if vw, ok := d.virtualWidth(); ok && virtCost < rowCost {
		p := 0
		for ; p+11 <= last; p += 12 {
			avx512Conv12x16(&offs[0], len(offs), unsafe.Add(d.x, p*s), s, wt, Lanes*4, tile)
			storeVirtual(tile, 12, p, vw, ow, yp, e)
		}
		for ; p <= last; p++ {
			if p%vw < ow {
				direct1(unsafe.Add(d.x, p*s), offs, wt, yp, e, (p/vw*ow+p%vw)*Lanes)
			}
		}
		return true
	}
	for oy := 0; oy < oh; oy++ {
		row := unsafe.Add(d.x, oy*d.rs)
		ox := 0
		if br {
			for ; ox+12 <= ow; ox += 12 {
				avx512Conv12x16BR(&offs[0], len(offs), unsafe.Add(row, ox*s), s, wt, Lanes*4, unsafe.Add(yp, (oy*ow+ox)*Lanes*4), Lanes*4, bias, relu)
			}
		}
		for ; ox+12 <= ow; ox += 12 {
			avx512Conv12x16(&offs[0], len(offs), unsafe.Add(row, ox*s), s, wt, Lanes*4, tile)
			store12x16(tile, yp, (oy*ow+ox)*Lanes, Lanes, 0, e)
		}
		for ; ox+6 <= ow; ox += 6 {
			planar6(unsafe.Add(row, ox*s), offs, s, wt, Lanes, yp, 0, e, (oy*ow+ox)*Lanes)
		}
		for ; ox < ow; ox++ {
			direct1(unsafe.Add(row, ox*s), offs, wt, yp, e, (oy*ow+ox)*Lanes)
		}
	}
	return true
}

// direct1 is planar6 for one output pixel of 16 channels.
func direct1(x unsafe.Pointer, offs []int32, wt unsafe.Pointer, y unsafe.Pointer, e *epiPtrs, out int) {
	var c0, c1 vec // two chains: the sum of even and of odd taps
	n := len(offs) &^ 1
	for t := 0; t < n; t += 2 {
		w0 := archsimd.LoadFloat32x16((*[16]float32)(unsafe.Add(wt, t*Lanes*4)))
		c0 = archsimd.BroadcastFloat32x16(*(*float32)(unsafe.Add(x, int(offs[t])*4))).MulAdd(w0, c0)
		w1 := archsimd.LoadFloat32x16((*[16]float32)(unsafe.Add(wt, (t+1)*Lanes*4)))
		c1 = archsimd.BroadcastFloat32x16(*(*float32)(unsafe.Add(x, int(offs[t+1])*4))).MulAdd(w1, c1)
	}
	if n < len(offs) {
		w0 := archsimd.LoadFloat32x16((*[16]float32)(unsafe.Add(wt, n*Lanes*4)))
		c0 = archsimd.BroadcastFloat32x16(*(*float32)(unsafe.Add(x, int(offs[n])*4))).MulAdd(w0, c0)
	}
	c0 = c0.Add(c1)
	if e != nil {
		c0 = e.finish(c0, 0, out)
	}
	c0.Store(ptrAt(y, out))
	archsimd.ClearAVXUpperBits()
}

// virtualWidth returns how many pixel steps (s) one output row step (rs) is, and whether
// it is a whole number. When it is, the output can be taken as one long row of vw-pixel
// "virtual" rows whose last vw-ow pixels are garbage, computed and dropped: their taps wrap
// into the padding and the next row, which lies inside the padded copy as long as the
// virtual pixel comes no later than the last real one. Narrow outputs (UltraFace's 5-wide
// 3×3 heads) then fill whole register tiles instead of running pixel by pixel.
func (d *directInput) virtualWidth() (vw int, ok bool) {
	if d.s <= 0 || d.rs%d.s != 0 {
		return 0, false
	}
	return d.rs / d.s, true
}

// avx512Conv12x16BR (assembly, planar_avx512_amd64.s) is avx512Conv12x16 storing the 12
// pixels straight to the output at c (ldc bytes apart) after adding the 16 floats at bias
// and, if relu, clamping at zero.
//
//go:noescape
func avx512Conv12x16BR(offs *int32, n int, x unsafe.Pointer, s int, wt unsafe.Pointer, ws int, c unsafe.Pointer, ldc int, bias unsafe.Pointer, relu bool)

// storeVirtual applies e to the n pixels × 16 channels of tile, virtual pixels p.. of
// directInput.virtualWidth's rows vw wide, and stores those that are real (column < ow)
// into y (16 channels per pixel).
func storeVirtual(t unsafe.Pointer, n, p, vw, ow int, y unsafe.Pointer, e *epiPtrs) {
	oy, ox := p/vw, p%vw
	for q := 0; q < n; q++ {
		if ox < ow {
			o := (oy*ow + ox) * Lanes
			v := load(t, q*Lanes)
			if e != nil {
				v = e.finish(v, 0, o)
			}
			v.Store(ptrAt(y, o))
		}
		if ox++; ox == vw {
			oy, ox = oy+1, 0
		}
	}
	archsimd.ClearAVXUpperBits()
}

// avx512Conv12x16 (assembly, planar_avx512_amd64.s) writes the 12×16 tile of output pixels
// 0..11 (first taps s bytes apart from x) times 16 channels over the n ≥ 1 taps at offsets
// offs (floats, from pixel 0's first tap), tap t's weights at wt + t·ws bytes, to the 192
// floats at tile (64-byte aligned), pixel after pixel.
//
//go:noescape
func avx512Conv12x16(offs *int32, n int, x unsafe.Pointer, s int, wt unsafe.Pointer, ws int, tile unsafe.Pointer)

// store12x16 applies e to the 12×16 tile t (pixels cp floats apart in y, starting at element
// out, channels cb..cb+15) and stores it. The tile is apart from y so that a residual
// aliasing y is read before it is overwritten.
func store12x16(t unsafe.Pointer, y unsafe.Pointer, out, cp, cb int, e *epiPtrs) {
	for p := 0; p < 12; p++ {
		v := load(t, p*Lanes)
		o := out + p*cp
		if e != nil {
			v = e.finish(v, cb, o)
		}
		v.Store(ptrAt(y, o))
	}
	archsimd.ClearAVXUpperBits()
}
