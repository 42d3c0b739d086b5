package preprocess

import "math"

// OpenCV's INTER_AREA on 8-bit, 3-channel images (imgproc/src/resize.cpp), used only to shrink
// (scale = src/dst ≥ 1 on both axes). OpenCV picks one of three code paths, and each rounds
// differently, so all three are kept:
//
//   - scale exactly 2 on both axes: each output is (a + b + c + d + 2) >> 2 of its 2×2 block
//     (ResizeAreaFastVec, rounding half up);
//   - another integer scale k on both axes: the k×k block's integer sum times the float32
//     1/k², rounded half to even (resizeAreaFast_);
//   - any other scale: every source pixel contributes the share of it an output cell covers,
//     accumulated in float32 row by row, then rounded half to even (resizeArea_ with
//     computeResizeAreaTab's weights).
//
// "Exactly" is OpenCV's test: |scale − round(scale)| < DBL_EPSILON with scale = 1/(dst/src).

// dblEpsilon is C's DBL_EPSILON.
const dblEpsilon = 2.220446049250313e-16

// areaTap is one entry of computeResizeAreaTab: source index si contributes alpha to output di.
type areaTap struct {
	di, si int
	alpha  float32
}

// resampleScratch holds the tables and row buffers of resizeArea and resizeLanczos4, kept by a
// SquareScratch so that steady-state crops reuse them; a nil *resampleScratch allocates.
type resampleScratch struct {
	xtab, ytab []areaTap
	buf, sum   []float32
	xl, yl     []lanczosTap
	hrows      []int32
}

// areaTaps returns OpenCV's computeResizeAreaTab for one axis (in pixels, not channels),
// appended to tab[:0].
func areaTaps(ssize, dsize int, scale float64, tab []areaTap) []areaTap {
	tab = tab[:0]
	for dx := range dsize {
		fsx1 := float64(dx) * scale
		fsx2 := fsx1 + scale
		cellWidth := math.Min(scale, float64(ssize)-fsx1)
		sx1, sx2 := int(math.Ceil(fsx1)), int(math.Floor(fsx2))
		sx2 = min(sx2, ssize-1)
		sx1 = min(sx1, sx2)
		if float64(sx1)-fsx1 > 1e-3 {
			tab = append(tab, areaTap{dx, sx1 - 1, float32((float64(sx1) - fsx1) / cellWidth)})
		}
		for sx := sx1; sx < sx2; sx++ {
			tab = append(tab, areaTap{dx, sx, float32(1.0 / cellWidth)})
		}
		if fsx2-float64(sx2) > 1e-3 {
			tab = append(tab, areaTap{dx, sx2, float32(math.Min(math.Min(fsx2-float64(sx2), 1), cellWidth) / cellWidth)})
		}
	}
	return tab
}

// resizeArea shrinks the sw×sh RGB image src (rows 3·sw bytes apart) to dw×dh into dst (rows
// 3·dw bytes apart) as cv::resize with INTER_AREA does. It requires dw ≤ sw and dh ≤ sh; an
// equal size is a copy, as in cv::resize.
func resizeArea(dst []uint8, dw, dh int, src []uint8, sw, sh int) {
	resizeAreaWith(dst, dw, dh, src, sw, sh, nil)
}

// resizeAreaWith is resizeArea with its tables and buffers in rs (nil: allocated).
func resizeAreaWith(dst []uint8, dw, dh int, src []uint8, sw, sh int, rs *resampleScratch) {
	if rs == nil {
		rs = new(resampleScratch)
	}
	if dw == sw && dh == sh {
		copy(dst[:3*dw*dh], src[:3*sw*sh])
		return
	}
	scaleX := 1 / (float64(dw) / float64(sw))
	scaleY := 1 / (float64(dh) / float64(sh))
	ix, iy := int(math.RoundToEven(scaleX)), int(math.RoundToEven(scaleY))
	if math.Abs(scaleX-float64(ix)) < dblEpsilon && math.Abs(scaleY-float64(iy)) < dblEpsilon {
		resizeAreaInteger(dst, dw, dh, src, sw, sh, ix, iy)
		return
	}
	resizeAreaGeneral(dst, dw, dh, src, sw, sh, scaleX, scaleY, rs)
}

// resizeAreaInteger is OpenCV's resizeAreaFast_ for integer scales ix, iy (the whole-block
// case: dst·scale never passes the source edge when scale = src/dst exactly).
func resizeAreaInteger(dst []uint8, dw, dh int, src []uint8, sw, sh, ix, iy int) {
	sstride := 3 * sw
	if ix == 2 && iy == 2 {
		for dy := range dh {
			r0 := src[2*dy*sstride:]
			r1 := src[(2*dy+1)*sstride:]
			d := dst[3*dw*dy : 3*dw*(dy+1)]
			for i := range d {
				p := 6*(i/3) + i%3
				d[i] = uint8((int(r0[p]) + int(r0[p+3]) + int(r1[p]) + int(r1[p+3]) + 2) >> 2)
			}
		}
		return
	}
	scale := 1 / float32(ix*iy)
	for dy := range dh {
		d := dst[3*dw*dy : 3*dw*(dy+1)]
		for i := range d {
			x0, c := ix*(i/3), i%3
			sum := 0
			for sy := iy * dy; sy < iy*(dy+1); sy++ {
				row := src[sy*sstride:]
				for sx := x0; sx < x0+ix; sx++ {
					sum += int(row[3*sx+c])
				}
			}
			d[i] = roundSaturate8(float32(sum) * scale)
		}
	}
}

// resizeAreaGeneral is OpenCV's resizeArea_<uchar, float>: a horizontal pass of each source row
// into buf, then rows weighted into sum, all in float32 in OpenCV's order of operations.
func resizeAreaGeneral(dst []uint8, dw, dh int, src []uint8, sw, sh int, scaleX, scaleY float64, rs *resampleScratch) {
	rs.xtab = areaTaps(sw, dw, scaleX, rs.xtab)
	rs.ytab = areaTaps(sh, dh, scaleY, rs.ytab)
	rs.buf, rs.sum = grow(rs.buf, 3*dw), grow(rs.sum, 3*dw)
	xtab, ytab, buf, sum := rs.xtab, rs.ytab, rs.buf, rs.sum
	clear(sum) // the first output row accumulates from zero (hpassArea clears buf)
	flush := func(dy int) {
		d := dst[3*dw*dy : 3*dw*(dy+1)]
		for i := range d {
			d[i] = roundSaturate8(sum[i])
		}
	}
	prevDy, haveRow := ytab[0].di, -1
	for _, yt := range ytab {
		// A source row split between two output rows is the same horizontal pass twice: keep it.
		if yt.si != haveRow {
			hpassArea(buf, src[3*sw*yt.si:], xtab)
			haveRow = yt.si
		}
		if yt.di != prevDy {
			flush(prevDy)
			for i := range sum {
				sum[i] = float32(yt.alpha * buf[i])
			}
			prevDy = yt.di
		} else {
			for i := range sum {
				sum[i] += float32(yt.alpha * buf[i])
			}
		}
	}
	flush(prevDy)
}

// roundSaturate8 is OpenCV's saturate_cast<uchar>(float): round half to even, clamp to 0..255.
func roundSaturate8(f float32) uint8 {
	v := math.RoundToEven(float64(f))
	return uint8(max(0, min(255, v)))
}

// hpassArea is resizeArea_'s horizontal pass of one source row: buf[dx] = Σ row[sx]·alpha over
// the taps, in float32 and in OpenCV's order.
func hpassArea(buf []float32, row []uint8, xtab []areaTap) {
	clear(buf)
	for _, xt := range xtab {
		px := row[3*xt.si : 3*xt.si+3 : 3*xt.si+3]
		acc := buf[3*xt.di : 3*xt.di+3 : 3*xt.di+3]
		// The explicit conversions keep Go from fusing the multiply and add (OpenCV's
		// baseline build rounds each).
		acc[0] += float32(float32(px[0]) * xt.alpha)
		acc[1] += float32(float32(px[1]) * xt.alpha)
		acc[2] += float32(float32(px[2]) * xt.alpha)
	}
}
