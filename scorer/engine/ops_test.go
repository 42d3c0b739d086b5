package engine

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

func randFloats(r *rand.Rand, n int) []float32 {
	out := make([]float32, n)
	for i := range out {
		out[i] = r.Float32()*2 - 1
	}
	return out
}

func maxAbsDiff(a, b []float32) float64 {
	if len(a) != len(b) {
		return math.Inf(1)
	}
	d := 0.0
	for i := range a {
		d = max(d, math.Abs(float64(a[i]-b[i])))
	}
	return d
}

// naiveConv is the textbook grouped 2-D convolution with bias and activation.
func naiveConv(g *convGeom, x, w, bias []float32, act activation, slope []float32) []float32 {
	out := make([]float32, g.n*g.m*g.oh*g.ow)
	cg, mg := g.c/g.group, g.m/g.group
	for n := 0; n < g.n; n++ {
		for m := 0; m < g.m; m++ {
			gr := m / mg
			for oy := 0; oy < g.oh; oy++ {
				for ox := 0; ox < g.ow; ox++ {
					var s float64
					for c := 0; c < cg; c++ {
						for ky := 0; ky < g.kh; ky++ {
							for kx := 0; kx < g.kw; kx++ {
								iy, ix := oy*g.sh-g.pt+ky*g.dh, ox*g.sw-g.pl+kx*g.dw
								if iy < 0 || iy >= g.h || ix < 0 || ix >= g.w {
									continue
								}
								s += float64(x[((n*g.c+gr*cg+c)*g.h+iy)*g.w+ix]) * float64(w[((m*cg+c)*g.kh+ky)*g.kw+kx])
							}
						}
					}
					if bias != nil {
						s += float64(bias[m])
					}
					if act == actRelu && s < 0 {
						s = 0
					}
					if act == actPRelu && s < 0 {
						s *= float64(slope[m])
					}
					out[((n*g.m+m)*g.oh+oy)*g.ow+ox] = float32(s)
				}
			}
		}
	}
	return out
}

// TestConvKernels checks the NCHW reference convolutions (conv_reference_test.go) and the
// production one (nchwConv on the kernels) against the textbook loop.
func TestConvKernels(t *testing.T) {
	tests := []struct {
		name                  string
		n, c, h, w, m, kh, kw int
		sh, sw, dh, dw        int
		pt, pl, pb, pr, group int
		act                   activation
	}{
		{"depthwise3x3 s1 p1", 1, 13, 20, 20, 13, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 13, actPRelu},
		{"depthwise3x3 s2 p1", 2, 8, 9, 11, 8, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 8, actRelu},
		{"depthwise5x5 dilated", 1, 4, 12, 10, 4, 5, 5, 1, 2, 2, 1, 2, 1, 3, 0, 4, actNone},
		{"pointwise", 2, 26, 7, 9, 19, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, actPRelu},
		{"pointwise grouped", 1, 12, 5, 5, 6, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 3, actNone},
		{"3x3 s2 first layer", 1, 3, 17, 16, 16, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1, actPRelu},
		{"general grouped asymmetric", 2, 6, 8, 7, 4, 2, 3, 1, 2, 1, 1, 0, 1, 1, 2, 2, actRelu},
		{"large gemm tiles", 1, 70, 15, 15, 130, 1, 3, 1, 1, 1, 1, 0, 1, 0, 1, 1, actNone},
	}
	r := rand.New(rand.NewPCG(1, 2))
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := convGeom{n: tt.n, c: tt.c, h: tt.h, w: tt.w, m: tt.m, kh: tt.kh, kw: tt.kw, sh: tt.sh, sw: tt.sw,
				dh: tt.dh, dw: tt.dw, pt: tt.pt, pl: tt.pl, pb: tt.pb, pr: tt.pr, group: tt.group}
			g.oh = (g.h+g.pt+g.pb-(g.dh*(g.kh-1)+1))/g.sh + 1
			g.ow = (g.w+g.pl+g.pr-(g.dw*(g.kw-1)+1))/g.sw + 1
			x := randFloats(r, g.n*g.c*g.h*g.w)
			w := randFloats(r, g.m*(g.c/g.group)*g.kh*g.kw)
			bias := randFloats(r, g.m)
			slope := randFloats(r, g.m)
			want := naiveConv(&g, x, w, bias, tt.act, slope)
			got := make([]float32, len(want))
			cg := g.c / g.group
			switch {
			case cg == 1 && g.m == g.c:
				newDepthwisePlan(&g).run(&g, x, w, bias, tt.act, slope, got)
			case g.kh == 1 && g.kw == 1 && g.sh == 1 && g.sw == 1 && g.pt+g.pl+g.pb+g.pr == 0:
				convPointwiseRun(&g, x, w, bias, tt.act, slope, got)
			default:
				convGeneralRun(&g, x, w, bias, tt.act, slope, got, make([]float32, cg*g.kh*g.kw*g.oh*g.ow))
			}
			// The general kernel must agree on every shape too.
			gen := make([]float32, len(want))
			convGeneralRun(&g, x, w, bias, tt.act, slope, gen, make([]float32, cg*g.kh*g.kw*g.oh*g.ow))
			if d := maxAbsDiff(got, want); d > 1e-4 {
				t.Errorf("fast kernel: max difference %g", d)
			}
			if d := maxAbsDiff(gen, want); d > 1e-4 {
				t.Errorf("general kernel: max difference %g", d)
			}
			// The production convolution: the channels-last kernels between NCHW values,
			// grouped ones split per group.
			nc, err := newNCHWConv(g, w, bias, &convFusion{act: tt.act, slope: slope})
			if err != nil {
				t.Fatal(err)
			}
			prod := make([]float32, len(want))
			nc.run(x, prod, make([]float32, nc.scratch))
			if d := maxAbsDiff(prod, want); d > 1e-4 {
				t.Errorf("kernels (nchwConv, %d parts): max difference %g", len(nc.parts), d)
			}
		})
	}
}

func TestGemm(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, tt := range []struct {
		m, n, k     int
		ta, tb      bool
		alpha, beta float32
	}{
		{3, 4, 5, false, false, 1, 0},
		{70, 200, 33, false, false, 1, 0},
		{65, 193, 17, true, false, 0.5, 1},
		{64, 400, 128, false, true, 1, 0.25},
		{130, 5, 7, true, true, -2, 1},
	} {
		t.Run(fmt.Sprintf("%dx%dx%d_%v_%v", tt.m, tt.n, tt.k, tt.ta, tt.tb), func(t *testing.T) {
			a, b, c := randFloats(r, tt.m*tt.k), randFloats(r, tt.k*tt.n), randFloats(r, tt.m*tt.n)
			lda, ldb := tt.k, tt.n
			if tt.ta {
				lda = tt.m
			}
			if tt.tb {
				ldb = tt.k
			}
			want := make([]float32, len(c))
			for i := 0; i < tt.m; i++ {
				for j := 0; j < tt.n; j++ {
					var s float64
					for l := 0; l < tt.k; l++ {
						av, bv := a[i*tt.k+l], b[l*tt.n+j]
						if tt.ta {
							av = a[l*tt.m+i]
						}
						if tt.tb {
							bv = b[j*tt.k+l]
						}
						s += float64(av) * float64(bv)
					}
					want[i*tt.n+j] = float32(float64(tt.alpha)*s + float64(tt.beta)*float64(c[i*tt.n+j]))
				}
			}
			gemm(tt.ta, tt.tb, tt.m, tt.n, tt.k, tt.alpha, a, lda, b, ldb, tt.beta, c, tt.n)
			if d := maxAbsDiff(c, want); d > 1e-4 {
				t.Errorf("max difference %g", d)
			}
		})
	}
}

func TestBroadcastBinary(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for _, tt := range []struct{ a, b []int }{
		{[]int{1, 8, 5, 5}, []int{8, 1, 1}},
		{[]int{2, 3, 4}, []int{4}},
		{[]int{2, 1, 4}, []int{3, 1}},
		{[]int{5}, nil},
		{nil, []int{2, 2}},
		{[]int{1, 4420, 2}, []int{1, 4420, 2}},
		{[]int{3, 1, 2, 1}, []int{1, 4, 1, 5}},
	} {
		for _, op := range []binOp{binAdd, binSub, binMul, binDiv, binPRelu} {
			shape, err := broadcastShape(tt.a, tt.b)
			if err != nil {
				t.Fatal(err)
			}
			a, b := randFloats(r, numel(tt.a)), randFloats(r, numel(tt.b))
			bc := newBroadcast(tt.a, tt.b, shape)
			got := make([]float32, numel(shape))
			applyBinary(&bc, op, a, b, got)
			// Naive: map every output index to its operands.
			st := rowStrides(shape)
			for o := range got {
				ia, ib := 0, 0
				sa, sb := 1, 1
				for d := len(shape) - 1; d >= 0; d-- {
					x := o / st[d] % shape[d]
					if k := d - (len(shape) - len(tt.a)); k >= 0 {
						if tt.a[k] != 1 {
							ia += x * sa
						}
						sa *= tt.a[k]
					}
					if k := d - (len(shape) - len(tt.b)); k >= 0 {
						if tt.b[k] != 1 {
							ib += x * sb
						}
						sb *= tt.b[k]
					}
				}
				x, y := a[ia], b[ib]
				want := map[binOp]float32{binAdd: x + y, binSub: x - y, binMul: x * y, binDiv: x / y, binPRelu: x}[op]
				if op == binPRelu && x < 0 {
					want = x * y
				}
				if got[o] != want {
					t.Fatalf("%v op %d %v: element %d = %v, want %v", tt.a, op, tt.b, o, got[o], want)
				}
			}
		}
	}
}

func TestFoldBatchNorm(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	g := convGeom{n: 1, c: 4, h: 6, w: 6, m: 5, kh: 3, kw: 3, sh: 1, sw: 1, dh: 1, dw: 1, pt: 1, pl: 1, pb: 1, pr: 1, group: 1, oh: 6, ow: 6}
	mk := func(shape []int, lo float32) *tensorData {
		t := newTensorData(dtFloat32, shape)
		for i := range t.f {
			t.f[i] = lo + r.Float32()
		}
		return t
	}
	w, b := mk([]int{5, 4, 3, 3}, -0.5), mk([]int{5}, -0.5)
	scale, shift, mean, variance := mk([]int{5}, 0.5), mk([]int{5}, -0.5), mk([]int{5}, -0.5), mk([]int{5}, 0.1)
	x := randFloats(r, 4*36)
	conv := naiveConv(&g, x, w.f, b.f, actNone, nil)
	want := make([]float32, len(conv))
	for m := 0; m < 5; m++ {
		s := scale.f[m] / float32(math.Sqrt(float64(variance.f[m]+1e-3)))
		for i := 0; i < 36; i++ {
			want[m*36+i] = (conv[m*36+i]-mean.f[m])*s + shift.f[m]
		}
	}
	nw, nb, err := foldBatchNorm(w, b, scale, shift, mean, variance, 1e-3)
	if err != nil {
		t.Fatal(err)
	}
	got := naiveConv(&g, x, nw.f, nb.f, actNone, nil)
	if d := maxAbsDiff(got, want); d > 1e-4 {
		t.Errorf("max difference %g", d)
	}
}

func benchConv(b *testing.B, g convGeom) {
	g.oh = (g.h+g.pt+g.pb-(g.dh*(g.kh-1)+1))/g.sh + 1
	g.ow = (g.w+g.pl+g.pr-(g.dw*(g.kw-1)+1))/g.sw + 1
	r := rand.New(rand.NewPCG(9, 10))
	cg := g.c / g.group
	x, w, bias, slope := randFloats(r, g.n*g.c*g.h*g.w), randFloats(r, g.m*cg*g.kh*g.kw), randFloats(r, g.m), randFloats(r, g.m)
	out := make([]float32, g.n*g.m*g.oh*g.ow)
	scratch := make([]float32, cg*g.kh*g.kw*g.oh*g.ow)
	dw := newDepthwisePlan(&g)
	b.ReportAllocs()
	b.SetBytes(int64(4 * len(out)))
	for b.Loop() {
		switch {
		case cg == 1 && g.m == g.c:
			dw.run(&g, x, w, bias, actPRelu, slope, out)
		case g.kh == 1 && g.kw == 1:
			convPointwiseRun(&g, x, w, bias, actPRelu, slope, out)
		default:
			convGeneralRun(&g, x, w, bias, actPRelu, slope, out, scratch)
		}
	}
}

func BenchmarkConvPointwise128x128x20x20(b *testing.B) {
	benchConv(b, convGeom{n: 1, c: 128, h: 20, w: 20, m: 128, kh: 1, kw: 1, sh: 1, sw: 1, dh: 1, dw: 1, group: 1})
}

func BenchmarkConvDepthwise3x3C128x20x20(b *testing.B) {
	benchConv(b, convGeom{n: 1, c: 128, h: 20, w: 20, m: 128, kh: 3, kw: 3, sh: 1, sw: 1, dh: 1, dw: 1, pt: 1, pl: 1, pb: 1, pr: 1, group: 128})
}

func BenchmarkConv3x3C16x120x160(b *testing.B) {
	benchConv(b, convGeom{n: 1, c: 16, h: 120, w: 160, m: 32, kh: 3, kw: 3, sh: 1, sw: 1, dh: 1, dw: 1, pt: 1, pl: 1, pb: 1, pr: 1, group: 1})
}

// A Conv with no output channels plans and runs to an empty output, in every layout, instead of
// dividing by zero while packing its (empty) weights.
func TestConvEmptyOutput(t *testing.T) {
	g := &graphIR{
		values:  []string{"x", "w", "y"},
		consts:  map[int]*tensorData{1: newTensorData(dtFloat32, []int{0, 3, 3, 3})},
		nodes:   []*nodeIR{{op: "Conv", name: "y", in: []int{0, 1}, out: []int{2}}},
		inputs:  []int{0},
		outputs: []int{2},
		opset:   13,
	}
	for _, lay := range layouts {
		t.Run(lay.name, func(t *testing.T) {
			p, err := buildPlan(g, map[int]planValue{0: {dt: dtFloat32, shape: []int{1, 3, 8, 8}}}, "t", lay.opts)
			if err != nil {
				t.Fatal(err)
			}
			m := &Model{name: "t", g: g, plan: p}
			out, err := m.NewSession().RunFloat32(context.Background(), make([]float32, 3*8*8))
			if err != nil || len(out) != 1 || len(out[0]) != 0 {
				t.Fatalf("RunFloat32 = %d outputs (%v), %v; want one empty output", len(out), out, err)
			}
		})
	}
}
