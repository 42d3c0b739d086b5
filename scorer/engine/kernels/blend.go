package kernels

import "fmt"

// ResizeBlend is the vertical pass of OpenCV's fixed-point INTER_LINEAR resize of 8-bit
// images (imgproc's VResizeLinearVec_32s8u) fused with the normalisation of a net's input:
// for each i of r0,
//
//	v = clamp((((r0[i]>>4)·b0)>>16 + ((r1[i]>>4)·b1)>>16 + 2) >> 2, 0, 255)
//	dst[i] = (v − sub)·scale
//
// where r0 and r1 are two horizontally resized rows (source values times 11-bit weights)
// and b0, b1 their 11-bit vertical weights. It is how the preprocess package turns a
// photo into a tensor without an intermediate image. r1 and dst must be at least as long
// as r0. It allocates nothing.
func ResizeBlend(dst []float32, r0, r1 []int32, b0, b1 int32, sub, scale float32) {
	blendWith(selected, dst, r0, r1, b0, b1, sub, scale)
}

// blendWith is ResizeBlend with kernel variant v, which the CPU must support.
func blendWith(v impl, dst []float32, r0, r1 []int32, b0, b1 int32, sub, scale float32) {
	if len(r1) < len(r0) || len(dst) < len(r0) {
		panic(fmt.Sprintf("kernels: ResizeBlend: rows of %d and %d, dst of %d, want ≥ %d", len(r0), len(r1), len(dst), len(r0)))
	}
	r1, dst = r1[:len(r0)], dst[:len(r0)]
	if blendSIMD(v, dst, r0, r1, b0, b1, sub, scale) {
		return
	}
	for i, a := range r0 {
		p := ((a>>4)*b0)>>16 + ((r1[i]>>4)*b1)>>16
		dst[i] = (float32(min(max((p+2)>>2, 0), 255)) - sub) * scale
	}
}
