package engine

import "fmt"

// fuse rewrites g in place, once at load time: BatchNormalization after a Conv with constant
// weights is folded into the weights and bias, and a Relu or per-channel PRelu after a Conv
// is applied in the convolution's store. Only values with a single reader that are not graph
// outputs are fused away.
func fuse(g *graphIR) error {
	for {
		changed, err := fuseOnce(g)
		if err != nil {
			return err
		}
		if !changed {
			return nil
		}
	}
}

func fuseOnce(g *graphIR) (bool, error) {
	readers := make([]int, len(g.values))
	producer := make([]int, len(g.values))
	for k := range producer {
		producer[k] = -1
	}
	for i, n := range g.nodes {
		for _, v := range n.in {
			if v >= 0 {
				readers[v]++
			}
		}
		for _, v := range n.out {
			producer[v] = i
		}
	}
	for _, v := range g.outputs {
		readers[v] += 2 // never fuse a graph output away
	}
	constF32 := func(k int, n *nodeIR) *tensorData {
		if k >= len(n.in) || n.in[k] < 0 {
			return nil
		}
		t := g.consts[n.in[k]]
		if t == nil || t.dt != dtFloat32 {
			return nil
		}
		return t
	}
	for i, n := range g.nodes {
		if len(n.in) == 0 || n.in[0] < 0 || len(n.out) != 1 {
			continue
		}
		src := n.in[0]
		pi := producer[src]
		if pi < 0 || readers[src] != 1 || g.nodes[pi].op != "Conv" || len(g.nodes[pi].out) != 1 {
			continue
		}
		conv := g.nodes[pi]
		fu := conv.fusion
		if fu == nil {
			fu = &convFusion{}
		}
		switch n.op {
		case "BatchNormalization":
			if fu.act != actNone {
				continue
			}
			w := fu.w
			if w == nil {
				w = constF32(1, conv)
			}
			b := fu.b
			if b == nil && len(conv.in) > 2 && conv.in[2] >= 0 {
				if b = constF32(2, conv); b == nil {
					continue
				}
			}
			scale, shift, mean, variance := constF32(1, n), constF32(2, n), constF32(3, n), constF32(4, n)
			if w == nil || len(w.shape) != 4 || scale == nil || shift == nil || mean == nil || variance == nil {
				continue
			}
			if tm, ok := n.attrs["training_mode"].(int64); ok && tm != 0 {
				continue
			}
			eps := float32(1e-5)
			if e, ok := n.attrs["epsilon"]; ok {
				f, ok := e.(float32)
				if !ok {
					return false, &NodeError{Op: n.op, Node: n.name, Err: fmt.Errorf("attribute epsilon: want a float, got %T", e)}
				}
				eps = f
			}
			nw, nb, err := foldBatchNorm(w, b, scale, shift, mean, variance, eps)
			if err != nil {
				continue // leave it to the unfused kernels, which report the error
			}
			fu.w, fu.b = nw, nb
		case "Relu":
			if fu.act != actNone {
				continue
			}
			fu.act = actRelu
		case "PRelu":
			slope := constF32(1, n)
			w := fu.w
			if w == nil {
				w = constF32(1, conv)
			}
			if fu.act != actNone || slope == nil || w == nil || len(w.shape) != 4 {
				continue
			}
			m := w.shape[0]
			perChannel := len(slope.f) == m && (len(slope.shape) == 3 && slope.shape[1] == 1 && slope.shape[2] == 1 ||
				len(slope.shape) == 4 && slope.shape[0] == 1 && slope.shape[2] == 1 && slope.shape[3] == 1)
			if !perChannel && len(slope.f) != 1 {
				continue
			}
			fu.act = actPRelu
			fu.slope = make([]float32, m)
			for k := range fu.slope {
				fu.slope[k] = slope.f[k%len(slope.f)]
			}
		default:
			continue
		}
		conv.fusion = fu
		conv.out = n.out
		conv.name = n.name
		g.nodes = append(g.nodes[:i], g.nodes[i+1:]...)
		return true, nil
	}
	return false, nil
}
