package kernels

import "fmt"

// ConvWeights are the weights of a dense (group = 1) convolution packed once, at load
// time, for [Conv]. Read-only after [PackConv]; may be shared by concurrent Conv calls.
type ConvWeights struct {
	cin, cout int
	geom      ConvGeom
	pointwise bool     // 1×1, stride 1, no padding: the input is the GEMM's A as it is
	pb        *PackedB // (KH·KW·cin) × Pad16(cout); rows ordered (ky, kx, ci)
}

// InChannels returns the real input channel count.
func (cw *ConvWeights) InChannels() int { return cw.cin }

// OutChannels returns the real output channel count.
func (cw *ConvWeights) OutChannels() int { return cw.cout }

// Geom returns the convolution window (strides and dilations normalised to ≥ 1).
func (cw *ConvWeights) Geom() ConvGeom { return cw.geom }

// PackConv packs the weights of a dense convolution from cin to cout channels with window
// g. w is in ONNX layout, cout×cin×KH×KW. It returns an error if g is invalid or w is too
// short.
func PackConv(cout, cin int, g ConvGeom, w []float32) (*ConvWeights, error) {
	if err := g.validate(); err != nil {
		return nil, fmt.Errorf("pack conv: %w", err)
	}
	g = g.norm()
	taps := g.KH * g.KW
	if cout < 1 || cin < 1 || len(w) < cout*cin*taps {
		return nil, fmt.Errorf("pack conv: %d weights for %d×%d×%d×%d, want %d", len(w), cout, cin, g.KH, g.KW, cout*cin*taps)
	}
	k, n := taps*cin, Pad16(cout)
	b := make([]float32, k*n)
	for co := 0; co < cout; co++ {
		for ci := 0; ci < cin; ci++ {
			for t := 0; t < taps; t++ {
				b[(t*cin+ci)*n+co] = w[(co*cin+ci)*taps+t]
			}
		}
	}
	pointwise := taps == 1 && g.StrideH == 1 && g.StrideW == 1 &&
		g.PadTop == 0 && g.PadLeft == 0 && g.PadBottom == 0 && g.PadRight == 0
	return &ConvWeights{cin: cin, cout: cout, geom: g, pointwise: pointwise, pb: PackB(k, n, b)}, nil
}

// convChunkFloats bounds the im2col patch block, so that it stays in the L2 cache while the
// GEMM reads it.
const convChunkFloats = 16 << 10

// chunkRows returns how many output pixels one im2col block holds.
func (cw *ConvWeights) chunkRows() int {
	return max(3, convChunkFloats/cw.pb.k/3*3)
}

// ScratchSize returns the number of float32 of scratch [Conv] needs for an h×w input.
func (cw *ConvWeights) ScratchSize(h, w int) int {
	if cw.pointwise {
		return 0
	}
	oh, ow := cw.geom.OutSize(h, w)
	n := min(max(oh*ow, 0), cw.chunkRows()) * cw.pb.k
	if cw.direct() {
		n = max(n, cw.paddedSize(h, w))
	}
	return n
}

// direct reports whether the SIMD build runs cw as a direct convolution over a zero-padded
// copy of the input (see convDirectSIMD) rather than through im2col: with 16 output
// channels the GEMM tile would be narrow, and the patch copies cost as much as the GEMM.
func (cw *ConvWeights) direct() bool { return cw.pb.n == Lanes }

// paddedSize returns the floats of the zero-padded copy of an h×w input.
func (cw *ConvWeights) paddedSize(h, w int) int {
	g := cw.geom
	return (h + g.PadTop + g.PadBottom) * (w + g.PadLeft + g.PadRight) * Pad16(cw.cin)
}

// Conv computes the dense convolution of the NHWC tensor x (h×w pixels, Pad16(cin)
// channels, padding channels zero) into y (oh×ow pixels, Pad16(cout) channels), where
// oh, ow = cw.Geom().OutSize(h, w), and applies ep per output channel (its Residual has y's
// layout). Padding output channels come out as act(Bias) (zero with zero-padded bias).
//
// Pointwise (1×1, stride 1, unpadded) convolutions run [Gemm] on x directly; others copy
// blocks of input patches (im2col, only the cin real channels) into scratch, which must
// hold cw.ScratchSize(h, w) floats, and run Gemm on them. Conv allocates nothing. It
// panics if a slice is too short or the output would be empty.
func Conv(x []float32, h, w int, cw *ConvWeights, y []float32, scratch []float32, ep *Epilogue) {
	convWith(selected, x, h, w, cw, y, scratch, ep)
}

// convWith is Conv with kernel variant v, which the CPU must support.
func convWith(v impl, x []float32, h, w int, cw *ConvWeights, y []float32, scratch []float32, ep *Epilogue) {
	g := cw.geom
	oh, ow := g.OutSize(h, w)
	cinP, n := Pad16(cw.cin), cw.pb.n
	switch {
	case oh < 1 || ow < 1:
		panic(fmt.Sprintf("kernels: Conv: %d×%d window does not fit a %d×%d input", g.KH, g.KW, h, w))
	case len(x) < h*w*cinP:
		panic(fmt.Sprintf("kernels: Conv: x has %d elements, want ≥ %d", len(x), h*w*cinP))
	case len(y) < oh*ow*n:
		panic(fmt.Sprintf("kernels: Conv: y has %d elements, want ≥ %d", len(y), oh*ow*n))
	case len(scratch) < cw.ScratchSize(h, w):
		panic(fmt.Sprintf("kernels: Conv: scratch has %d elements, want ≥ %d", len(scratch), cw.ScratchSize(h, w)))
	}
	if cw.pointwise {
		gemmWith(v, oh*ow, n, cw.cin, x, cinP, cw.pb, y, n, ep)
		return
	}
	ep.check(n, oh*ow*n)
	if cw.direct() && convDirectSIMD(v, x, h, w, cw, y, scratch, oh, ow, ep) {
		return
	}
	k := cw.pb.k
	chunk := cw.chunkRows()
	var sub Epilogue
	for p0 := 0; p0 < oh*ow; p0 += chunk {
		p1 := min(oh*ow, p0+chunk)
		im2col(x, h, w, cw.cin, cinP, g, ow, p0, p1, scratch[:(p1-p0)*k])
		epc := ep
		if ep != nil && ep.Residual != nil {
			sub = *ep
			sub.Residual = ep.Residual[p0*n:]
			epc = &sub
		}
		gemmWith(v, p1-p0, n, k, scratch, k, cw.pb, y[p0*n:], n, epc)
	}
}

// im2col writes the patches of output pixels [p0,p1) (row-major over an output ow pixels
// wide) into dst, one row of KH·KW·cin values per pixel ordered (ky, kx, ci); taps outside
// the input are zero.
func im2col(x []float32, h, w, cin, cinP int, g ConvGeom, ow, p0, p1 int, dst []float32) {
	k := g.KH * g.KW * cin
	for p := p0; p < p1; p++ {
		oy, ox := p/ow, p%ow
		row := dst[(p-p0)*k : (p-p0+1)*k]
		t := 0
		for ky := 0; ky < g.KH; ky++ {
			iy := oy*g.StrideH - g.PadTop + ky*g.DilationH
			for kx := 0; kx < g.KW; kx++ {
				ix := ox*g.StrideW - g.PadLeft + kx*g.DilationW
				seg := row[t : t+cin]
				if iy < 0 || iy >= h || ix < 0 || ix >= w {
					clear(seg)
				} else {
					src := x[(iy*w+ix)*cinP:][:cin]
					if cin < 8 { // a call to memmove costs more than a few stores
						for c := range seg {
							seg[c] = src[c]
						}
					} else {
						copy(seg, src)
					}
				}
				t += cin
			}
		}
	}
}
