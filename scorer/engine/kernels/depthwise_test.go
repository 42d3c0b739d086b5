package kernels

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

type depthwiseImpl struct {
	name string
	fn   func(x []float32, h, w int, dw *DepthwiseWeights, y []float32, ep *Epilogue)
}

// depthwiseImpls returns Depthwise in every variant this build and CPU run.
func depthwiseImpls(t testing.TB) []depthwiseImpl {
	var out []depthwiseImpl
	for _, v := range testVariants(t) {
		out = append(out, depthwiseImpl{v.String(), func(x []float32, h, w int, dw *DepthwiseWeights, y []float32, ep *Epilogue) {
			depthwiseWith(v, x, h, w, dw, y, ep)
		}})
	}
	return out
}

func TestDepthwiseMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	geoms := []struct {
		name string
		g    ConvGeom
	}{
		{"3x3s1p1", ConvGeom{KH: 3, KW: 3, PadTop: 1, PadLeft: 1, PadBottom: 1, PadRight: 1}},
		{"3x3s2p1", ConvGeom{KH: 3, KW: 3, StrideH: 2, StrideW: 2, PadTop: 1, PadLeft: 1, PadBottom: 1, PadRight: 1}},
		{"3x3s2p0110", ConvGeom{KH: 3, KW: 3, StrideH: 2, StrideW: 2, PadLeft: 1, PadBottom: 1}},
		{"3x3s1p0", ConvGeom{KH: 3, KW: 3}},
		{"3x3s1d2p2", ConvGeom{KH: 3, KW: 3, DilationH: 2, DilationW: 2, PadTop: 2, PadLeft: 2, PadBottom: 2, PadRight: 2}},
		{"5x5s1p0", ConvGeom{KH: 5, KW: 5}},
		{"7x7s1p0", ConvGeom{KH: 7, KW: 7}},
		{"1x3s1p1", ConvGeom{KH: 1, KW: 3, PadLeft: 1, PadRight: 1}},
	}
	for _, gg := range geoms {
		for _, c := range []int{13, 16, 32, 77} {
			for _, hw := range [][2]int{{1, 1}, {2, 3}, {5, 5}, {7, 7}, {8, 11}, {20, 20}, {6, 43}} {
				h, w := hw[0], hw[1]
				oh, ow := gg.g.OutSize(h, w)
				if oh < 1 || ow < 1 {
					continue
				}
				cp := Pad16(c)
				x := randNHWC(rng, h, w, c)
				wt := randSlice(rng, c*gg.g.KH*gg.g.KW)
				dw, err := PackDepthwise(c, gg.g, wt)
				if err != nil {
					t.Fatal(err)
				}
				outLen := oh * ow * cp
				eps := testEpilogues(rng, cp, outLen)
				for name, ep := range eps {
					if ep != nil { // keep the padding channels zero, as the layout requires
						ep = zeroPadEpilogue(ep, c, cp)
					}
					want := make([]float32, outLen)
					refDepthwise(x, h, w, c, gg.g, wt, want, ep)
					for _, impl := range depthwiseImpls(t) {
						got := make([]float32, outLen+Lanes)
						sentinel(got)
						impl.fn(x, h, w, dw, got, ep)
						what := fmt.Sprintf("%s %s c=%d %dx%d ep=%s", impl.name, gg.name, c, h, w, name)
						compare(t, what, got[:outLen], want, gg.g.KH*gg.g.KW)
						if got[outLen] != -12345 {
							t.Errorf("%s: wrote past the output", what)
						}
					}
				}
			}
		}
	}
}

// zeroPadEpilogue returns a copy of ep whose bias, slope and residual are zero in the
// padding channels c..cp-1.
func zeroPadEpilogue(ep *Epilogue, c, cp int) *Epilogue {
	out := *ep
	zero := func(v []float32) []float32 {
		if v == nil {
			return nil
		}
		v = append([]float32(nil), v...)
		for i := range v {
			if i%cp >= c {
				v[i] = 0
			}
		}
		return v
	}
	out.Bias, out.Slope, out.Residual = zero(ep.Bias), zero(ep.Slope), zero(ep.Residual)
	return &out
}

func TestPackDepthwiseRejectsBadInput(t *testing.T) {
	tests := []struct {
		name string
		c    int
		g    ConvGeom
		n    int
	}{
		{"empty kernel", 4, ConvGeom{KH: 0, KW: 3}, 12},
		{"negative pad", 4, ConvGeom{KH: 3, KW: 3, PadTop: -1}, 36},
		{"short weights", 4, ConvGeom{KH: 3, KW: 3}, 35},
	}
	for _, tt := range tests {
		if _, err := PackDepthwise(tt.c, tt.g, make([]float32, tt.n)); err == nil {
			t.Errorf("%s: no error", tt.name)
		}
	}
}

func TestDepthwiseAllocatesNothing(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	const h, w, c = 10, 10, 32
	g := ConvGeom{KH: 3, KW: 3, PadTop: 1, PadLeft: 1, PadBottom: 1, PadRight: 1}
	dw, err := PackDepthwise(c, g, randSlice(rng, c*9))
	if err != nil {
		t.Fatal(err)
	}
	x, y := randNHWC(rng, h, w, c), make([]float32, h*w*c)
	ep := &Epilogue{Bias: randSlice(rng, c), Act: ActPReLU, Slope: randSlice(rng, c)}
	if allocs := testing.AllocsPerRun(10, func() { Depthwise(x, h, w, dw, y, ep) }); allocs != 0 {
		t.Errorf("Depthwise allocates %v times per call", allocs)
	}
}

// BenchmarkDepthwise runs the depthwise layers of MiniFASNet and UltraFace; ns/px is per
// output element (pixel × channel).
func BenchmarkDepthwise(b *testing.B) {
	p1 := ConvGeom{KH: 3, KW: 3, PadTop: 1, PadLeft: 1, PadBottom: 1, PadRight: 1}
	p1s2 := p1
	p1s2.StrideH, p1s2.StrideW = 2, 2
	shapes := []struct {
		name    string
		c, h, w int
		g       ConvGeom
	}{
		{"C128_20x20_s1", 128, 20, 20, p1},
		{"C128_20x20_s2", 128, 20, 20, p1s2},
		{"C64_40x40_s1", 64, 40, 40, p1},
		{"C64_40x40_s2", 64, 40, 40, p1s2},
		{"C32_120x160_s1", 32, 120, 160, p1},
		{"C512_5x5_GDC", 512, 5, 5, ConvGeom{KH: 5, KW: 5}},
	}
	for _, impl := range depthwiseImpls(b) {
		for _, s := range shapes {
			b.Run(impl.name+"/"+s.name, func(b *testing.B) {
				rng := rand.New(rand.NewPCG(15, 16))
				dw, err := PackDepthwise(s.c, s.g, randSlice(rng, s.c*s.g.KH*s.g.KW))
				if err != nil {
					b.Fatal(err)
				}
				oh, ow := s.g.OutSize(s.h, s.w)
				x, y := randNHWC(rng, s.h, s.w, s.c), make([]float32, oh*ow*Pad16(s.c))
				ep := &Epilogue{Bias: randSlice(rng, s.c), Act: ActPReLU, Slope: randSlice(rng, s.c)}
				for b.Loop() {
					impl.fn(x, s.h, s.w, dw, y, ep)
				}
				outs := float64(len(y)) * float64(b.N)
				b.ReportMetric(b.Elapsed().Seconds()*1e9/outs, "ns/px")
				b.ReportMetric(2*float64(s.g.KH*s.g.KW)*outs/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
	}
}

// A residual that is the output itself (as the Epilogue contract allows) is added before the
// output is overwritten, by every variant (the portable one takes its 16-lane loop then).
func TestDepthwiseInPlaceResidual(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	const h, w, c = 7, 9, 40
	g := ConvGeom{KH: 3, KW: 3, PadTop: 1, PadLeft: 1, PadBottom: 1, PadRight: 1}
	cp := Pad16(c)
	x, wt := make([]float32, h*w*cp), randSlice(rng, c*9)
	for p := range h * w {
		copy(x[p*cp:p*cp+c], randSlice(rng, c))
	}
	res := make([]float32, h*w*cp)
	for p := range h * w {
		copy(res[p*cp:p*cp+c], randSlice(rng, c))
	}
	bias := PadChannels(randSlice(rng, c))
	want := make([]float32, h*w*cp)
	refDepthwise(x, h, w, c, g, wt, want, &Epilogue{Bias: bias, Act: ActReLU, Residual: res})
	dw, err := PackDepthwise(c, g, wt)
	if err != nil {
		t.Fatal(err)
	}
	for _, impl := range depthwiseImpls(t) {
		y := append([]float32(nil), res...)
		impl.fn(x, h, w, dw, y, &Epilogue{Bias: bias, Act: ActReLU, Residual: y})
		compare(t, impl.name, y, want, 9)
	}
}
