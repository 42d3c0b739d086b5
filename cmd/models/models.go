// Package modelscmd implements `spoofsense models`: list the shipped models and their state,
// pull them (from upstream or a mirror) into the model directory with verification, verify
// them, and print where they live. Each subcommand is an options struct plus a run func that
// takes its I/O from the factory's streams.
package modelscmd

import (
	"github.com/spf13/cobra"

	"github.com/spoofsense/spoofsense/cmd/cmdutil"
)

// RunFuncs replace the subcommands' run funcs in tests, which then see the parsed options
// without running anything. A nil *RunFuncs, or a nil field, runs the real command.
type RunFuncs struct {
	List   func(*ListOptions) error
	Pull   func(*PullOptions) error
	Verify func(*VerifyOptions) error
	Path   func(*PathOptions) error
}

// NewCmdModels builds `spoofsense models` and its subcommands.
func NewCmdModels(f *cmdutil.Factory, runF *RunFuncs) *cobra.Command {
	if runF == nil {
		runF = &RunFuncs{}
	}
	cmd := &cobra.Command{
		Use:   "models <command>",
		Short: "List, pull and verify the model files",
		Long: `spoofsense runs three ONNX models: the UltraFace face detector and two MiniFASNet
anti-spoof nets. Each file is checked against the sha256 in the manifest before use.

Models are looked for in --models DIR, else $SPOOFSENSE_MODELS, else in the binary itself
(builds made with make build embed them), else in the user cache directory.
$SPOOFSENSE_MODEL_MIRROR sets a default --mirror for pull.`,
		// NoArgs plus a RunE make `models nonsense` a usage error instead of silent help.
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.AddCommand(
		NewCmdList(f, runF.List),
		NewCmdPull(f, runF.Pull),
		NewCmdVerify(f, runF.Verify),
		NewCmdPath(f, runF.Path),
		NewCmdLicenses(f, nil),
	)
	return cmd
}

// fail wraps err so that the root reports it and exits with ExitFail (not the usage code).
func fail(err error) error {
	if err == nil {
		return nil
	}
	return &cmdutil.ExitError{Code: cmdutil.ExitFail, Err: err}
}
