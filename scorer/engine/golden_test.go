package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"strings"
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
// batch is the LoadOptions.Batch the scorer plans the model with (0: as declared; the third net
// declares a dynamic batch).
var goldenSets = []struct {
	dir, model string
	batch      int
}{
	{"MiniFASNetV2", "MiniFASNetV2.onnx", 0},
	{"MiniFASNetV1SE", "MiniFASNetV1SE.onnx", 0},
	{"UltraFace-RFB-320", "version-RFB-320.onnx", 0},
	{"MiniFASNetV2SE-128", "MiniFASNetV2SE-128.onnx", 1},
}

func loadModel(tb testing.TB, file string) *Model {
	tb.Helper()
	return loadModelWith(tb, file, LoadOptions{}, planOptions{})
}

// loadModelWith loads a shared model with the given options and planner knobs.
func loadModelWith(tb testing.TB, file string, opts LoadOptions, popts planOptions) *Model {
	tb.Helper()
	data, err := os.ReadFile(fixtures.Path(tb, "models", file))
	if err != nil {
		tb.Fatal(err)
	}
	opts.Name = file
	m, err := load(data, opts, popts)
	if err != nil {
		tb.Fatalf("Load: %v", err)
	}
	return m
}

// layouts are the plans every golden test runs, in every build: the NCHW reference
// convolution (conv_reference_test.go, no kernels), the kernels' convolution between NCHW
// values (nchwConv, what dynamic mode runs) and the channels-last plan Load builds; the
// kernels are the portable or the SIMD ones, as the build and CPU choose.
var layouts = []struct {
	name string
	opts planOptions
}{
	{"reference", planOptions{layout: layoutNCHW, conv: compileConvReference}},
	{"nchw", planOptions{layout: layoutNCHW}},
	{"nhwc", planOptions{layout: layoutNHWC}},
}

// closeEnough is the PIPELINE §2 criterion: 1e-4 absolute, or 1e-4 relative above 1.
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
		for _, lay := range layouts {
			t.Run(gs.dir+"/"+lay.name, func(t *testing.T) { testGoldenORT(t, gs.dir, gs.model, gs.batch, lay.opts) })
		}
	}
}

// testGoldenORT runs one model on its onnxruntime golden input with the given layout.
func testGoldenORT(t *testing.T, dir, model string, batch int, popts planOptions) {
	raw, err := os.ReadFile(fixtures.Path(t, "golden", "ort", dir, "meta.json"))
	if err != nil {
		t.Fatal(err)
	}
	var meta goldenMeta
	if err := json.Unmarshal(raw, &meta); err != nil {
		t.Fatal(err)
	}
	m := loadModelWith(t, model, LoadOptions{Batch: batch}, popts)
	if !m.Static() {
		t.Fatalf("%s was not planned statically", model)
	}
	in := fixtures.ReadFloat32(t, "golden", "ort", dir, "input.f32")
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
			want := fixtures.ReadFloat32(t, "golden", "ort", dir, o.Name+".f32")
			if err := compareFloats(got.Data().([]float32), want); err != nil {
				t.Errorf("run %d output %q: %v", run, o.Name, err)
			}
		}
	}
}

func TestGoldenSilentFace(t *testing.T) {
	for _, net := range []string{"MiniFASNetV2", "MiniFASNetV1SE"} {
		for _, lay := range layouts {
			m := loadModelWith(t, net+".onnx", LoadOptions{}, lay.opts)
			s := m.NewSession()
			for _, img := range []string{"image_T1", "image_F1", "image_F2"} {
				t.Run(net+"/"+lay.name+"/"+img, func(t *testing.T) {
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
}

// TestBatch checks LoadOptions.Batch: MiniFASNet planned for three images gives, for each,
// the logits the reference implementation gives for it alone.
func TestBatch(t *testing.T) {
	data, err := os.ReadFile(fixtures.Path(t, "models", "MiniFASNetV2.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Load(data, LoadOptions{Name: "x.onnx", Batch: -1}); err == nil || !strings.Contains(err.Error(), "Batch") {
		t.Errorf("Load with Batch -1: error %v, want one naming LoadOptions.Batch", err)
	}
	imgs := []string{"image_T1", "image_F1", "image_F2"}
	for _, net := range []string{"MiniFASNetV2", "MiniFASNetV1SE"} {
		for _, lay := range layouts {
			t.Run(net+"/"+lay.name, func(t *testing.T) {
				m := loadModelWith(t, net+".onnx", LoadOptions{Batch: len(imgs)}, lay.opts)
				if got := m.Inputs()[0].Shape; !m.Static() || len(got) != 4 || got[0] != len(imgs) {
					t.Fatalf("static %v, input shape %v; want static with batch %d", m.Static(), got, len(imgs))
				}
				if got := m.Outputs()[0].Shape; !equalShape(got, []int{len(imgs), 3}) {
					t.Fatalf("output shape %v, want [%d 3]", got, len(imgs))
				}
				var in, want []float32
				for _, img := range imgs {
					in = append(in, fixtures.ReadFloat32(t, "golden", "silentface", img+"_"+net+"_input.f32")...)
					want = append(want, fixtures.ReadFloat32(t, "golden", "silentface", img+"_"+net+"_logits.f32")...)
				}
				out, err := m.NewSession().RunFloat32(context.Background(), in)
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
