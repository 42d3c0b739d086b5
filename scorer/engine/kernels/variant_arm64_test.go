package kernels

import (
	"math/rand/v2"
	"os"
	"slices"
	"testing"
)

// TestNEONIsTheArm64Variant checks that an arm64 build takes the NEON kernels by default
// and that the comparisons with the reference run them: testVariants lists neon, and
// every kernel's SIMD entry point runs NEON code for it instead of falling back to the
// portable kernels (which would pass the same comparisons).
func TestNEONIsTheArm64Variant(t *testing.T) {
	if best := supportedImpls()[0]; best != implNEON {
		t.Errorf("fastest supported variant on arm64 = %v, want neon", best)
	}
	if env := os.Getenv(KernelsEnv); (env == "" || env == "auto") && selected != implNEON {
		t.Errorf("selected variant on arm64 = %v, want neon", selected)
	}
	if !slices.Contains(testVariants(t), implNEON) {
		t.Errorf("testVariants = %v: the reference tests would not run neon", testVariants(t))
	}
	rng := rand.New(rand.NewPCG(7, 8))
	const h, w = 9, 10
	x := randNHWC(rng, h, w, 16)
	y := make([]float32, h*w*32)
	mustDW := func(g ConvGeom) *DepthwiseWeights {
		dw, err := PackDepthwise(16, g, randSlice(rng, 16*g.KH*g.KW))
		if err != nil {
			t.Fatal(err)
		}
		return dw
	}
	pad1 := ConvGeom{KH: 3, KW: 3, PadTop: 1, PadLeft: 1, PadBottom: 1, PadRight: 1}
	s2 := pad1
	s2.StrideH, s2.StrideW = 2, 2
	pw, err := PackPlanarConv(16, 3, s2, randSlice(rng, 16*3*9))
	if err != nil {
		t.Fatal(err)
	}
	cw, err := PackConv(16, 16, pad1, randSlice(rng, 16*16*9))
	if err != nil {
		t.Fatal(err)
	}
	scratch := make([]float32, cw.ScratchSize(h, w))
	pb := PackB(16, 32, randSlice(rng, 16*32))
	tests := []struct {
		name string
		run  func() bool
	}{
		{"gemm", func() bool { return gemmSIMD(implNEON, h*w, 32, 16, x, 16, pb, y, 32, nil) }},
		{"depthwise 3x3 s1", func() bool { return depthwiseSIMD(implNEON, x, h, w, mustDW(pad1), y, h, w, nil) }},
		{"depthwise 3x3 s2", func() bool { return depthwiseSIMD(implNEON, x, h, w, mustDW(s2), y, 5, 5, nil) }},
		{"depthwise 5x5", func() bool { return depthwiseSIMD(implNEON, x, h, w, mustDW(ConvGeom{KH: 5, KW: 5}), y, 5, 6, nil) }},
		{"planar 3x3 s2", func() bool { return planarSIMD(implNEON, x, h, w, pw, y, 5, 5, nil) }},
		{"direct conv 3x3", func() bool { return convDirectSIMD(implNEON, x, h, w, cw, y, scratch, h, w, nil) }},
	}
	for _, tt := range tests {
		if !tt.run() {
			t.Errorf("%s: the neon variant fell back to the portable kernel", tt.name)
		}
	}
}
