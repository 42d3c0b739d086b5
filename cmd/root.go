// Package cmd holds spoofsense's command-line interface: the cobra root command, its global flags
// and version, and one sub-package per verb (cmd/check, cmd/eval, cmd/serve, cmd/models,
// cmd/version), each an options struct plus a run func with its I/O passed in; cmd/cmdutil is
// what they share. Nothing below cmd imports cobra.
package cmd

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/spoofsense/spoofsense/cmd/check"
	"github.com/spoofsense/spoofsense/cmd/cmdutil"
	"github.com/spoofsense/spoofsense/cmd/eval"
	modelscmd "github.com/spoofsense/spoofsense/cmd/models"
	"github.com/spoofsense/spoofsense/cmd/serve"
	versioncmd "github.com/spoofsense/spoofsense/cmd/version"
)

// version is set at build time: -ldflags "-X github.com/spoofsense/spoofsense/cmd.version=…".
var version = "dev"

// NewRootCmd builds the spoofsense command tree over the given factory.
func NewRootCmd(f *cmdutil.Factory) *cobra.Command {
	root := &cobra.Command{
		Use:   "spoofsense",
		Short: "Passive face liveness: tell a live selfie from a photo, screen or mask",
		Long: `spoofsense scores one selfie for presentation attacks (printed photos, replayed
screens, masks) offline, with no movement and no cloud, and returns a probability
that the face is live and a verdict.`,
		Version:       f.Version,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetIn(f.IOStreams.In)
	root.SetOut(f.IOStreams.Out)
	root.SetErr(f.IOStreams.ErrOut)
	root.SetVersionTemplate("spoofsense {{.Version}}\n")
	root.PersistentFlags().StringVar(&f.ModelsDir, "models", "",
		"directory holding the model files (default $SPOOFSENSE_MODELS, else the user cache dir)")
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error {
		return &cmdutil.ExitError{Code: cmdutil.ExitUsage, Err: err}
	})
	root.AddCommand(
		check.NewCmdCheck(f, nil),
		eval.NewCmdEval(f, nil),
		// Each verb adds its constructor here, e.g. modelscmd.NewCmdModels(f, nil).
		modelscmd.NewCmdModels(f, nil),
		serve.NewCmdServe(f, nil),
		versioncmd.NewCmdVersion(f),
	)
	return root
}

// stopSignals end a run the way Ctrl-C does: check and eval print what was scored and exit 130,
// serve stops accepting, drains its in-flight requests and exits 0. SIGHUP is one of them (a
// closed terminal, or an init system's reload that spoofsense does not have): it used to kill
// serve at once, cutting every request in flight.
var stopSignals = []os.Signal{os.Interrupt, syscall.SIGTERM, syscall.SIGHUP}

// Execute runs spoofsense with the process's arguments and streams and returns the exit code.
func Execute() int {
	ios := cmdutil.System()
	f := &cmdutil.Factory{IOStreams: ios, Version: version}
	ctx, stop := signal.NotifyContext(context.Background(), stopSignals...)
	defer stop()
	return Run(ctx, f, os.Args[1:])
}

// Run executes the command tree with args and returns the exit code; errors are printed as one
// line on the factory's error stream. Tests call it with cmdutil.Test streams.
func Run(ctx context.Context, f *cmdutil.Factory, args []string) int {
	root := NewRootCmd(f)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return cmdutil.ExitOK
	}
	code := cmdutil.ExitCode(err)
	var ee *cmdutil.ExitError
	if !errors.As(err, &ee) {
		// cobra's own argument errors (unknown command, wrong arg count) are usage errors.
		code = cmdutil.ExitUsage
		if errors.Is(err, context.Canceled) {
			code = cmdutil.ExitInterrupt
		}
	}
	if msg := err.Error(); (ee == nil || ee.Err != nil) && msg != "" {
		fmt.Fprintf(f.IOStreams.ErrOut, "spoofsense: %s\n", msg)
	}
	return code
}
