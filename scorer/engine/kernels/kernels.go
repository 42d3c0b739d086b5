package kernels

import "fmt"

// Lanes is the channel granularity of the layout: channel counts are padded to a multiple
// of Lanes (one AVX-512 vector of float32).
const Lanes = 16

// Pad16 rounds n up to a multiple of [Lanes]; it is the stored channel count of a tensor
// with n real channels.
func Pad16(n int) int { return (n + Lanes - 1) &^ (Lanes - 1) }

// PadChannels returns a copy of v zero-padded to Pad16(len(v)) elements, the form that
// [Epilogue] bias and slope vectors take.
func PadChannels(v []float32) []float32 {
	out := make([]float32, Pad16(len(v)))
	copy(out, v)
	return out
}

// Activation selects the activation function applied in an [Epilogue].
type Activation int

// The supported activations.
const (
	ActNone  Activation = iota // identity
	ActReLU                    // max(x, 0)
	ActPReLU                   // x if x > 0, else Slope[c]·x (per output channel)
)

// String returns the ONNX-style name of the activation.
func (a Activation) String() string {
	switch a {
	case ActNone:
		return "None"
	case ActReLU:
		return "Relu"
	case ActPReLU:
		return "PRelu"
	}
	return fmt.Sprintf("Activation(%d)", int(a))
}

// Epilogue is the elementwise work fused into the store of a kernel's output. For output
// element (row r, channel j) the kernel stores
//
//	y = act(acc + Bias[j]) + Residual[r*ld + j]
//
// or, with ResidualFirst, y = act(acc + Bias[j] + Residual[r*ld + j]) (a residual Add
// followed by the activation, as in ResNet-style blocks),
// where ld is the output's row stride (ldc for [Gemm], the padded channel count for the
// convolutions). A nil *Epilogue, a nil Bias and a nil Residual each mean "nothing".
// Bias and Slope must hold at least as many entries as the output has (padded) channels;
// keep the padding entries zero so that padded output channels stay zero. Residual may be
// the output slice itself (an in-place add).
type Epilogue struct {
	Bias     []float32  // per output channel, added before the activation; nil for none
	Act      Activation // activation applied after Bias
	Slope    []float32  // per-channel negative slope; required when Act == ActPReLU
	Residual []float32  // same layout as the output, added after the activation; nil for none
	// ResidualFirst adds Residual before the activation instead of after it.
	ResidualFirst bool
}

// check panics unless the epilogue is usable for an output of n channels whose residual
// must hold at least resLen elements.
func (ep *Epilogue) check(n, resLen int) {
	if ep == nil {
		return
	}
	if ep.Bias != nil && len(ep.Bias) < n {
		panic(fmt.Sprintf("kernels: epilogue bias has %d entries, want ≥ %d", len(ep.Bias), n))
	}
	switch ep.Act {
	case ActNone, ActReLU:
	case ActPReLU:
		if len(ep.Slope) < n {
			panic(fmt.Sprintf("kernels: epilogue PRelu slope has %d entries, want ≥ %d", len(ep.Slope), n))
		}
	default:
		panic(fmt.Sprintf("kernels: unknown activation %v", ep.Act))
	}
	if ep.Residual != nil && len(ep.Residual) < resLen {
		panic(fmt.Sprintf("kernels: epilogue residual has %d elements, want ≥ %d", len(ep.Residual), resLen))
	}
}

// applyRow applies the epilogue to row (length n, channels 0..n-1) whose residual row
// starts at resOff in ep.Residual, in one pass over the row. Bias with no, ReLU or PReLU
// activation and no residual — every convolution of the shipped nets but the fused residual
// ones — has loops of its own, without a test per element for what is absent.
func (ep *Epilogue) applyRow(row []float32, resOff int) {
	if ep == nil {
		return
	}
	n := len(row)
	if ep.Bias != nil && ep.Residual == nil {
		bias := ep.Bias[:n]
		switch ep.Act {
		case ActNone:
			for j := range row {
				row[j] += bias[j]
			}
			return
		case ActReLU:
			for j, v := range row {
				row[j] = max(v+bias[j], 0)
			}
			return
		case ActPReLU:
			slope := ep.Slope[:n]
			for j, v := range row {
				v += bias[j]
				if v < 0 {
					v *= slope[j]
				}
				row[j] = v
			}
			return
		}
	}
	var bias, slope, res []float32
	if ep.Bias != nil {
		bias = ep.Bias[:n]
	}
	if ep.Act == ActPReLU {
		slope = ep.Slope[:n]
	}
	if ep.Residual != nil {
		res = ep.Residual[resOff : resOff+n]
	}
	first := res != nil && ep.ResidualFirst
	after := res != nil && !ep.ResidualFirst
	relu := ep.Act == ActReLU
	for j, v := range row {
		if bias != nil {
			v += bias[j]
		}
		if first {
			v += res[j]
		}
		if v < 0 {
			if relu {
				v = 0
			} else if slope != nil {
				v *= slope[j]
			}
		}
		if after {
			v += res[j]
		}
		row[j] = v
	}
}

// ConvGeom is the window of a 2-D convolution: kernel size, strides, zero padding on each
// side and dilations, as in the ONNX Conv attributes. Zero strides and dilations mean 1.
type ConvGeom struct {
	KH, KW                               int
	StrideH, StrideW                     int
	PadTop, PadLeft, PadBottom, PadRight int
	DilationH, DilationW                 int
}

// norm returns g with zero strides and dilations replaced by 1.
func (g ConvGeom) norm() ConvGeom {
	if g.StrideH == 0 {
		g.StrideH = 1
	}
	if g.StrideW == 0 {
		g.StrideW = 1
	}
	if g.DilationH == 0 {
		g.DilationH = 1
	}
	if g.DilationW == 0 {
		g.DilationW = 1
	}
	return g
}

// validate reports what is wrong with g, or nil.
func (g ConvGeom) validate() error {
	switch {
	case g.KH < 1 || g.KW < 1:
		return fmt.Errorf("kernel %d×%d is empty", g.KH, g.KW)
	case g.StrideH < 0 || g.StrideW < 0 || g.DilationH < 0 || g.DilationW < 0:
		return fmt.Errorf("negative stride or dilation in %+v", g)
	case g.PadTop < 0 || g.PadLeft < 0 || g.PadBottom < 0 || g.PadRight < 0:
		return fmt.Errorf("negative padding in %+v", g)
	}
	return nil
}

// OutSize returns the output height and width of the convolution on an h×w input; either
// is ≤ 0 when the window does not fit.
func (g ConvGeom) OutSize(h, w int) (oh, ow int) {
	g = g.norm()
	nh := h + g.PadTop + g.PadBottom - g.DilationH*(g.KH-1) - 1
	nw := w + g.PadLeft + g.PadRight - g.DilationW*(g.KW-1) - 1
	if nh < 0 || nw < 0 {
		return 0, 0
	}
	return nh/g.StrideH + 1, nw/g.StrideW + 1
}
