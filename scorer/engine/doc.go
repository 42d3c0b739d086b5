// Package engine is a pure-Go inference engine for the ONNX models spoofsense ships
// (MiniFASNetV2, MiniFASNetV1SE and the UltraFace RFB-320 detector) and for the ONNX operators
// listed by SupportedOps.
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
// # Kernels
//
// Convolutions run as GEMM (1×1 directly, others through im2col) on gonum's serial float32
// kernels, tiled so gonum starts no goroutines; depthwise convolutions run as a direct loop.
// The SIMD kernels of the kernels sub-package are not wired in yet. The conformance of every operator
// against ONNX's backend node tests is recorded in CONFORMANCE.md.
package engine
