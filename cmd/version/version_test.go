package versioncmd

import (
	"slices"
	"strings"
	"testing"

	"github.com/spoofsense/spoofsense/cmd/cmdutil"
)

func TestVersion(t *testing.T) {
	info := Collect("v9")
	if !slices.Contains([]string{"avx512", "avx2", "neon", "portable"}, info.Kernels) {
		t.Errorf("kernels %q", info.Kernels)
	}
	tests := []struct {
		info Info
		want []string
	}{
		{Info{Version: "v9", Go: "go1.26.8", Platform: "linux/amd64", Experiment: "simd", Kernels: "avx2", Embedded: true},
			[]string{"spoofsense v9\n", "go         go1.26.8 linux/amd64\n", "experiment simd\n", "kernels    avx2 (", "models     embedded\n"}},
		{Info{Version: "v9", Kernels: "portable", KernelNote: "SPOOFSENSE_KERNELS=avx512: no"},
			[]string{"experiment none (portable kernels only", "kernels    portable", "models     not embedded", "note       SPOOFSENSE_KERNELS=avx512: no\n"}},
		{Info{Version: "v9", Go: "go1.26.8", Platform: "linux/arm64", Kernels: "neon"},
			[]string{"go         go1.26.8 linux/arm64\n", "experiment none (arm64 needs none", "kernels    neon (force one with SPOOFSENSE_KERNELS=avx512|avx2|neon|portable)"}},
	}
	for _, tc := range tests {
		ios, _, out, _ := cmdutil.Test()
		if err := write(ios, tc.info); err != nil {
			t.Fatal(err)
		}
		for _, w := range tc.want {
			if !strings.Contains(out.String(), w) {
				t.Errorf("output lacks %q:\n%s", w, out)
			}
		}
	}
}
