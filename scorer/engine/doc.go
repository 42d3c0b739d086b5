// Package engine is a pure-Go inference engine for the ONNX models spoofsense ships (the
// UltraFace RFB-320 detector, MiniFASNetV2, MiniFASNetV1SE and MiniFASNetV2SE-128) and for the
// ONNX operators listed by SupportedOps: it owns decoding a model into a graph, planning it
// (folding, fusion, buffers, the channels-last lowering) and running it in a Session; the
// numeric kernels are its kernels sub-package.
//
// Load decodes a model with github.com/owulveryck/onnx-go into the engine's own graph and
// plans it once: shape arithmetic on static shapes is folded to constants,
// BatchNormalization is folded into the preceding convolution, Relu and PRelu are applied in
// the convolution's store, and every intermediate value gets a buffer slot (slots are reused
// once a value's last reader has run). Initializers that are also listed as graph inputs are
// constants.
//
// # Concurrency and ownership
//
// A *Model is immutable after Load and safe for concurrent use. Run state lives in a
// *Session (Model.NewSession): its buffers, scratch memory and output tensors. A Session is
// used by one goroutine at a time and is meant to be reused; for a statically planned model
// (Model.Static) Run and RunFloat32 do not allocate in steady state. The tensors and slices
// they return belong to the session and are overwritten by its next Run.
//
// Models whose input shapes are not all static, or whose shapes depend on input data (integer
// inputs, data-dependent Reshape or Slice), run in dynamic mode: the plan is rebuilt with the
// actual inputs at every Run, which is correct but allocates.
//
// # Errors
//
// An unsupported operator, attribute or data type is reported as a *NodeError naming the
// model, the operator and the node (by its first output's name), wrapping ErrUnsupported.
// A malformed or truncated model file returns an error wrapping ErrMalformed; Load and Run
// never panic.
//
// # Layouts and kernels
//
// Every convolution runs on the kernels of the kernels sub-package (SIMD in a
// GOEXPERIMENT=simd build on a CPU with AVX-512 or AVX2 + FMA, portable Go otherwise;
// kernels.Variant names the variant, SPOOFSENSE_KERNELS forces one): it is the engine's only
// convolution code. A static plan is lowered to run its convolution chains channels-last
// (lowerNHWC): convolutions with constant weights that are dense or depthwise, and the Add,
// Mul (same shape or by a per-channel [N,C,1,1] value), Relu, Sigmoid, GlobalAveragePool and
// channel Concat between them, work on NHWC16 values (channels padded to a multiple of 16)
// with weights packed once at load. A stem convolution reads its few NCHW input channels
// directly (kernels.PlanarConv); a residual Add whose other operand is ready is folded into
// the producing convolution's epilogue, and so is a Relu after it; a value goes back to NCHW
// only where another operator or a graph output reads it. A convolution between NCHW values
// — every one in dynamic mode, a grouped one (one dense part per group) or one whose weights
// the graph computes — converts its input to NHWC16 and its output back around the same
// kernels (nchwConv). The NCHW convolution the engine had before (gonum GEMM, im2col, a
// direct depthwise loop) lives on in conv_reference_test.go as the tests' reference: the
// golden tests run it, the NCHW-valued kernels and the channels-last plan in every build.
// The conformance of every operator against ONNX's backend node tests is recorded in
// CONFORMANCE.md.
//
// LoadOptions.Batch plans a static model for several images per Run.
//
// # Measured speed
//
// CPU milliseconds per Run on one core (`make bench`, which runs benchcmp.sh: the test
// binary's CPU time for 220 runs minus that for 20, over 200, pinned with taskset, beside
// the same for `ort-bench --threads 1`, onnxruntime 1.30, on the same models, in the same
// run; BENCH_COUNT=3), 2026-12-01, "AMD EPYC" (KVM, AVX-512, Zen 5), Go 1.26.8, on the
// final build of issue 16, on a machine shared with other builds (CPU times agree within
// ±8% between runs; wall times do not). The avx2 rows are what a CPU without AVX-512 runs
// (SPOOFSENSE_KERNELS=avx2, or GODEBUG=cpu.avx512f=off: the same within noise); portable
// is the amd64 build without GOEXPERIMENT=simd (`go install`), which runs the same
// channels-last convolutions as the others with the portable Go kernels (1.3–1.65× slower
// than its former NCHW path). arm64 builds run the NEON kernels, whose speed is not
// measured (no arm64 machine here; the tests run them under qemu):
//
//	model               avx512   avx2      portable   onnxruntime   avx512 / avx2 / portable vs ort
//	MiniFASNetV2        0.45 ms  0.83 ms    8.9 ms      1.23 ms      0.37 / 0.67 / 7.3
//	MiniFASNetV1SE      0.49 ms  0.86 ms    8.7 ms      1.17 ms      0.42 / 0.73 / 7.5
//	UltraFace RFB-320   1.18 ms  1.98 ms   25.0 ms      1.23 ms      0.96 / 1.61 / 20.4
//	MiniFASNetV2SE-128  1.17 ms  2.11 ms   20.3 ms      4.91 ms      0.24 / 0.43 / 4.1
//
// The AVX2 GEMM runs at ~125 GFLOP/s, which is one core's peak for 256-bit FMAs here (two
// per cycle × 8 lanes × 2 FLOP at ~3.9 GHz; AVX-512 doubles it to ~250): UltraFace on
// AVX2 is limited by its 66 M MACs of 1×1 convolution and the NCHW box decoding, not by
// the kernels' code.
//
// BenchmarkLayers (profile_test.go) times every plan step. Of UltraFace's run with
// SPOOFSENSE_KERNELS=avx2 (sum of per-step minimums over 3 runs of
// `taskset -c 1 go test -run '^$' -bench Layers -benchtime 300x -cpu 1`, 1.93 ms,
// 2026-12-01) the 1×1 convolutions take 54%, the depthwise ones 16%, the dense 3×3 ones
// 15%, the 3-channel stem 9% and everything else 7% (the box decoding after the heads:
// Softmax, Concat, Exp, Slice… on [1,4420,·] tensors, NCHW, about 0.12 ms, and the RFB
// Concat). The 1×1 convolutions run at 130–140 GFLOP/s there, the 256-bit FMA peak, so
// the AVX2 row cannot reach 1.5× onnxruntime (which runs AVX-512) by kernel code alone.
package engine
