// Package kernels holds the numeric kernels of the inference engine: a float32 GEMM with
// pre-packed weights for 1×1 convolutions, depthwise and dense convolutions, each with a
// fused bias + activation + residual [Epilogue], and the layout helpers around them. It
// knows nothing about graphs: callers pack weights once at load time and pass plain slices.
//
// # Layout contract
//
// Activations are channels-last (NHWC), batch 1: element (y, x, ch) of an h×w tensor with c
// channels is at (y*w+x)*Pad16(c) + ch. The channel count is padded to a multiple of 16
// ([Pad16]) and the padding channels hold zeros; kernels keep them zero as long as the
// epilogue's bias, slope and residual are zero there ([PadChannels] pads a vector).
// Weights come in ONNX layout (OIHW, or C×1×KH×KW for depthwise) and are repacked by
// [PackB], [PackConv] and [PackDepthwise]; BatchNormalization is folded into them with
// [FoldBatchNorm]. [NCHWToNHWC] and [NHWCToNCHW] convert at the graph's edges.
//
// # Functions
//
//   - [Gemm](m, n, k, a, lda, pb, c, ldc, ep): C = act(A·B + bias) + residual, B packed by
//     [PackB]. n is a multiple of 16; k and m are any; lda ≥ k, ldc ≥ n. The 1×1 conv of an
//     NHWC tensor is Gemm(H·W, Pad16(cout), cin, x, Pad16(cin), …).
//   - [Depthwise](x, h, w, dw, y, ep): any window, stride, padding and dilation; 3×3 with
//     stride 1 or 2 has a fast path.
//   - [Conv](x, h, w, cw, y, scratch, ep): dense convolution, any window, stride, padding and
//     dilation; 1×1/stride 1 goes straight to Gemm, the rest through im2col blocks in
//     scratch (cw.ScratchSize(h, w) floats) — or, in the SIMD build with 16 output channels,
//     directly over a zero-padded copy of the input in scratch.
//   - [PlanarConv](x, h, w, pw, y, ep): dense convolution of a planar (NCHW) input with few
//     channels into NHWC, weights packed by [PackPlanarConv]: a network's stem, without
//     converting the image to a padded NHWC tensor first.
//
// [Epilogue.ResidualFirst] adds the residual before the activation (a residual Add followed
// by Relu).
//
// All of them allocate nothing, never write outside their output's elements (columns
// beyond n in Gemm are untouched), accept an epilogue whose Residual is the output itself,
// and panic with a "kernels: …" message on a too-short slice or mismatched shapes (caller
// bugs). Packing functions return errors for bad weights or windows.
//
// # Implementations
//
// Builds with GOEXPERIMENT=simd on amd64 use AVX-512 kernels written with simd/archsimd
// when the CPU has AVX-512 (archsimd.X86.AVX512()); every other build and CPU uses the
// portable Go code, which the tests run in every build and compare, like the SIMD
// kernels, against the plain reference implementations in reference_test.go on odd
// shapes, tails and all epilogue variants. There is no AVX2 kernel yet.
//
// The GEMM micro-kernel is 3 rows × 32 columns (2 vectors), with 1×32, 4×16 and 1×16 tails;
// B is packed in 32-column panels. Three rows rather than four because the SSA scheduler
// hoists all loads and broadcasts of an iteration above the FMAs: with 4 rows the 15
// allocatable vector registers spill. MulAdd compiles to VFMADD213PS, which overwrites its
// receiver, so the kernels make the receiver a value used for the last time (a broadcast
// of A, rebroadcast when it is needed twice) and unroll to halve the register copies of
// the loop-carried accumulators; that took the 3×32 kernel from 75 to 95 GFLOP/s. The
// direct and planar convolutions compute 6 pixels × 16 channels per call (8 spill).
//
// Each kernel ends with archsimd.ClearAVXUpperBits (VZEROUPPER): the Go code between
// kernel calls uses SSE instructions, which are slow with dirty upper halves. Inside a
// kernel, a call that copies a struct (MOVUPS) stalls the same way: the 3×3 depthwise
// border routine takes its ConvGeom by pointer for that reason (2× on small images).
//
// # Measured speed
//
// 2026-11-25, "Intel(R) Xeon(R) Processor" (KVM, AVX-512), Go 1.26.8, one core:
// taskset -c 0 go test -run '^$' -bench . -cpu 1 ./scorer/engine/kernels/, on a machine
// shared with other builds (±10%). GFLOP/s counts real MACs × 2.
//
//	kernel, shape                               simd GFLOP/s   portable GFLOP/s
//	Gemm 400×128×128 (m×k×n, MiniFASNet)           97               3.5
//	Gemm 1600×64×128                               95               3.1
//	Gemm 400×231×64                                99               3.6
//	Gemm 1600×32×112                               82               2.8
//	Gemm 100×128×512                               96               3.3
//	Gemm 4800×16×32 (UltraFace)                    73               2.2
//	Gemm 4800×32×64                                84               2.8
//	Gemm 4800×64×64                                94               3.3
//	Gemm 1200×64×128                               97               3.4
//	Depthwise 3×3 C128 20×20 s1                    40 (0.45 ns/px)  1.2
//	Depthwise 3×3 C128 20×20 s2                    34 (0.53 ns/px)  1.3
//	Depthwise 3×3 C64 40×40 s1                     48 (0.37 ns/px)  1.3
//	Depthwise 3×3 C64 40×40 s2                     39 (0.47 ns/px)  1.3
//	Depthwise 3×3 C32 120×160 s1                   33 (0.55 ns/px)  1.3
//	Depthwise 5×5 C512 5×5 (GDC, generic path)     11               1.7
//	PlanarConv 3×3 s2 3→32 80×80 (MiniFASNet stem) 38
//	PlanarConv 3×3 s2 3→16 240×320 (UltraFace stem) 53
//	Conv 3×3 s1 16→32 120×160 (im2col)             60               3.7
//	Conv 3×3 d2 16→16 30×40 (direct)               65               2.8
//	Conv 3×3 256→12 4×5 (direct)                   24               2.6
//
// ns/px is per output element (pixel × channel).
package kernels
