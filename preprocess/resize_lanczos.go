package preprocess

import "math"

// lanczos4Coeffs is OpenCV's interpolateLanczos4 (imgproc/src/resize.cpp) for the fractional
// offset x: the 8 taps of sinc(t)·sinc(t/4) at t = x+3 … x−4, computed in double through a
// sine/cosine recurrence, stored as float32 and normalised to sum 1 in float32.
func lanczos4Coeffs(x float32) [8]float32 {
	const s45 = 0.70710678118654752440084436210485
	cs := [8][2]float64{{1, 0}, {-s45, -s45}, {0, 1}, {s45, -s45}, {-1, 0}, {s45, s45}, {0, -1}, {-s45, s45}}
	var c [8]float32
	y0 := -float64(x+3) * math.Pi * 0.25
	s0, c0 := math.Sin(y0), math.Cos(y0)
	var sum float32
	for i := range c {
		yi := x + 3 - float32(i)
		if math.Abs(float64(yi)) >= 1e-6 {
			y := -float64(yi) * math.Pi * 0.25
			c[i] = float32((cs[i][0]*s0 + cs[i][1]*c0) / (y * y))
		} else {
			c[i] = 1e30
		}
		sum += c[i]
	}
	sum = 1 / sum
	for i := range c {
		c[i] *= sum
	}
	return c
}

// lanczosTap is one output index of a Lanczos pass: the first of its 8 source indices (before
// clamping) and its 11-bit fixed-point weights.
type lanczosTap struct {
	s0 int
	w  [8]int32
}

// lanczosTaps returns OpenCV's per-output source offset and fixed-point Lanczos-4 weights for
// resizing an axis of ssize pixels to dsize: f = (d+0.5)·scale − 0.5 in float32 with
// scale = 1/(dsize/ssize), s = ⌊f⌋, taps s−3 … s+4, weights saturate_cast<short>(c·2048).
func lanczosTaps(ssize, dsize int, taps []lanczosTap) []lanczosTap {
	scale := 1 / (float64(dsize) / float64(ssize))
	taps = grow(taps, dsize)
	for d := range taps {
		f := float32((float64(d)+0.5)*scale - 0.5)
		s := int(math.Floor(float64(f)))
		f -= float32(s)
		c := lanczos4Coeffs(f)
		t := lanczosTap{s0: s - 3}
		for k, v := range c {
			t.w[k] = int32(saturateInt16(v))
		}
		taps[d] = t
	}
	return taps
}

// resizeLanczos4 resizes the sw×sh RGB image src (rows 3·sw bytes apart) to dw×dh into dst
// (rows 3·dw bytes apart) as cv::resize with INTER_LANCZOS4 does on 8-bit images: an 8×8
// separable kernel with 11-bit weights, source indices clamped to the image (replicated
// border), the horizontal pass in exact integers, and the vertical one rounded as
// (v + 2²¹) >> 22 and saturated to 0..255.
func resizeLanczos4(dst []uint8, dw, dh int, src []uint8, sw, sh int) {
	resizeLanczos4With(dst, dw, dh, src, sw, sh, nil)
}

// resizeLanczos4With is resizeLanczos4 with its tables and rows in rs (nil: allocated). Every
// source row is resized horizontally once, up front: Lanczos only enlarges here, so the source
// has fewer rows than the output.
func resizeLanczos4With(dst []uint8, dw, dh int, src []uint8, sw, sh int, rs *resampleScratch) {
	if rs == nil {
		rs = new(resampleScratch)
	}
	rs.xl, rs.yl = lanczosTaps(sw, dw, rs.xl), lanczosTaps(sh, dh, rs.yl)
	xt, yt := rs.xl, rs.yl
	n := 3 * dw
	rs.hrows = grow(rs.hrows, sh*n)
	rows := rs.hrows
	for sy := range sh {
		srow := src[3*sw*sy : 3*sw*(sy+1)]
		r := rows[n*sy : n*(sy+1)]
		for dx, t := range xt {
			var a0, a1, a2 int32
			for k, w := range t.w {
				p := 3 * max(0, min(sw-1, t.s0+k))
				a0 += int32(srow[p]) * w
				a1 += int32(srow[p+1]) * w
				a2 += int32(srow[p+2]) * w
			}
			r[3*dx], r[3*dx+1], r[3*dx+2] = a0, a1, a2
		}
	}
	var src8 [8][]int32
	for dy, t := range yt {
		for k := range src8 {
			sy := max(0, min(sh-1, t.s0+k))
			src8[k] = rows[n*sy : n*(sy+1)]
		}
		d := dst[3*dw*dy : 3*dw*(dy+1)]
		for i := range d {
			var v int32
			for k, w := range t.w {
				v += src8[k][i] * w
			}
			d[i] = clamp8((v + 1<<21) >> 22)
		}
	}
}
