package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"testing"

	"github.com/spoofsense/spoofsense/models/fixtures"
	"gorgonia.org/tensor"
)

// goldenMeta is the meta.json beside each onnxruntime golden set.
type goldenMeta struct {
	Model string `json:"model"`
	Input struct {
		Name  string `json:"name"`
		Shape []int  `json:"shape"`
	} `json:"input"`
	Outputs []struct {
		Name  string `json:"name"`
		Shape []int  `json:"shape"`
	} `json:"outputs"`
}

// goldenSets maps golden directories to the model files they were made from.
var goldenSets = []struct{ dir, model string }{
	{"MiniFASNetV2", "MiniFASNetV2.onnx"},
	{"MiniFASNetV1SE", "MiniFASNetV1SE.onnx"},
	{"UltraFace-RFB-320", "version-RFB-320.onnx"},
}

func loadModel(tb testing.TB, file string) *Model {
	tb.Helper()
	data, err := os.ReadFile(fixtures.Path(tb, "models", file))
	if err != nil {
		tb.Fatal(err)
	}
	m, err := Load(data, LoadOptions{Name: file})
	if err != nil {
		tb.Fatalf("Load: %v", err)
	}
	return m
}

// closeEnough is the REFERENCE §2 criterion: 1e-4 absolute, or 1e-4 relative above 1.
func closeEnough(got, want float32) bool {
	d := math.Abs(float64(got) - float64(want))
	return d <= 1e-4 || d <= 1e-4*math.Abs(float64(want))
}

func compareFloats(got, want []float32) error {
	if len(got) != len(want) {
		return fmt.Errorf("%d elements, want %d", len(got), len(want))
	}
	bad, worst, worstAt := 0, 0.0, -1
	for i := range want {
		if !closeEnough(got[i], want[i]) || math.IsNaN(float64(got[i])) {
			bad++
			if d := math.Abs(float64(got[i] - want[i])); d > worst || math.IsNaN(d) {
				worst, worstAt = d, i
			}
		}
	}
	if bad > 0 {
		return fmt.Errorf("%d of %d elements differ; worst at %d: got %v, want %v", bad, len(want), worstAt, got[worstAt], want[worstAt])
	}
	return nil
}

func TestGoldenORT(t *testing.T) {
	for _, gs := range goldenSets {
		t.Run(gs.dir, func(t *testing.T) {
			raw, err := os.ReadFile(fixtures.Path(t, "golden", "ort", gs.dir, "meta.json"))
			if err != nil {
				t.Fatal(err)
			}
			var meta goldenMeta
			if err := json.Unmarshal(raw, &meta); err != nil {
				t.Fatal(err)
			}
			m := loadModel(t, gs.model)
			if !m.Static() {
				t.Fatalf("%s was not planned statically", gs.model)
			}
			in := fixtures.ReadFloat32(t, "golden", "ort", gs.dir, "input.f32")
			s := m.NewSession()
			for run := 0; run < 2; run++ { // the second run checks that reused buffers stay correct
				out, err := s.Run(context.Background(), map[string]*tensor.Dense{
					meta.Input.Name: tensor.New(tensor.WithShape(meta.Input.Shape...), tensor.WithBacking(in)),
				})
				if err != nil {
					t.Fatal(err)
				}
				for _, o := range meta.Outputs {
					got, ok := out[o.Name]
					if !ok {
						t.Fatalf("no output %q", o.Name)
					}
					if !equalShape(got.Shape(), o.Shape) {
						t.Errorf("output %q shape %v, want %v", o.Name, got.Shape(), o.Shape)
					}
					want := fixtures.ReadFloat32(t, "golden", "ort", gs.dir, o.Name+".f32")
					if err := compareFloats(got.Data().([]float32), want); err != nil {
						t.Errorf("run %d output %q: %v", run, o.Name, err)
					}
				}
			}
		})
	}
}

func TestGoldenSilentFace(t *testing.T) {
	for _, net := range []string{"MiniFASNetV2", "MiniFASNetV1SE"} {
		m := loadModel(t, net+".onnx")
		s := m.NewSession()
		for _, img := range []string{"image_T1", "image_F1", "image_F2"} {
			t.Run(net+"/"+img, func(t *testing.T) {
				in := fixtures.ReadFloat32(t, "golden", "silentface", img+"_"+net+"_input.f32")
				want := fixtures.ReadFloat32(t, "golden", "silentface", img+"_"+net+"_logits.f32")
				out, err := s.RunFloat32(context.Background(), in)
				if err != nil {
					t.Fatal(err)
				}
				if err := compareFloats(out[0], want); err != nil {
					t.Error(err)
				}
			})
		}
	}
}
