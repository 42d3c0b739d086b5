package kernels

import (
	"fmt"
	"math"
)

// NCHWToNHWC converts the c×h×w tensor src (NCHW, batch 1) to dst, h×w pixels of
// Pad16(c) channels (NHWC), zero-filling the padding channels. dst must hold h·w·Pad16(c)
// floats.
func NCHWToNHWC(dst, src []float32, c, h, w int) {
	cp := Pad16(c)
	if len(src) < c*h*w || len(dst) < h*w*cp {
		panic(fmt.Sprintf("kernels: NCHWToNHWC: src %d, dst %d elements for %d×%d×%d", len(src), len(dst), c, h, w))
	}
	hw := h * w
	for p := 0; p < hw; p++ {
		d := dst[p*cp : p*cp+cp]
		for ch := 0; ch < c; ch++ {
			d[ch] = src[ch*hw+p]
		}
		clear(d[c:])
	}
}

// NHWCToNCHW converts src, h×w pixels of Pad16(c) channels, to the c×h×w NCHW tensor dst,
// dropping the padding channels. dst must hold c·h·w floats.
func NHWCToNCHW(dst, src []float32, c, h, w int) {
	cp := Pad16(c)
	if len(src) < h*w*cp || len(dst) < c*h*w {
		panic(fmt.Sprintf("kernels: NHWCToNCHW: src %d, dst %d elements for %d×%d×%d", len(src), len(dst), c, h, w))
	}
	hw := h * w
	for ch := 0; ch < c; ch++ {
		d := dst[ch*hw : ch*hw+hw]
		for p := range d {
			d[p] = src[p*cp+ch]
		}
	}
}

// BatchNorm holds the per-channel parameters of an ONNX BatchNormalization in inference
// mode: y = Scale·(x − Mean)/√(Var + Epsilon) + Bias.
type BatchNorm struct {
	Scale, Bias, Mean, Var []float32
	Epsilon                float32
}

// FoldBatchNorm folds bn, applied to the output of a convolution with cout output channels,
// into that convolution's weights w (output channel first, as in ONNX: cout × anything)
// and bias (nil for none). It returns new slices and leaves its arguments unchanged.
func FoldBatchNorm(w, bias []float32, cout int, bn BatchNorm) (foldedW, foldedBias []float32, err error) {
	if cout < 1 || len(w)%cout != 0 {
		return nil, nil, fmt.Errorf("fold batch norm: %d weights are not %d output channels", len(w), cout)
	}
	for name, v := range map[string][]float32{"scale": bn.Scale, "bias": bn.Bias, "mean": bn.Mean, "var": bn.Var} {
		if len(v) != cout {
			return nil, nil, fmt.Errorf("fold batch norm: %s has %d entries, want %d", name, len(v), cout)
		}
	}
	if bias != nil && len(bias) != cout {
		return nil, nil, fmt.Errorf("fold batch norm: conv bias has %d entries, want %d", len(bias), cout)
	}
	per := len(w) / cout
	foldedW = make([]float32, len(w))
	foldedBias = make([]float32, cout)
	for o := 0; o < cout; o++ {
		s := float64(bn.Scale[o]) / math.Sqrt(float64(bn.Var[o])+float64(bn.Epsilon))
		for i := o * per; i < (o+1)*per; i++ {
			foldedW[i] = float32(float64(w[i]) * s)
		}
		var b float64
		if bias != nil {
			b = float64(bias[o])
		}
		foldedBias[o] = float32((b-float64(bn.Mean[o]))*s + float64(bn.Bias[o]))
	}
	return foldedW, foldedBias, nil
}
