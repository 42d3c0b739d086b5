package kernels

import "fmt"

// PlanarConvWeights are the weights of a dense (group = 1) convolution whose input is
// planar (NCHW, batch 1), packed once for [PlanarConv]: the stem convolution of a network,
// reading the image's few channels where they are instead of converting them to a padded
// NHWC tensor first. Read-only after [PackPlanarConv].
type PlanarConvWeights struct {
	cin, cout, coutP int
	geom             ConvGeom
	w                []float32 // w[((ci*KH+ky)*KW+kx)*coutP + co], padding columns zero
}

// Geom returns the convolution window (strides and dilations normalised to ≥ 1).
func (pw *PlanarConvWeights) Geom() ConvGeom { return pw.geom }

// PackPlanarConv packs the weights of a dense convolution from cin planar channels to cout
// NHWC channels with window g. w is in ONNX layout, cout×cin×KH×KW. It returns an error if
// g is invalid or w is too short.
func PackPlanarConv(cout, cin int, g ConvGeom, w []float32) (*PlanarConvWeights, error) {
	if err := g.validate(); err != nil {
		return nil, fmt.Errorf("pack planar conv: %w", err)
	}
	g = g.norm()
	taps := g.KH * g.KW
	if cout < 1 || cin < 1 || len(w) < cout*cin*taps {
		return nil, fmt.Errorf("pack planar conv: %d weights for %d×%d×%d×%d, want %d", len(w), cout, cin, g.KH, g.KW, cout*cin*taps)
	}
	pw := &PlanarConvWeights{cin: cin, cout: cout, coutP: Pad16(cout), geom: g, w: make([]float32, cin*taps*Pad16(cout))}
	for co := 0; co < cout; co++ {
		for t := 0; t < cin*taps; t++ {
			pw.w[t*pw.coutP+co] = w[co*cin*taps+t]
		}
	}
	return pw, nil
}

// PlanarConv computes the dense convolution of the planar tensor x (cin planes of h×w)
// into the NHWC tensor y (oh×ow pixels, Pad16(cout) channels), where oh, ow =
// pw.Geom().OutSize(h, w), and applies ep per output channel (its Residual has y's layout).
// It allocates nothing and panics if a slice is too short or the output would be empty.
func PlanarConv(x []float32, h, w int, pw *PlanarConvWeights, y []float32, ep *Epilogue) {
	planarWith(selected, x, h, w, pw, y, ep)
}

// planarWith is PlanarConv with kernel variant v, which the CPU must support.
func planarWith(v impl, x []float32, h, w int, pw *PlanarConvWeights, y []float32, ep *Epilogue) {
	g := pw.geom
	oh, ow := g.OutSize(h, w)
	switch {
	case oh < 1 || ow < 1:
		panic(fmt.Sprintf("kernels: PlanarConv: %d×%d window does not fit a %d×%d input", g.KH, g.KW, h, w))
	case len(x) < pw.cin*h*w:
		panic(fmt.Sprintf("kernels: PlanarConv: x has %d elements, want ≥ %d", len(x), pw.cin*h*w))
	case len(y) < oh*ow*pw.coutP:
		panic(fmt.Sprintf("kernels: PlanarConv: y has %d elements, want ≥ %d", len(y), oh*ow*pw.coutP))
	}
	ep.check(pw.coutP, oh*ow*pw.coutP)
	if planarSIMD(v, x, h, w, pw, y, oh, ow, ep) {
		return
	}
	planarPortable(x, h, w, pw, y, oh, ow, ep)
}

// planarPortable is the plain-Go PlanarConv, one output pixel at a time.
func planarPortable(x []float32, h, w int, pw *PlanarConvWeights, y []float32, oh, ow int, ep *Epilogue) {
	g, cp := pw.geom, pw.coutP
	var acc [Lanes]float32 // the residual may alias y: accumulate apart
	for oy := 0; oy < oh; oy++ {
		for ox := 0; ox < ow; ox++ {
			out := (oy*ow + ox) * cp
			for cb := 0; cb < cp; cb += Lanes {
				clear(acc[:])
				for ci := 0; ci < pw.cin; ci++ {
					for ky := 0; ky < g.KH; ky++ {
						iy := oy*g.StrideH - g.PadTop + ky*g.DilationH
						if iy < 0 || iy >= h {
							continue
						}
						row := x[(ci*h+iy)*w : (ci*h+iy+1)*w]
						for kx := 0; kx < g.KW; kx++ {
							ix := ox*g.StrideW - g.PadLeft + kx*g.DilationW
							if ix < 0 || ix >= w {
								continue
							}
							v := row[ix]
							t := ((ci*g.KH+ky)*g.KW + kx) * cp
							wt := pw.w[t+cb : t+cb+Lanes]
							for l := range acc {
								acc[l] += v * wt[l]
							}
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
