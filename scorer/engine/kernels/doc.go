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
//   - [Exp](dst, src) and [SoftmaxRows](dst, src, n): e^x (Cephes expf, ≤ 4e-7 relative
//     error) and softmax over rows of n, for a detector's box decoding.
//   - [ResizeBlend](dst, r0, r1, b0, b1, sub, scale): the vertical pass of OpenCV's 8-bit
//     INTER_LINEAR resize fused with a net input's normalisation, for the preprocess
//     package's tensors.
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
// Four variants implement every kernel; one is chosen once, when the package is
// initialised, and [Variant] names it:
//
//   - "avx512": AVX-512 kernels (GOEXPERIMENT=simd builds on amd64, archsimd.X86.AVX512()).
//   - "avx2": AVX2 + FMA kernels for CPUs without AVX-512 (same builds, archsimd.X86.AVX2()
//     and FMA()). Lanes stays 16: each 16-channel group is two 8-wide vectors.
//   - "neon": NEON (ASIMD) kernels in Go assembly, every arm64 build (every arm64 CPU has
//     NEON with FMLA; GOEXPERIMENT does not matter there).
//   - "portable": plain Go, every build and CPU (the only one on amd64 without
//     GOEXPERIMENT=simd and on other architectures); its Gemm (and so the 1×1 and im2col
//     convolutions) hands the row-major weights to gonum's serial Sgemm, 2–4× a plain
//     triple loop.
//
// The fastest one the build and CPU run is taken, unless the SPOOFSENSE_KERNELS
// environment variable ([KernelsEnv]) names another ("avx512", "avx2", "neon", "portable";
// "auto" or empty for the default). GODEBUG=cpu.avx512f=off hides AVX-512 from the
// choice (what an AVX2-only CPU gets), GODEBUG=cpu.avx2=off AVX2. A name that is unknown
// or that this build or CPU cannot run falls back to the default with a message on
// standard error ([VariantError]). The selection never changes afterwards; inside the
// package, each kernel has a *With form (gemmWith, convWith, depthwiseWith, planarWith, expWith…)
// that takes the variant as an argument, so the tests run every variant the machine
// supports in one process and compare each, on odd shapes, tails and all epilogue
// variants, with the plain reference implementations in reference_test.go.
//
// AVX-512: the GEMM micro-kernel is 8 rows × 32 columns in assembly (gemm_avx512_amd64.s:
// 16 accumulators in Z16–Z31, registers the compiler does not allocate, nothing on the
// stack), with 3×32, 1×32, 4×16 and 1×16 tails in archsimd; B is packed in 32-column
// panels, and a 16-column panel (≤16 output channels, or the last 16 of 48, 80…) runs a
// 12×16 assembly tile (avx512Gemm12x16: 12 chains, one B load and 12 embedded-broadcast
// FMAs per k step). When the epilogue is at most a bias and a ReLU, the BR forms of both
// tiles (avx512Gemm8x32BR, avx512Gemm12x16BR) add the bias, clamp and store straight to
// C; other epilogues go through a tile buffer and Go. Kernels written with archsimd that spill ZMM registers run at the speed the
// stack pointer's alignment happens to allow (64-byte spill slots straddling cache
// lines): the 3×32 archsimd tile, once the main one, cost the whole models 7–11% after an
// unrelated frame change upstream, which is why the main tile moved to assembly. MulAdd
// compiles to VFMADD213PS, which overwrites its receiver, so the archsimd kernels make the
// receiver a value used for the last time. The direct and planar convolutions compute 12
// pixels × 16 channels per call in assembly (avx512Conv12x16), 6 in archsimd (8 spill);
// the planar one ends each row with an overlapping tile when there is no residual, and
// the direct one tiles narrow outputs across rows ("virtual rows" of the padded input,
// whose padding pixels are computed and dropped) when that costs less. With a bias/ReLU
// epilogue their row tiles, like the GEMM's, store straight from assembly
// (avx512Conv12x16BR, avx2Conv6x16BR).
//
// AVX2: 16 YMM registers, 15 of them allocatable. Written with archsimd, even a 4×16 GEMM
// tile spilled (the compiler loads each broadcast scalar into a register of its own and
// merges repeated broadcasts), at 78 GFLOP/s; the 6×16 tiles of the GEMM
// (gemm_avx2_amd64.s) and of the direct and planar convolutions (planar_avx2_amd64.s) are
// assembly: 12 accumulators, 2 B (weight) vectors and one broadcast, VFMADD231PS with the
// accumulator as destination, 12 FMAs per 2 loads and 6 broadcasts. Their epilogue runs
// in Go on the tile, so a residual that aliases the output is read before it is
// overwritten, except in avx2Gemm6x16BR, which applies a bias/ReLU epilogue itself and
// stores straight to C. A direct convolution's single pixels (UltraFace's 3×3 heads:
// 2,304 taps) run with eight FMA chains (avx2Conv1x16), narrow outputs as virtual rows.
//
// 3×3 depthwise (both widths): the interior of each row runs 4 output pixels at a time in
// assembly (depthwise_avx2_amd64.s, depthwise_avx512_amd64.s: nine weight registers, four
// accumulators, one column register; stride 1 loads 6 columns per input row for 12 FMAs,
// 2 FMAs per load) when the epilogue is at most a bias and a ReLU; rows with one input
// row in the padding use the two-row forms, and the one-pixel left and right borders are
// computed inline (archsimd). The archsimd 1-pixel loop that remains (PReLU and residual
// epilogues, the tails) keeps the nine weights in registers, 8-channel halves on AVX2.
//
// Each kernel ends with archsimd.ClearAVXUpperBits (VZEROUPPER): the Go code between
// kernel calls uses SSE instructions, which are slow with dirty upper halves. Inside a
// kernel, a call that copies a struct (MOVUPS) stalls the same way: the 3×3 depthwise
// border routine takes its ConvGeom by pointer for that reason (2× on small images).
//
// NEON (simd_arm64.go, *_arm64.s): 32 vector registers of 4 float32, so a 16-channel group
// is four. The GEMM micro-kernel and the direct and planar convolutions are 6×16 tiles
// (neonGemm6x16, neonConv6x16: 24 accumulators, 4 B or weight vectors, broadcasts by LD1R;
// 24 FMLA per 4-register load and 6 broadcasts); the 3×3 depthwise interior runs 8
// channels at a time with the 18 weight vectors in registers (one FMLA per loaded vector),
// border pixels and other windows through a tap-address list (neonTaps). Each kernel
// writes a tile; neonStore applies the epilogue on the way to the output. The Go arm64
// assembler has no mnemonic for the vector FADD, FMAX and FMIN, which neon_arm64.h encodes
// as WORDs. The tests run these kernels under qemu-user (make test-arm64): correctness is
// checked on these amd64 machines, speed is not measured.
//
// # Measured speed
//
// 2026-12-01, "AMD EPYC" (KVM, Zen 4, AVX-512), Go 1.26.8, one core:
// taskset -c 0 go test -run '^$' -bench . -cpu 1 ./scorer/engine/kernels/, on a machine
// shared with other builds (±10%). GFLOP/s counts real MACs × 2. The portable Gemm figures
// are those of its gonum version, measured the same way and day on a quiet moment.
//
//	kernel, shape                               avx512   avx2   portable  (GFLOP/s)
//	Gemm 400×128×128 (m×k×n, MiniFASNet)          267     126     17.6
//	Gemm 1600×64×128                              251     124     12.7
//	Gemm 400×231×64                               271     121     17.4
//	Gemm 1600×32×112                              206      99     9.1
//	Gemm 100×128×512                              254     122     17.8
//	Gemm 4800×16×32 (UltraFace)                   186      99     5.5
//	Gemm 4800×32×64                               220     113     8.1
//	Gemm 4800×64×64                               248     123     11.2
//	Gemm 1200×64×128                              239     123     13.0
//	Depthwise 3×3 C128 20×20 s1                    54      37     1.6
//	Depthwise 3×3 C128 20×20 s2                    38      30     1.7
//	Depthwise 3×3 C64 40×40 s1                     62      45     1.5
//	Depthwise 3×3 C64 40×40 s2                     47      38     1.7
//	Depthwise 3×3 C32 120×160 s1                   75      53     1.4
//	Depthwise 5×5 C512 5×5 (GDC, generic path)     15       7.9   2.3
//	PlanarConv 3×3 s2 3→32 80×80 (MiniFASNet stem) 79      51     2.6
//	PlanarConv 3×3 s2 3→16 240×320 (UltraFace stem) 109    81     2.8
//	Conv 3×3 s1 16→32 120×160 (im2col)            124      85     4.0
//	Conv 3×3 d2 16→16 30×40 (direct)              126     115     3.8
//	Conv 3×3 256→12 4×5 (direct)                   38      53     4.4
package kernels
