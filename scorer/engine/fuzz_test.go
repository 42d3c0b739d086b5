package engine

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/spoofsense/spoofsense/models/fixtures"
	"gorgonia.org/tensor"
)

// FuzzLoad feeds Load corrupted and truncated model files: it must return a model or an error
// wrapping ErrMalformed or ErrUnsupported (or a *NodeError), never panic. Small models that load
// are also run once on zeros.
func FuzzLoad(f *testing.F) {
	for _, file := range []string{"MiniFASNetV2.onnx", "MiniFASNetV1SE.onnx", "version-RFB-320.onnx"} {
		data, err := os.ReadFile(fixtures.Path(f, "models", file))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
		for _, cut := range []int{len(data) / 2, len(data) / 3, 4096, 200, 17, 1} {
			f.Add(data[:cut])
		}
	}
	for _, c := range []string{"test_conv_with_strides_padding", "test_slice", "test_resize_upsample_scales_nearest", "test_gemm_all_attributes"} {
		if data, err := os.ReadFile(filepath.Join(nodeTestDir, c, "model.onnx")); err == nil {
			f.Add(data)
		}
	}
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := Load(data, LoadOptions{Name: "fuzz.onnx"})
		if err != nil {
			var ne *NodeError
			if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrUnsupported) && !errors.As(err, &ne) {
				t.Fatalf("error of an unexpected kind: %v", err)
			}
			return
		}
		if m == nil {
			t.Fatal("nil model without an error")
		}
		if !m.Static() || len(data) > 1<<16 {
			return
		}
		inputs := map[string]*tensor.Dense{}
		for _, vi := range m.Inputs() {
			n := numel(vi.Shape)
			if vi.DType != "float32" || n == 0 || n > 1<<16 {
				return
			}
			inputs[vi.Name] = tensor.New(tensor.WithShape(vi.Shape...), tensor.WithBacking(make([]float32, n)))
		}
		_, _ = m.NewSession().Run(context.Background(), inputs) // must not panic; errors are fine
	})
}
