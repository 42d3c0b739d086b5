package kernels

import "fmt"

// DepthwiseWeights are the weights of a depthwise (group = channels) convolution, packed
// once at load time for [Depthwise]: tap-major, each tap's per-channel weights contiguous
// and zero-padded to the padded channel count. Read-only after [PackDepthwise].
type DepthwiseWeights struct {
	c, cp int
	geom  ConvGeom
	w     []float32 // w[(ky*KW+kx)*cp + ch]
}

// Channels returns the real channel count.
func (d *DepthwiseWeights) Channels() int { return d.c }

// Geom returns the convolution window (strides and dilations normalised to ≥ 1).
func (d *DepthwiseWeights) Geom() ConvGeom { return d.geom }

// PackDepthwise packs the weights of a depthwise convolution of c channels with window g.
// w is in ONNX layout, c×1×KH×KW. It returns an error if g is invalid or w is too short.
func PackDepthwise(c int, g ConvGeom, w []float32) (*DepthwiseWeights, error) {
	if err := g.validate(); err != nil {
		return nil, fmt.Errorf("pack depthwise conv: %w", err)
	}
	g = g.norm()
	taps := g.KH * g.KW
	if c < 1 || len(w) < c*taps {
		return nil, fmt.Errorf("pack depthwise conv: %d weights for %d channels of %d×%d, want %d", len(w), c, g.KH, g.KW, c*taps)
	}
	cp := Pad16(c)
	d := &DepthwiseWeights{c: c, cp: cp, geom: g, w: make([]float32, taps*cp)}
	for ch := 0; ch < c; ch++ {
		for t := 0; t < taps; t++ {
			d.w[t*cp+ch] = w[ch*taps+t]
		}
	}
	return d, nil
}

// Depthwise computes the depthwise convolution of the NHWC tensor x (h×w pixels,
// Pad16(c) channels, padding channels zero) into y (oh×ow pixels, same channel stride),
// where oh, ow = dw.Geom().OutSize(h, w), and applies ep per output channel. The
// Epilogue's Residual has y's layout. Depthwise allocates nothing. It panics if x or y is
// too short or the output would be empty.
//
// 3×3 windows with stride 1 or 2 and dilation 1 take a fast path; other windows (such as
// MiniFASNet's 5×5 global depthwise layer) a slower generic one.
func Depthwise(x []float32, h, w int, dw *DepthwiseWeights, y []float32, ep *Epilogue) {
	depthwiseWith(selected, x, h, w, dw, y, ep)
}

// depthwiseWith is Depthwise with kernel variant v, which the CPU must support.
func depthwiseWith(v impl, x []float32, h, w int, dw *DepthwiseWeights, y []float32, ep *Epilogue) {
	oh, ow := dw.geom.OutSize(h, w)
	cp := dw.cp
	switch {
	case oh < 1 || ow < 1:
		panic(fmt.Sprintf("kernels: Depthwise: %d×%d window does not fit a %d×%d input", dw.geom.KH, dw.geom.KW, h, w))
	case len(x) < h*w*cp:
		panic(fmt.Sprintf("kernels: Depthwise: x has %d elements, want ≥ %d", len(x), h*w*cp))
	case len(y) < oh*ow*cp:
		panic(fmt.Sprintf("kernels: Depthwise: y has %d elements, want ≥ %d", len(y), oh*ow*cp))
	}
	ep.check(cp, oh*ow*cp)
	if depthwiseSIMD(v, x, h, w, dw, y, oh, ow, ep) {
		return
	}
	depthwisePortable(x, h, w, dw, y, oh, ow, ep)
}

// depthwisePortable is the plain-Go Depthwise.
func depthwisePortable(x []float32, h, w int, dw *DepthwiseWeights, y []float32, oh, ow int, ep *Epilogue) {
	g, cp := dw.geom, dw.cp
	var acc [Lanes]float32 // the residual may alias y: accumulate apart
	for oy := 0; oy < oh; oy++ {
		for ox := 0; ox < ow; ox++ {
			out := (oy*ow + ox) * cp
			for cb := 0; cb < cp; cb += Lanes {
				clear(acc[:])
				for ky := 0; ky < g.KH; ky++ {
					iy := oy*g.StrideH - g.PadTop + ky*g.DilationH
					if iy < 0 || iy >= h {
						continue
					}
					for kx := 0; kx < g.KW; kx++ {
						ix := ox*g.StrideW - g.PadLeft + kx*g.DilationW
						if ix < 0 || ix >= w {
							continue
						}
						in := x[(iy*w+ix)*cp+cb : (iy*w+ix)*cp+cb+Lanes]
						wt := dw.w[(ky*g.KW+kx)*cp+cb : (ky*g.KW+kx)*cp+cb+Lanes]
						for l := range acc {
							acc[l] += in[l] * wt[l]
						}
					}
				}
				if ep != nil {
					applyCols(ep, acc[:], cb, out+cb)
				}
				copy(y[out+cb:out+cb+Lanes], acc[:])
			}
		}
	}
}
