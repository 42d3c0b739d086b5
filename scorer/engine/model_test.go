package engine

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/spoofsense/spoofsense/models/fixtures"
)

func TestLoadErrors(t *testing.T) {
	model, err := os.ReadFile(fixtures.Path(t, "models", "MiniFASNetV2.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	abs, err := os.ReadFile(filepath.Join(nodeTestDir, "test_abs", "model.onnx"))
	if err != nil {
		t.Fatalf("ONNX node tests not found (%v): apt-get install libonnx-testdata", err)
	}
	tests := []struct {
		name     string
		data     []byte
		is       error
		contains []string
	}{
		{"empty", nil, ErrMalformed, []string{"x.onnx"}},
		{"truncated half", model[:len(model)/2], ErrMalformed, []string{"x.onnx"}},
		{"truncated header", model[:10], ErrMalformed, []string{"x.onnx"}},
		{"garbage", []byte("this is not an onnx model at all"), ErrMalformed, []string{"x.onnx"}},
		{"unsupported operator", abs, ErrUnsupported, []string{"x.onnx", "Abs", `"y"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := Load(tt.data, LoadOptions{Name: "x.onnx"})
			if err == nil {
				t.Fatalf("Load succeeded (%d inputs)", len(m.Inputs()))
			}
			if !errors.Is(err, tt.is) {
				t.Errorf("error %q does not wrap %v", err, tt.is)
			}
			for _, s := range tt.contains {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not mention %s", err, s)
				}
			}
		})
	}
}

func TestRunErrors(t *testing.T) {
	m := loadModel(t, "MiniFASNetV2.onnx")
	s := m.NewSession()
	if _, err := s.RunFloat32(context.Background(), make([]float32, 10)); err == nil {
		t.Error("RunFloat32 with a short input succeeded")
	}
	if _, err := s.Run(context.Background(), nil); err == nil {
		t.Error("Run without inputs succeeded")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.RunFloat32(ctx, make([]float32, 3*80*80)); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled run: err = %v, want context.Canceled", err)
	}
}

// TestConcurrentSessions runs one model from several goroutines, each with its own session.
func TestConcurrentSessions(t *testing.T) {
	m := loadModel(t, "MiniFASNetV1SE.onnx")
	in := fixtures.ReadFloat32(t, "golden", "ort", "MiniFASNetV1SE", "input.f32")
	want := fixtures.ReadFloat32(t, "golden", "ort", "MiniFASNetV1SE", "output.f32")
	var wg sync.WaitGroup
	errs := make([]error, 3)
	for k := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := m.NewSession()
			for range 2 {
				out, err := s.RunFloat32(context.Background(), in)
				if err == nil {
					err = compareFloats(out[0], want)
				}
				if err != nil {
					errs[k] = err
					return
				}
			}
		}()
	}
	wg.Wait()
	for k, err := range errs {
		if err != nil {
			t.Errorf("goroutine %d: %v", k, err)
		}
	}
}
