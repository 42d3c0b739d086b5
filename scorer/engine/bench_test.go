package engine

import (
	"context"
	"testing"

	"github.com/spoofsense/spoofsense/models/fixtures"
	"gorgonia.org/tensor"
)

func benchModel(b *testing.B, file, golden string) {
	batch := 0
	for _, gs := range goldenSets {
		if gs.model == file {
			batch = gs.batch
		}
	}
	m := loadModelWith(b, file, LoadOptions{Batch: batch}, planOptions{})
	in := fixtures.ReadFloat32(b, "golden", "ort", golden, "input.f32")
	s := m.NewSession()
	ctx := context.Background()
	if _, err := s.RunFloat32(ctx, in); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := s.RunFloat32(ctx, in); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkMiniFASNetV2(b *testing.B)   { benchModel(b, "MiniFASNetV2.onnx", "MiniFASNetV2") }
func BenchmarkMiniFASNetV1SE(b *testing.B) { benchModel(b, "MiniFASNetV1SE.onnx", "MiniFASNetV1SE") }
func BenchmarkUltraFace(b *testing.B)      { benchModel(b, "version-RFB-320.onnx", "UltraFace-RFB-320") }
func BenchmarkMiniFASNetV2SE128(b *testing.B) {
	benchModel(b, "MiniFASNetV2SE-128.onnx", "MiniFASNetV2SE-128")
}

// TestSteadyStateAllocs checks that a reused session runs the shipped models without
// allocating, through both Run and RunFloat32.
func TestSteadyStateAllocs(t *testing.T) {
	for _, gs := range goldenSets {
		for _, lay := range layouts {
			t.Run(gs.dir+"/"+lay.name, func(t *testing.T) { testSteadyStateAllocs(t, gs.dir, gs.model, gs.batch, lay.opts) })
		}
	}
}

// allocRuns is how many counted runs TestSteadyStateAllocs averages over.
const allocRuns = 5

func testSteadyStateAllocs(t *testing.T, dir, model string, batch int, popts planOptions) {
	m := loadModelWith(t, model, LoadOptions{Batch: batch}, popts)
	in := fixtures.ReadFloat32(t, "golden", "ort", dir, "input.f32")
	s := m.NewSession()
	ctx := context.Background()
	vi := m.Inputs()[0]
	inputs := map[string]*tensor.Dense{vi.Name: tensor.New(tensor.WithShape(vi.Shape...), tensor.WithBacking(in))}
	// AllocsPerRun runs the function once before it counts: the first run is a warm-up. It
	// counts every malloc in the process, so a stray one from the runtime (seen under -race in
	// CI) would fail a single counted run; averaging over allocRuns runs keeps the test exact
	// for anything Run itself allocates (one per run or more still fails).
	if n := testing.AllocsPerRun(allocRuns, func() {
		if _, err := s.RunFloat32(ctx, in); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Errorf("RunFloat32: %v allocations per run, want 0", n)
	}
	if n := testing.AllocsPerRun(allocRuns, func() {
		if _, err := s.Run(ctx, inputs); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Errorf("Run: %v allocations per run, want 0", n)
	}
}
