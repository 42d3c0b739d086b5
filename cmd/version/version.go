// Package versioncmd implements `spoofsense version`: what a binary is and what it runs on, so a
// bug report or a speed figure can say which build and which kernels produced it.
package versioncmd

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"

	"github.com/spoofsense/spoofsense/cmd/cmdutil"
	"github.com/spoofsense/spoofsense/models"
	"github.com/spoofsense/spoofsense/scorer"
)

// Info is what `spoofsense version` prints.
type Info struct {
	Version    string // the build's version (git describe)
	Go         string // Go toolchain, e.g. go1.26.8
	Platform   string // GOOS/GOARCH
	Experiment string // GOEXPERIMENT of the build ("" when none)
	Kernels    string // the engine's kernel variant in use: avx512, avx2, neon or portable
	KernelNote string // why the variant differs from the one asked for, if it does
	Embedded   bool   // the binary carries the models
}

// Collect reads the Info of the running binary.
func Collect(version string) Info {
	info := Info{Version: version, Go: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH,
		Kernels: scorer.Kernels(), Embedded: models.Embedded()}
	if err := scorer.KernelsError(); err != nil {
		info.KernelNote = err.Error()
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "GOEXPERIMENT" {
				info.Experiment = s.Value
			}
		}
	}
	return info
}

// NewCmdVersion builds `spoofsense version`.
func NewCmdVersion(f *cmdutil.Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version, the build and the inference kernels this CPU runs",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return write(f.IOStreams, Collect(f.Version))
		},
	}
}

func write(ios *cmdutil.IOStreams, info Info) error {
	exp := info.Experiment
	switch {
	case exp != "":
	case strings.HasSuffix(info.Platform, "/arm64"):
		exp = "none (arm64 needs none: its NEON kernels are Go assembly)"
	default:
		exp = "none (portable kernels only: build with GOEXPERIMENT=simd for the fast ones)"
	}
	models := "not embedded (read from --models, $SPOOFSENSE_MODELS or the cache)"
	if info.Embedded {
		models = "embedded"
	}
	_, err := fmt.Fprintf(ios.Out, "spoofsense %s\ngo         %s %s\nexperiment %s\nkernels    %s (force one with SPOOFSENSE_KERNELS=avx512|avx2|neon|portable)\nmodels     %s\n",
		info.Version, info.Go, info.Platform, exp, info.Kernels, models)
	if err == nil && info.KernelNote != "" {
		_, err = fmt.Fprintf(ios.Out, "note       %s\n", info.KernelNote)
	}
	if err != nil {
		return &cmdutil.ExitError{Code: cmdutil.ExitCannotRun, Err: fmt.Errorf("version: %w", err)}
	}
	return nil
}
