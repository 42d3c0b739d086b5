package kernels

import (
	"math/rand/v2"
	"testing"
)

// TestPlanarConv compares PlanarConv, in every variant this build and CPU run,
// with the reference convolution of the same input in NHWC, on stem-like and odd shapes.
func TestPlanarConv(t *testing.T) {
	p := func(k, s, d, pad int) ConvGeom {
		return ConvGeom{KH: k, KW: k, StrideH: s, StrideW: s, DilationH: d, DilationW: d,
			PadTop: pad, PadLeft: pad, PadBottom: pad, PadRight: pad}
	}
	shapes := []struct {
		name            string
		cin, cout, h, w int
		g               ConvGeom
	}{
		{"stem 3to16 s2", 3, 16, 24, 34, p(3, 2, 1, 1)},
		{"stem 3to32 s2", 3, 32, 20, 20, p(3, 2, 1, 1)},
		{"1to5 s1 odd", 1, 5, 9, 31, p(3, 1, 1, 1)},
		{"2to20 5x5 d2", 2, 20, 17, 23, p(5, 1, 2, 3)},
		{"3to16 s3 pad0", 3, 16, 13, 40, p(3, 3, 1, 0)},
		{"4to16 1x1", 4, 16, 3, 9, p(1, 1, 1, 0)},
		{"3to16 asym", 3, 16, 11, 19, ConvGeom{KH: 2, KW: 3, StrideH: 1, StrideW: 2, PadTop: 1, PadRight: 2}},
		{"3to40 s2 narrow", 3, 40, 5, 14, p(3, 2, 1, 1)},
	}
	type planarImpl struct {
		name string
		fn   func(x []float32, h, w int, pw *PlanarConvWeights, y []float32, ep *Epilogue)
	}
	var impls []planarImpl
	for _, v := range testVariants(t) {
		impls = append(impls, planarImpl{v.String(), func(x []float32, h, w int, pw *PlanarConvWeights, y []float32, ep *Epilogue) {
			planarWith(v, x, h, w, pw, y, ep)
		}})
	}
	for _, s := range shapes {
		rng := rand.New(rand.NewPCG(31, uint64(s.cin*100+s.cout)))
		wt := randSlice(rng, s.cout*s.cin*s.g.KH*s.g.KW)
		pw, err := PackPlanarConv(s.cout, s.cin, s.g, wt)
		if err != nil {
			t.Fatal(err)
		}
		planar := randSlice(rng, s.cin*s.h*s.w)
		nhwc := make([]float32, s.h*s.w*Pad16(s.cin))
		NCHWToNHWC(nhwc, planar, s.cin, s.h, s.w)
		oh, ow := s.g.OutSize(s.h, s.w)
		n := oh * ow * Pad16(s.cout)
		for epName, ep := range testEpilogues(rng, Pad16(s.cout), n) {
			want := make([]float32, n)
			refConv(nhwc, s.h, s.w, s.cin, s.cout, s.g, wt, want, ep)
			for _, impl := range impls {
				got := make([]float32, n)
				impl.fn(planar, s.h, s.w, pw, got, ep)
				compare(t, s.name+", "+epName+", "+impl.name, got, want, s.cin*s.g.KH*s.g.KW)
			}
		}
	}
}

func TestPlanarConvErrors(t *testing.T) {
	if _, err := PackPlanarConv(16, 3, ConvGeom{KH: 3, KW: 3}, make([]float32, 10)); err == nil {
		t.Error("PackPlanarConv accepted too few weights")
	}
	if _, err := PackPlanarConv(16, 3, ConvGeom{KH: 0, KW: 3}, make([]float32, 500)); err == nil {
		t.Error("PackPlanarConv accepted an empty window")
	}
}

// BenchmarkPlanarConv runs the stem convolutions of MiniFASNet and UltraFace.
func BenchmarkPlanarConv(b *testing.B) {
	g := ConvGeom{KH: 3, KW: 3, StrideH: 2, StrideW: 2, PadTop: 1, PadLeft: 1, PadBottom: 1, PadRight: 1}
	for _, s := range []struct {
		name            string
		cin, cout, h, w int
	}{{"MiniFAS_3to32_s2_80x80", 3, 32, 80, 80}, {"Ultra_3to16_s2_240x320", 3, 16, 240, 320}} {
		for _, v := range testVariants(b) {
			b.Run(v.String()+"/"+s.name, func(b *testing.B) {
				rng := rand.New(rand.NewPCG(5, 6))
				pw, err := PackPlanarConv(s.cout, s.cin, g, randSlice(rng, s.cout*s.cin*9))
				if err != nil {
					b.Fatal(err)
				}
				oh, ow := g.OutSize(s.h, s.w)
				x, y := randSlice(rng, s.cin*s.h*s.w), make([]float32, oh*ow*Pad16(s.cout))
				ep := &Epilogue{Bias: randSlice(rng, Pad16(s.cout)), Act: ActPReLU, Slope: randSlice(rng, Pad16(s.cout))}
				for b.Loop() {
					planarWith(v, x, s.h, s.w, pw, y, ep)
				}
				flops := 2 * float64(oh*ow*s.cout*s.cin*9) * float64(b.N)
				b.ReportMetric(flops/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
	}
}
