package engine

import (
	"context"
	"math/rand/v2"
	"testing"
)

// TestLowerNHWC checks what the channels-last lowering makes of the shipped models: every
// convolution runs channels-last, the stem reads the NCHW input directly (no conversion
// in), values go back to NCHW only where an NCHW operator reads them, and the residual
// Adds and the Relu after them are fused into the convolutions' epilogues.
func TestLowerNHWC(t *testing.T) {
	tests := []struct {
		model string
		want  map[string]int // steps per operator
	}{
		// The only NCHW reader is Flatten after the 5×5 global depthwise conv.
		{"MiniFASNetV2.onnx", map[string]int{"ToNHWC": 0, "ToNCHW": 1, "Add": 0}},
		// The Adds after the squeeze-and-excitation Muls stay (a Mul is not a conv).
		{"MiniFASNetV1SE.onnx", map[string]int{"ToNHWC": 0, "ToNCHW": 1, "Add": 3, "Mul": 3, "Sigmoid": 3, "GlobalAveragePool": 3}},
		// The eight head convs (scores and boxes at four scales) feed Transpose; the two Adds left are the box decoding's.
		{"version-RFB-320.onnx", map[string]int{"ToNHWC": 0, "ToNCHW": 8, "Add": 2, "Relu": 0}},
	}
	for _, tt := range tests {
		t.Run(tt.model, func(t *testing.T) {
			p := loadModelWith(t, tt.model, LoadOptions{}, planOptions{layout: layoutNHWC}).plan
			got := map[string]int{}
			for _, st := range p.steps {
				got[st.node.op]++
				if st.node.op == "Conv" && !p.values[st.out[0]].nhwc {
					t.Errorf("conv %q runs NCHW", st.node.name)
				}
			}
			for op, n := range tt.want {
				if got[op] != n {
					t.Errorf("%d %s steps, want %d", got[op], op, n)
				}
			}
		})
	}
}

// TestLowerNHWCOps runs a small graph that exercises every channels-last operator —
// a converted (not planar) input, batch 2, channel counts that are not multiples of 16,
// unfused Relu, same-shape and per-channel Mul, GlobalAveragePool, Sigmoid, Add, Concat,
// a strided depthwise conv and a graph output that NHWC operators also read — in every
// layout, and compares the results with the reference's.
func TestLowerNHWCOps(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	names := []string{"x", "w1", "b1", "w2", "wd", "c1", "c2", "r", "m", "g", "s", "sc", "a", "cat", "dw"}
	idx := map[string]int{}
	for k, n := range names {
		idx[n] = k
	}
	cf := func(shape ...int) *tensorData {
		t := newTensorData(dtFloat32, shape)
		copy(t.f, randFloats(rng, len(t.f)))
		return t
	}
	node := func(op string, attrs map[string]interface{}, out string, in ...string) *nodeIR {
		n := &nodeIR{op: op, attrs: attrs, name: out, out: []int{idx[out]}}
		for _, v := range in {
			n.in = append(n.in, idx[v])
		}
		return n
	}
	pad1 := map[string]interface{}{"pads": []int64{1, 1, 1, 1}}
	g := &graphIR{
		values: names,
		consts: map[int]*tensorData{idx["w1"]: cf(20, 5, 3, 3), idx["b1"]: cf(20), idx["w2"]: cf(20, 5, 1, 1), idx["wd"]: cf(40, 1, 3, 3)},
		nodes: []*nodeIR{
			node("Conv", pad1, "c1", "x", "w1", "b1"),
			node("Conv", nil, "c2", "x", "w2"),
			node("Relu", nil, "r", "c1"),
			node("Mul", nil, "m", "r", "c2"),
			node("GlobalAveragePool", nil, "g", "m"),
			node("Sigmoid", nil, "s", "g"),
			node("Mul", nil, "sc", "s", "m"),
			node("Add", nil, "a", "sc", "c1"),
			node("Concat", map[string]interface{}{"axis": int64(1)}, "cat", "a", "c2"),
			node("Conv", map[string]interface{}{"group": int64(40), "strides": []int64{2, 2}, "pads": []int64{1, 1, 1, 1}}, "dw", "cat", "wd"),
		},
		inputs:  []int{idx["x"]},
		outputs: []int{idx["dw"], idx["r"]},
		opset:   13,
	}
	in := randFloats(rng, 2*5*6*7)
	var results [][][]float32
	for _, lay := range layouts {
		p, err := buildPlan(g, map[int]planValue{idx["x"]: {dt: dtFloat32, shape: []int{2, 5, 6, 7}}}, "t", lay.opts)
		if err != nil {
			t.Fatal(err)
		}
		m := &Model{name: "t", g: g, plan: p}
		out, err := m.NewSession().RunFloat32(context.Background(), in)
		if err != nil {
			t.Fatal(err)
		}
		results = append(results, out)
		if lay.opts.layout == layoutNHWC {
			ops := map[string]int{}
			for _, st := range p.steps {
				ops[st.node.op]++
			}
			if ops["ToNHWC"] != 1 || ops["ToNCHW"] != 2 || ops["Relu"] != 1 {
				t.Errorf("NHWC plan has %v, want one ToNHWC, two ToNCHW and an unfused Relu", ops)
			}
		}
	}
	for i, lay := range layouts[1:] {
		for k := range results[0] {
			if err := compareFloats(results[i+1][k], results[0][k]); err != nil {
				t.Errorf("output %d: %s differs from the reference: %v", k, lay.name, err)
			}
		}
	}
}
