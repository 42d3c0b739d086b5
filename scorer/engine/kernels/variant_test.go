package kernels

import (
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

func TestSelectImpl(t *testing.T) {
	best := supportedImpls()[0]
	for _, env := range []string{"", "auto", " AUTO "} {
		if v, err := selectImpl(env); v != best || err != nil {
			t.Errorf("selectImpl(%q) = %v, %v; want %v, nil", env, v, err, best)
		}
	}
	for _, v := range allImpls {
		for _, env := range []string{v.String(), strings.ToUpper(v.String())} {
			got, err := selectImpl(env)
			if cpuRuns(v) {
				if got != v || err != nil {
					t.Errorf("selectImpl(%q) = %v, %v; want %v, nil", env, got, err, v)
				}
				continue
			}
			if got != best || err == nil || !strings.Contains(err.Error(), "using "+best.String()) {
				t.Errorf("selectImpl(%q) on a CPU without it = %v, %v; want %v and an error saying so", env, got, err, best)
			}
		}
	}
	for _, env := range []string{"sse", "avx", "avx2,portable", "sve"} {
		got, err := selectImpl(env)
		if got != best || err == nil || !strings.Contains(err.Error(), "unknown kernel variant") {
			t.Errorf("selectImpl(%q) = %v, %v; want %v and an unknown-variant error", env, got, err, best)
		}
	}
}

func TestVariantIsTheSelection(t *testing.T) {
	if Variant() != selected.String() {
		t.Errorf("Variant() = %q, selected = %v", Variant(), selected)
	}
	if !cpuRuns(selected) {
		t.Errorf("selected variant %v cannot run here", selected)
	}
	if Accelerated() != (selected != implPortable) {
		t.Errorf("Accelerated() = %v with variant %v", Accelerated(), selected)
	}
	env := os.Getenv(KernelsEnv)
	if want, _ := selectImpl(env); selected != want {
		t.Errorf("%s=%q selected %v, want %v", KernelsEnv, env, selected, want)
	}
}

// TestVariantFromEnvironment runs this test binary again under each way of forcing a
// variant and checks what Variant reports there.
func TestVariantFromEnvironment(t *testing.T) {
	if os.Getenv("KERNELS_VARIANT_CHILD") != "" {
		os.Stdout.WriteString("variant=" + Variant() + "\n")
		return
	}
	if testing.Short() {
		t.Skip("starts subprocesses")
	}
	vs := supportedImpls()
	has := func(v impl) bool { return slices.Contains(vs, v) }
	type tc struct {
		env  []string
		want string
	}
	// GODEBUG hides x86 features only: an arm64 build keeps its NEON kernels.
	noX86 := implPortable
	if has(implNEON) {
		noX86 = implNEON
	}
	cases := []tc{
		{[]string{KernelsEnv + "=portable"}, "portable"},
		{[]string{KernelsEnv + "=bogus"}, vs[0].String()},
		{[]string{"GODEBUG=cpu.avx512f=off,cpu.avx2=off", KernelsEnv + "="}, noX86.String()},
	}
	if has(implNEON) {
		cases = append(cases, tc{[]string{KernelsEnv + "=neon"}, "neon"}, tc{[]string{KernelsEnv + "=avx2"}, "neon"})
	}
	if has(implAVX2) {
		cases = append(cases, tc{[]string{KernelsEnv + "=avx2"}, "avx2"}, tc{[]string{KernelsEnv + "=neon"}, vs[0].String()})
	}
	if has(implAVX512) {
		cases = append(cases,
			tc{[]string{"GODEBUG=cpu.avx512f=off", KernelsEnv + "="}, "avx2"},
			tc{[]string{"GODEBUG=cpu.avx512f=off", KernelsEnv + "=avx512"}, "avx2"},
		)
	}
	for _, c := range cases {
		cmd := selfCommand("-test.run=^TestVariantFromEnvironment$")
		cmd.Env = append(append(os.Environ(), "KERNELS_VARIANT_CHILD=1"), c.env...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%v: %v\n%s", c.env, err, out)
		}
		if !strings.Contains(string(out), "variant="+c.want+"\n") {
			t.Errorf("%v: got\n%s\nwant variant=%s", c.env, out, c.want)
		}
		if strings.Contains(strings.Join(c.env, " "), "bogus") && !strings.Contains(string(out), "unknown kernel variant") {
			t.Errorf("%v: no message about the unknown variant in\n%s", c.env, out)
		}
	}
}

// testExecEnv names the environment variable with the emulator that runs this test binary
// when it is not native (qemu-aarch64-static for `make test-arm64`): go test -exec runs the
// binary through it, and the tests that start the binary again need it too.
const testExecEnv = "SPOOFSENSE_TEST_EXEC"

// selfCommand returns the command that runs this test binary again with args, through the
// emulator testExecEnv names, if any.
func selfCommand(args ...string) *exec.Cmd {
	if emu := strings.Fields(os.Getenv(testExecEnv)); len(emu) > 0 {
		return exec.Command(emu[0], append(append(emu[1:], os.Args[0]), args...)...)
	}
	return exec.Command(os.Args[0], args...)
}
