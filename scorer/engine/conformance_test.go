package engine

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	onnx "github.com/owulveryck/onnx-go"
	"gorgonia.org/tensor"
)

var updateDoc = flag.Bool("update-doc", false, "rewrite CONFORMANCE.md from the conformance run")

// nodeTestDir is where Debian's libonnx-testdata installs ONNX's backend node tests.
const nodeTestDir = "/usr/share/libonnx-testdata/data/node"

// conformancePrefixes maps each operator the engine claims to the name stems of its ONNX node
// test cases: a case belongs to the operator when its directory is test_<stem> or
// test_<stem>_*.
var conformancePrefixes = map[string][]string{
	"Add": {"add"}, "AveragePool": {"averagepool"}, "BatchNormalization": {"batchnorm"},
	"Clip": {"clip"}, "Concat": {"concat"}, "Constant": {"constant"}, "Conv": {"conv", "basic_conv"},
	"Div": {"div"}, "Dropout": {"dropout"}, "Exp": {"exp"}, "Flatten": {"flatten"},
	"Gather": {"gather"}, "Gemm": {"gemm"}, "GlobalAveragePool": {"globalaveragepool"},
	"HardSigmoid": {"hardsigmoid"}, "HardSwish": {"hardswish"}, "Identity": {"identity"},
	"MatMul": {"matmul"}, "MaxPool": {"maxpool"}, "Mul": {"mul"}, "PRelu": {"prelu"},
	"Relu": {"relu"}, "Reshape": {"reshape"}, "Resize": {"resize"}, "Shape": {"shape"},
	"Sigmoid": {"sigmoid"}, "Slice": {"slice"}, "Softmax": {"softmax"}, "Sub": {"sub"},
	"Transpose": {"transpose"}, "Unsqueeze": {"unsqueeze"},
}

// notClaimed lists the cases of claimed operators that the engine deliberately does not
// support, with the reason. For each, the test checks that Load or Run fails with an error
// (never a panic and never a wrong answer).
var notClaimed = map[string]string{
	"test_add_uint8":                                             "uint8 data: the engine computes in float32 and int64 only",
	"test_sub_uint8":                                             "uint8 data: the engine computes in float32 and int64 only",
	"test_mul_uint8":                                             "uint8 data: the engine computes in float32 and int64 only",
	"test_div_uint8":                                             "uint8 data: the engine computes in float32 and int64 only",
	"test_maxpool_2d_uint8":                                      "uint8 data: the engine computes in float32 and int64 only",
	"test_clip_default_int8_inbounds":                            "int8 data: the engine computes in float32 and int64 only",
	"test_clip_default_int8_max":                                 "int8 data: the engine computes in float32 and int64 only",
	"test_clip_default_int8_min":                                 "int8 data: the engine computes in float32 and int64 only",
	"test_batchnorm_epsilon_training_mode":                       "training_mode=1: the engine does inference only",
	"test_batchnorm_example_training_mode":                       "training_mode=1: the engine does inference only",
	"test_dropout_default_mask":                                  "bool mask output: the engine does not produce bool tensors",
	"test_dropout_default_mask_ratio":                            "bool mask output: the engine does not produce bool tensors",
	"test_identity_opt":                                          "optional-typed value: onnx-go v0.5.0 decodes tensor types only",
	"test_identity_sequence":                                     "sequence-typed value: onnx-go v0.5.0 decodes tensor types only",
	"test_reshape_allowzero_reordered":                           "zero-element tensor: gorgonia's tensor.Dense (the API type) cannot hold one",
	"test_slice_start_out_of_bounds":                             "zero-element result: gorgonia's tensor.Dense (the API type) cannot hold one",
	"test_resize_downsample_sizes_nearest_tf_half_pixel_for_nn":  "zero-element roi initializer: onnx-go v0.5.0 cannot decode empty tensors",
	"test_resize_downsample_scales_cubic":                        "cubic mode: only nearest is implemented",
	"test_resize_downsample_scales_cubic_A_n0p5_exclude_outside": "cubic mode: only nearest is implemented",
	"test_resize_downsample_scales_cubic_align_corners":          "cubic mode: only nearest is implemented",
	"test_resize_downsample_sizes_cubic":                         "cubic mode: only nearest is implemented",
	"test_resize_upsample_scales_cubic":                          "cubic mode: only nearest is implemented",
	"test_resize_upsample_scales_cubic_A_n0p5_exclude_outside":   "cubic mode: only nearest is implemented",
	"test_resize_upsample_scales_cubic_align_corners":            "cubic mode: only nearest is implemented",
	"test_resize_upsample_scales_cubic_asymmetric":               "cubic mode: only nearest is implemented",
	"test_resize_upsample_sizes_cubic":                           "cubic mode: only nearest is implemented",
	"test_resize_downsample_scales_linear":                       "linear mode: only nearest is implemented",
	"test_resize_downsample_scales_linear_align_corners":         "linear mode: only nearest is implemented",
	"test_resize_downsample_sizes_linear_pytorch_half_pixel":     "linear mode: only nearest is implemented",
	"test_resize_upsample_scales_linear":                         "linear mode: only nearest is implemented",
	"test_resize_upsample_scales_linear_align_corners":           "linear mode: only nearest is implemented",
	"test_resize_tf_crop_and_resize":                             "linear mode with tf_crop_and_resize: only nearest is implemented",
}

// caseResult is the outcome of one node test case.
type caseResult struct {
	name   string
	ops    []string // operator types in the case's graph
	passed bool
	err    error
}

// graphOps lists the op_type of every node of a model file, read from the wire format.
func graphOps(data []byte) ([]string, error) {
	var ops []string
	r := wireReader{data}
	for {
		f, wt, _, p, done, err := r.next()
		if err != nil {
			return nil, err
		}
		if done {
			return ops, nil
		}
		if f != 7 || wt != 2 {
			continue
		}
		gr := wireReader{p}
		for {
			gf, gwt, _, gp, gdone, err := gr.next()
			if err != nil {
				return nil, err
			}
			if gdone {
				break
			}
			if gf != 1 || gwt != 2 {
				continue
			}
			nr := wireReader{gp}
			for {
				nf, nwt, _, np, ndone, err := nr.next()
				if err != nil {
					return nil, err
				}
				if ndone {
					break
				}
				if nf == 4 && nwt == 2 {
					ops = append(ops, string(np))
				}
			}
		}
	}
}

func readTensorPB(path string) (*tensor.Dense, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	t, err := onnx.NewTensor(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	d, ok := t.(*tensor.Dense)
	if !ok {
		return nil, fmt.Errorf("%s: %T is not dense", path, t)
	}
	return d, nil
}

// runNodeCase loads one case and compares every output of test_data_set_0.
func runNodeCase(dir string) error {
	data, err := os.ReadFile(filepath.Join(dir, "model.onnx"))
	if err != nil {
		return err
	}
	m, err := Load(data, LoadOptions{Name: filepath.Base(dir)})
	if err != nil {
		return err
	}
	set := filepath.Join(dir, "test_data_set_0")
	inputs := map[string]*tensor.Dense{}
	for k, vi := range m.Inputs() {
		d, err := readTensorPB(filepath.Join(set, fmt.Sprintf("input_%d.pb", k)))
		if err != nil {
			return err
		}
		inputs[vi.Name] = d
	}
	out, err := m.NewSession().Run(context.Background(), inputs)
	if err != nil {
		return err
	}
	for k, vi := range m.Outputs() {
		want, err := readTensorPB(filepath.Join(set, fmt.Sprintf("output_%d.pb", k)))
		if err != nil {
			return err
		}
		got := out[vi.Name]
		if got == nil {
			return fmt.Errorf("no output %q", vi.Name)
		}
		if got.Shape().TotalSize() != want.Shape().TotalSize() || (len(want.Shape()) > 0 && !equalShape(got.Shape(), want.Shape()) && want.Shape().TotalSize() != 1) {
			return fmt.Errorf("output %q: shape %v, want %v", vi.Name, got.Shape(), want.Shape())
		}
		g, w := asFloat64s(got), asFloat64s(want)
		if g == nil || w == nil {
			return fmt.Errorf("output %q: cannot compare %v with %v", vi.Name, got.Dtype(), want.Dtype())
		}
		for i := range w {
			d := math.Abs(g[i] - w[i])
			if !(d <= 1e-4 || d <= 1e-4*math.Abs(w[i])) && !(math.IsNaN(g[i]) && math.IsNaN(w[i])) {
				return fmt.Errorf("output %q element %d: got %v, want %v", vi.Name, i, g[i], w[i])
			}
		}
	}
	return nil
}

func asFloat64s(d *tensor.Dense) []float64 {
	switch v := d.Data().(type) {
	case []float32:
		out := make([]float64, len(v))
		for i, x := range v {
			out[i] = float64(x)
		}
		return out
	case float32:
		return []float64{float64(v)}
	case []int64:
		out := make([]float64, len(v))
		for i, x := range v {
			out[i] = float64(x)
		}
		return out
	case int64:
		return []float64{float64(v)}
	}
	return nil
}

// caseDirs returns the case directories of an operator.
func caseDirs(entries []os.DirEntry, op string) []string {
	var out []string
	for _, e := range entries {
		for _, stem := range conformancePrefixes[op] {
			n := e.Name()
			if n == "test_"+stem || strings.HasPrefix(n, "test_"+stem+"_") {
				out = append(out, n)
				break
			}
		}
	}
	sort.Strings(out)
	return out
}

func TestConformance(t *testing.T) {
	entries, err := os.ReadDir(nodeTestDir)
	if err != nil {
		t.Fatalf("ONNX node tests not found (%v): apt-get install libonnx-testdata", err)
	}
	ops := make([]string, 0, len(conformancePrefixes))
	for op := range conformancePrefixes {
		ops = append(ops, op)
	}
	sort.Strings(ops)
	if got, want := strings.Join(ops, ","), strings.Join(SupportedOps(), ","); got != want {
		t.Fatalf("conformancePrefixes covers %s, SupportedOps is %s", got, want)
	}
	results := map[string][]caseResult{}
	for _, op := range ops {
		dirs := caseDirs(entries, op)
		if len(dirs) == 0 {
			t.Errorf("%s: no node test cases found", op)
		}
		for _, name := range dirs {
			dir := filepath.Join(nodeTestDir, name)
			data, err := os.ReadFile(filepath.Join(dir, "model.onnx"))
			if err != nil {
				t.Fatal(err)
			}
			gops, err := graphOps(data)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			res := caseResult{name: name, ops: gops}
			if !containsString(gops, op) {
				results[op] = append(results[op], res) // another operator sharing the name
				continue
			}
			res.err = runNodeCase(dir)
			res.passed = res.err == nil
			results[op] = append(results[op], res)
			reason, excluded := notClaimed[name]
			switch {
			case excluded && res.passed:
				t.Errorf("%s: listed as not claimed (%s) but passes; remove it from notClaimed", name, reason)
			case !excluded && !res.passed:
				t.Errorf("%s: %v", name, res.err)
			}
		}
	}
	doc := conformanceDoc(ops, results)
	const docFile = "CONFORMANCE.md"
	if *updateDoc {
		if err := os.WriteFile(docFile, doc, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	cur, err := os.ReadFile(docFile)
	if err != nil || !bytes.Equal(cur, doc) {
		t.Errorf("%s is not current: run go test -run TestConformance -update-doc ./scorer/engine/", docFile)
	}
}

func containsString(s []string, x string) bool {
	for _, v := range s {
		if v == x {
			return true
		}
	}
	return false
}

// conformanceDoc renders the coverage table.
func conformanceDoc(ops []string, results map[string][]caseResult) []byte {
	var b bytes.Buffer
	b.WriteString("# ONNX conformance of the engine\n\n")
	b.WriteString("Generated by `go test -run TestConformance -update-doc ./scorer/engine/` from ONNX's backend node\n")
	b.WriteString("tests as packaged in Debian's libonnx-testdata (`" + nodeTestDir + "`); the normal test run\n")
	b.WriteString("fails when this file is out of date. A case belongs to an operator when its directory is\n")
	b.WriteString("`test_<op>` or `test_<op>_*`; every such case whose graph uses the operator is run and compared\n")
	b.WriteString("element by element (1e-4 absolute, or 1e-4 relative). Cases listed as not claimed must fail\n")
	b.WriteString("with an error (never a wrong answer); cases of other operators that share the name are listed\n")
	b.WriteString("for completeness.\n\n")
	b.WriteString("| operator | passed | cases passed | not claimed (reason) | other operators sharing the name |\n")
	b.WriteString("|---|---|---|---|---|\n")
	for _, op := range ops {
		var passed, excluded, other []string
		n := 0
		for _, r := range results[op] {
			switch {
			case !containsString(r.ops, op):
				other = append(other, fmt.Sprintf("%s (%s)", r.name, strings.Join(uniq(r.ops), ", ")))
			case r.passed:
				passed = append(passed, r.name)
				n++
			default:
				n++
				excluded = append(excluded, fmt.Sprintf("%s (%s)", r.name, notClaimed[r.name]))
			}
		}
		fmt.Fprintf(&b, "| %s | %d/%d | %s | %s | %s |\n", op, len(passed), n,
			strings.Join(passed, ", "), strings.Join(excluded, "; "), strings.Join(other, "; "))
	}
	return b.Bytes()
}

func uniq(s []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, x := range s {
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
}
