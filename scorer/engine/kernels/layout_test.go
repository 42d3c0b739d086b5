package kernels

import (
	"math/rand/v2"
	"testing"
)

func TestLayoutRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(31, 32))
	for _, s := range []struct{ c, h, w int }{{1, 1, 1}, {3, 5, 7}, {16, 2, 2}, {77, 3, 4}} {
		src := randSlice(rng, s.c*s.h*s.w)
		nhwc := make([]float32, s.h*s.w*Pad16(s.c))
		sentinel(nhwc)
		NCHWToNHWC(nhwc, src, s.c, s.h, s.w)
		cp := Pad16(s.c)
		for p := 0; p < s.h*s.w; p++ {
			for ch := 0; ch < cp; ch++ {
				want := float32(0)
				if ch < s.c {
					want = src[ch*s.h*s.w+p]
				}
				if got := nhwc[p*cp+ch]; got != want {
					t.Fatalf("%+v: pixel %d channel %d = %v, want %v", s, p, ch, got, want)
				}
			}
		}
		back := make([]float32, len(src))
		NHWCToNCHW(back, nhwc, s.c, s.h, s.w)
		compare(t, "round trip", back, src, 0)
	}
}

func TestFoldBatchNormMatchesConvThenBN(t *testing.T) {
	rng := rand.New(rand.NewPCG(33, 34))
	const cin, cout, h, w = 5, 7, 4, 4
	g := ConvGeom{KH: 3, KW: 3, PadTop: 1, PadLeft: 1, PadBottom: 1, PadRight: 1}
	wt, bias := randSlice(rng, cout*cin*9), randSlice(rng, cout)
	bn := BatchNorm{Scale: randSlice(rng, cout), Bias: randSlice(rng, cout), Mean: randSlice(rng, cout),
		Var: make([]float32, cout), Epsilon: 1e-5}
	for i := range bn.Var {
		bn.Var[i] = rng.Float32() + 0.1
	}
	x := randNHWC(rng, h, w, cin)
	coutP := Pad16(cout)
	// Unfolded: conv with bias, then BN applied by hand.
	want := make([]float32, h*w*coutP)
	refConv(x, h, w, cin, cout, g, wt, want, &Epilogue{Bias: PadChannels(bias)})
	for p := 0; p < h*w; p++ {
		for o := 0; o < cout; o++ {
			v := &want[p*coutP+o]
			*v = (*v-bn.Mean[o])/sqrt32(bn.Var[o]+bn.Epsilon)*bn.Scale[o] + bn.Bias[o]
		}
	}
	fw, fb, err := FoldBatchNorm(wt, bias, cout, bn)
	if err != nil {
		t.Fatal(err)
	}
	got := make([]float32, h*w*coutP)
	refConv(x, h, w, cin, cout, g, fw, got, &Epilogue{Bias: PadChannels(fb)})
	compare(t, "folded", got, want, 45)
	if _, _, err := FoldBatchNorm(wt, bias, cout, BatchNorm{Scale: bn.Scale}); err == nil {
		t.Error("missing BN vectors: no error")
	}
}

func sqrt32(v float32) float32 {
	x := v
	for range 30 { // Newton's method, plenty for the test's range
		x = (x + v/x) / 2
	}
	return x
}

func TestConvGeomOutSize(t *testing.T) {
	tests := []struct {
		g          ConvGeom
		h, w       int
		wantH, wnt int
	}{
		{ConvGeom{KH: 3, KW: 3, PadTop: 1, PadLeft: 1, PadBottom: 1, PadRight: 1}, 80, 80, 80, 80},
		{ConvGeom{KH: 3, KW: 3, StrideH: 2, StrideW: 2, PadTop: 1, PadLeft: 1, PadBottom: 1, PadRight: 1}, 80, 80, 40, 40},
		{ConvGeom{KH: 5, KW: 5}, 5, 5, 1, 1},
		{ConvGeom{KH: 3, KW: 3, DilationH: 5, DilationW: 5, PadTop: 5, PadLeft: 5, PadBottom: 5, PadRight: 5}, 30, 40, 30, 40},
		{ConvGeom{KH: 5, KW: 5}, 3, 3, 0, 0},
		{ConvGeom{KH: 3, KW: 3, StrideH: 2, StrideW: 2}, 2, 2, 0, 0},
	}
	for _, tt := range tests {
		if oh, ow := tt.g.OutSize(tt.h, tt.w); oh != tt.wantH || ow != tt.wnt {
			t.Errorf("%+v on %d×%d: %d×%d, want %d×%d", tt.g, tt.h, tt.w, oh, ow, tt.wantH, tt.wnt)
		}
	}
}
