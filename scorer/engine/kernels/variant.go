package kernels

import (
	"fmt"
	"os"
	"strings"
)

// impl names one implementation of the whole kernel set. Every exported kernel runs the
// implementation chosen once, at package initialisation (selected); the unexported
// entry points (gemmWith, convWith, …) take one explicitly, so that the tests and
// benchmarks run every variant this CPU supports in one process.
type impl uint8

const (
	implPortable impl = iota // plain Go, every build and CPU
	implAVX2                 // 256-bit AVX2 + FMA (GOEXPERIMENT=simd, amd64)
	implAVX512               // 512-bit AVX-512 (GOEXPERIMENT=simd, amd64)
	implNEON                 // 128-bit NEON (ASIMD) in Go assembly, every arm64 build
)

// String returns the variant's name, as SPOOFSENSE_KERNELS spells it.
func (v impl) String() string {
	switch v {
	case implPortable:
		return "portable"
	case implAVX2:
		return "avx2"
	case implAVX512:
		return "avx512"
	case implNEON:
		return "neon"
	}
	return fmt.Sprintf("impl(%d)", uint8(v))
}

// allImpls lists every variant, fastest first.
var allImpls = []impl{implAVX512, implAVX2, implNEON, implPortable}

// supportedImpls returns the variants this build can run on this CPU, fastest first.
func supportedImpls() []impl {
	var out []impl
	for _, v := range allImpls {
		if cpuRuns(v) {
			out = append(out, v)
		}
	}
	return out
}

// KernelsEnv is the environment variable that forces a kernel variant: "avx512", "avx2",
// "neon" or "portable" ("" or "auto": the fastest this build and CPU run). It is read once, when the
// package is initialised. GODEBUG=cpu.avx512f=off (or cpu.avx2=off) hides a CPU feature
// from the automatic choice the same way.
const KernelsEnv = "SPOOFSENSE_KERNELS"

// selected is the variant every exported kernel runs, and selectErr why the one asked for
// in KernelsEnv was not taken (nil if none was asked for or it was). Both are set once,
// at initialisation, and never change.
var selected, selectErr = selectImpl(os.Getenv(KernelsEnv))

func init() {
	if selectErr != nil {
		fmt.Fprintf(os.Stderr, "spoofsense: %v\n", selectErr)
	}
}

// selectImpl returns the variant that the value env of KernelsEnv asks for, or the fastest
// supported one with an error when env names no variant or one this build or CPU cannot
// run.
func selectImpl(env string) (impl, error) {
	best := supportedImpls()[0]
	want := strings.ToLower(strings.TrimSpace(env))
	if want == "" || want == "auto" {
		return best, nil
	}
	for _, v := range allImpls {
		if v.String() != want {
			continue
		}
		if !cpuRuns(v) {
			return best, fmt.Errorf("%s=%s: %s; using %s", KernelsEnv, env, whyNot(v), best)
		}
		return v, nil
	}
	return best, fmt.Errorf("%s=%s: unknown kernel variant (want avx512, avx2, neon, portable or auto); using %s", KernelsEnv, env, best)
}

// Variant returns the name of the kernel variant this binary runs on this CPU: "avx512",
// "avx2", "neon" or "portable".
func Variant() string { return selected.String() }

// VariantError reports why the variant asked for in the SPOOFSENSE_KERNELS environment
// variable was not taken (an unknown name, or one this build or CPU cannot run), or nil.
// The message was also written to standard error at start-up.
func VariantError() error { return selectErr }

// Accelerated reports whether the kernels run vectorised (AVX-512, AVX2 or NEON) on this CPU.
func Accelerated() bool { return selected != implPortable }
