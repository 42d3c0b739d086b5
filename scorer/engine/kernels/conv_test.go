package kernels

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

func TestConvMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	same := func(k, s, d int) ConvGeom {
		p := d * (k - 1) / 2
		return ConvGeom{KH: k, KW: k, StrideH: s, StrideW: s, DilationH: d, DilationW: d,
			PadTop: p, PadLeft: p, PadBottom: p, PadRight: p}
	}
	tests := []struct {
		name            string
		cin, cout, h, w int
		g               ConvGeom
	}{
		{"1x1 pointwise", 13, 26, 5, 7, ConvGeom{KH: 1, KW: 1}},
		{"1x1 pointwise 231->128", 231, 128, 3, 3, ConvGeom{KH: 1, KW: 1}},
		{"1x1 stride 2", 16, 16, 7, 7, ConvGeom{KH: 1, KW: 1, StrideH: 2, StrideW: 2}},
		{"3x3 s2 3->32 (MiniFASNet stem)", 3, 32, 16, 16, same(3, 2, 1)},
		{"3x3 s2 3->16 odd size", 3, 16, 9, 13, same(3, 2, 1)},
		{"3x3 s1 16->32", 16, 32, 12, 10, same(3, 1, 1)},
		{"3x3 s1 8->12", 8, 12, 7, 9, same(3, 1, 1)},
		{"3x3 d2 16->16", 16, 16, 11, 9, same(3, 1, 2)},
		{"3x3 d3 16->16", 16, 16, 8, 8, same(3, 1, 3)},
		{"3x3 d5 16->16", 16, 16, 12, 12, same(3, 1, 5)},
		{"3x3 256->6 head", 256, 6, 4, 5, same(3, 1, 1)},
		{"2x3 asymmetric", 5, 20, 6, 7, ConvGeom{KH: 2, KW: 3, StrideH: 1, StrideW: 2, PadTop: 1, PadRight: 2}},
		{"big image, several chunks", 3, 16, 60, 80, same(3, 2, 1)},
		{"3x3 s1 16->16 direct, 7 wide", 16, 16, 5, 7, same(3, 1, 1)},
		{"3x3 s2 24->16 direct, odd", 24, 16, 9, 11, same(3, 2, 1)},
		{"3x3 d2 16->16 direct, 31 wide: 12-, 6- and 1-pixel runs", 16, 16, 6, 31, same(3, 1, 2)},
		{"3x3 s1 16->16 direct, 2×31: row-wise 12-, 6- and 1-pixel runs", 16, 16, 2, 31, same(3, 1, 1)},
		{"3x3 s1 16->16 direct, 4×25: row-wise 12- and 1-pixel runs", 16, 16, 4, 25, same(3, 1, 1)},
		{"3x3 s1 32->12 direct, 3 wide: virtual-row tiles", 32, 12, 13, 3, same(3, 1, 1)},
		{"3x3 s2 16->16 direct, 5 wide: virtual-row tiles", 16, 16, 15, 9, same(3, 2, 1)},
		{"3x3 d2 16->8 direct, 4 wide: virtual-row tiles", 16, 8, 9, 4, same(3, 1, 2)},
		{"3x3 s2 p0 16->16 direct, 1 wide", 16, 16, 7, 3, ConvGeom{KH: 3, KW: 3, StrideH: 2, StrideW: 2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wt := randSlice(rng, tt.cout*tt.cin*tt.g.KH*tt.g.KW)
			cw, err := PackConv(tt.cout, tt.cin, tt.g, wt)
			if err != nil {
				t.Fatal(err)
			}
			x := randNHWC(rng, tt.h, tt.w, tt.cin)
			oh, ow := tt.g.OutSize(tt.h, tt.w)
			coutP := Pad16(tt.cout)
			outLen := oh * ow * coutP
			scratch := make([]float32, cw.ScratchSize(tt.h, tt.w))
			for name, ep := range testEpilogues(rng, coutP, outLen) {
				if ep != nil {
					ep = zeroPadEpilogue(ep, tt.cout, coutP)
				}
				want := make([]float32, outLen)
				refConv(x, tt.h, tt.w, tt.cin, tt.cout, tt.g, wt, want, ep)
				for _, v := range testVariants(t) {
					got := make([]float32, outLen)
					sentinel(got)
					sentinel(scratch) // no variant may read scratch it did not write
					convWith(v, x, tt.h, tt.w, cw, got, scratch, ep)
					compare(t, fmt.Sprintf("%s ep=%s", v, name), got, want, tt.cin*tt.g.KH*tt.g.KW)
				}
			}
		})
	}
}

func TestConvRejectsBadInput(t *testing.T) {
	if _, err := PackConv(4, 3, ConvGeom{KH: 3, KW: 3}, make([]float32, 4*3*9-1)); err == nil {
		t.Error("short weights: no error")
	}
	if _, err := PackConv(4, 3, ConvGeom{KH: 3, KW: -3}, make([]float32, 4*3*9)); err == nil {
		t.Error("negative kernel: no error")
	}
	cw, err := PackConv(16, 3, ConvGeom{KH: 3, KW: 3}, make([]float32, 16*3*9))
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if recover() == nil {
			t.Error("short scratch: no panic")
		}
	}()
	Conv(make([]float32, 8*8*16), 8, 8, cw, make([]float32, 6*6*16), nil, nil)
}

func TestConvAllocatesNothing(t *testing.T) {
	rng := rand.New(rand.NewPCG(23, 24))
	g := ConvGeom{KH: 3, KW: 3, StrideH: 2, StrideW: 2, PadTop: 1, PadLeft: 1, PadBottom: 1, PadRight: 1}
	cw, err := PackConv(32, 3, g, randSlice(rng, 32*3*9))
	if err != nil {
		t.Fatal(err)
	}
	const h, w = 40, 40
	x, y := randNHWC(rng, h, w, 3), make([]float32, 20*20*32)
	scratch := make([]float32, cw.ScratchSize(h, w))
	ep := &Epilogue{Bias: randSlice(rng, 32), Act: ActReLU, Residual: make([]float32, len(y))}
	if allocs := testing.AllocsPerRun(10, func() { Conv(x, h, w, cw, y, scratch, ep) }); allocs != 0 {
		t.Errorf("Conv allocates %v times per call", allocs)
	}
}

// BenchmarkConv runs the dense 3×3 convolutions of MiniFASNet and UltraFace.
func BenchmarkConv(b *testing.B) {
	p := func(s, d int) ConvGeom {
		return ConvGeom{KH: 3, KW: 3, StrideH: s, StrideW: s, DilationH: d, DilationW: d,
			PadTop: d, PadLeft: d, PadBottom: d, PadRight: d}
	}
	shapes := []struct {
		name            string
		cin, cout, h, w int
		g               ConvGeom
	}{
		{"MiniFAS_3to32_s2_80x80", 3, 32, 80, 80, p(2, 1)},
		{"Ultra_3to16_s2_240x320", 3, 16, 240, 320, p(2, 1)},
		{"Ultra_16to32_s1_120x160", 16, 32, 120, 160, p(1, 1)},
		{"Ultra_16to16_d2_30x40", 16, 16, 30, 40, p(1, 2)},
		{"Ultra_256to12_head_4x5", 256, 12, 4, 5, p(1, 1)},
	}
	for _, v := range testVariants(b) {
		for _, s := range shapes {
			b.Run(v.String()+"/"+s.name, func(b *testing.B) {
				rng := rand.New(rand.NewPCG(25, 26))
				cw, err := PackConv(s.cout, s.cin, s.g, randSlice(rng, s.cout*s.cin*9))
				if err != nil {
					b.Fatal(err)
				}
				oh, ow := s.g.OutSize(s.h, s.w)
				x, y := randNHWC(rng, s.h, s.w, s.cin), make([]float32, oh*ow*Pad16(s.cout))
				scratch := make([]float32, cw.ScratchSize(s.h, s.w))
				ep := &Epilogue{Bias: randSlice(rng, Pad16(s.cout)), Act: ActReLU}
				for b.Loop() {
					convWith(v, x, s.h, s.w, cw, y, scratch, ep)
				}
				flops := 2 * float64(oh*ow*s.cout*s.cin*9) * float64(b.N)
				b.ReportMetric(flops/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
	}
}
