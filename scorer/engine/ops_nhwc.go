package engine

import (
	"math"

	"github.com/spoofsense/spoofsense/scorer/engine/kernels"
)

// Kernels on NHWC16 values: an [N,C,H,W] value is stored as N images of H·W pixels of
// kernels.Pad16(C) channels, the padding channels zero. Every kernel here keeps them zero.

// toNHWCKernel converts an NCHW [n,c,h,w] value to NHWC16.
func toNHWCKernel(n, c, h, w int) kernelFunc {
	src, dst := c*h*w, h*w*kernels.Pad16(c)
	return func(_ *runCtx, in, out []*tensorData) {
		for b := 0; b < n; b++ {
			kernels.NCHWToNHWC(out[0].f[b*dst:(b+1)*dst], in[0].f[b*src:(b+1)*src], c, h, w)
		}
	}
}

// toNCHWKernel converts an NHWC16 [n,c,h,w] value to NCHW.
func toNCHWKernel(n, c, h, w int) kernelFunc {
	src, dst := h*w*kernels.Pad16(c), c*h*w
	return func(_ *runCtx, in, out []*tensorData) {
		for b := 0; b < n; b++ {
			kernels.NHWCToNCHW(out[0].f[b*dst:(b+1)*dst], in[0].f[b*src:(b+1)*src], c, h, w)
		}
	}
}

// nhwcAdd adds two NHWC16 values of the same shape.
func nhwcAdd(_ *runCtx, in, out []*tensorData) {
	a, b, o := in[0].f, in[1].f, out[0].f
	b, o = b[:len(a)], o[:len(a)]
	for i, v := range a {
		o[i] = v + b[i]
	}
}

// nhwcMul multiplies two NHWC16 values of the same shape.
func nhwcMul(_ *runCtx, in, out []*tensorData) {
	a, b, o := in[0].f, in[1].f, out[0].f
	b, o = b[:len(a)], o[:len(a)]
	for i, v := range a {
		o[i] = v * b[i]
	}
}

// nhwcRelu is Relu on an NHWC16 value.
func nhwcRelu(_ *runCtx, in, out []*tensorData) {
	x, o := in[0].f, out[0].f
	o = o[:len(x)]
	for i, v := range x {
		o[i] = max(v, 0)
	}
}

// nhwcScaleKernel multiplies an NHWC16 value of shape x by a per-channel [N,C,1,1] value
// (in[1]), as in a squeeze-and-excitation block.
func nhwcScaleKernel(x []int) kernelFunc {
	n, hw, cp := x[0], x[2]*x[3], kernels.Pad16(x[1])
	return func(_ *runCtx, in, out []*tensorData) {
		for b := 0; b < n; b++ {
			s := in[1].f[b*cp : (b+1)*cp]
			src := in[0].f[b*hw*cp : (b+1)*hw*cp]
			dst := out[0].f[b*hw*cp : (b+1)*hw*cp]
			for p := 0; p < hw*cp; p += cp {
				xs, os := src[p:p+cp], dst[p:p+cp]
				for j, v := range xs {
					os[j] = v * s[j]
				}
			}
		}
	}
}

// nhwcSigmoidKernel is Sigmoid on an NHWC16 value of shape s; the padding channels stay
// zero.
func nhwcSigmoidKernel(s []int) kernelFunc {
	c, cp, pixels := s[1], kernels.Pad16(s[1]), s[0]*s[2]*s[3]
	return func(_ *runCtx, in, out []*tensorData) {
		for p := 0; p < pixels; p++ {
			xs, os := in[0].f[p*cp:p*cp+c], out[0].f[p*cp:(p+1)*cp]
			for j, v := range xs {
				os[j] = float32(1 / (1 + math.Exp(-float64(v))))
			}
			clear(os[c:])
		}
	}
}

// nhwcGlobalAvgKernel is GlobalAveragePool of an NHWC16 value of shape s into an NHWC16
// [N,C,1,1] value.
func nhwcGlobalAvgKernel(s []int) kernelFunc {
	n, hw, cp := s[0], s[2]*s[3], kernels.Pad16(s[1])
	inv := 1 / float32(hw)
	return func(_ *runCtx, in, out []*tensorData) {
		for b := 0; b < n; b++ {
			o := out[0].f[b*cp : (b+1)*cp]
			clear(o)
			src := in[0].f[b*hw*cp : (b+1)*hw*cp]
			for p := 0; p < hw*cp; p += cp {
				xs := src[p : p+cp]
				for j, v := range xs {
					o[j] += v
				}
			}
			for j := range o {
				o[j] *= inv
			}
		}
	}
}

// nhwcConcatKernel concatenates NHWC16 values along the channel axis into shape s; chans
// are the inputs' channel counts.
func nhwcConcatKernel(s []int, chans []int) kernelFunc {
	pixels, cp := s[0]*s[2]*s[3], kernels.Pad16(s[1])
	return func(_ *runCtx, in, out []*tensorData) {
		o := out[0].f
		for p := 0; p < pixels; p++ {
			dst := o[p*cp : (p+1)*cp]
			off := 0
			for k, c := range chans {
				icp := kernels.Pad16(c)
				copy(dst[off:off+c], in[k].f[p*icp:p*icp+c])
				off += c
			}
			clear(dst[off:])
		}
	}
}
