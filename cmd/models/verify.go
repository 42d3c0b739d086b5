package modelscmd

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/spoofsense/spoofsense/cmd/cmdutil"
	"github.com/spoofsense/spoofsense/models"
)

// VerifyOptions are the inputs of `spoofsense models verify`.
type VerifyOptions struct {
	IO *cmdutil.IOStreams
	// ModelsDir is the --models value, resolved as in ListOptions.
	ModelsDir string
}

// NewCmdVerify builds `spoofsense models verify`.
func NewCmdVerify(f *cmdutil.Factory, runF func(*VerifyOptions) error) *cobra.Command {
	opts := &VerifyOptions{IO: f.IOStreams}
	return &cobra.Command{
		Use:   "verify",
		Short: "Check every model file against the manifest; fail naming any bad one",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts.ModelsDir = f.ModelsDir
			if runF != nil {
				return runF(opts)
			}
			return verifyRun(cmd.Context(), opts)
		},
	}
}

// verifyRun prints one line per model on stdout and fails when any does not verify: with that
// model's own error when it is the only one, else with a list of the bad files.
func verifyRun(ctx context.Context, opts *VerifyOptions) error {
	store, err := models.Open(opts.ModelsDir)
	if err != nil {
		return fail(err)
	}
	statuses, err := store.Check(ctx)
	if err != nil {
		return fail(err)
	}
	var bad []models.Status
	for _, st := range statuses {
		if st.Verified() {
			fmt.Fprintf(opts.IO.Out, "ok      %s  %s\n", st.Model.File, st.Where)
			continue
		}
		reason := st.Err
		var fe *models.FileError
		if errors.As(st.Err, &fe) {
			reason = fe.Err
		}
		fmt.Fprintf(opts.IO.Out, "FAILED  %s  %s: %v\n", st.Model.File, st.Where, reason)
		bad = append(bad, st)
	}
	switch len(bad) {
	case 0:
		return nil
	case 1:
		return fail(bad[0].Err)
	}
	var files []string
	var fix string
	for _, st := range bad {
		files = append(files, st.Model.File)
		var fe *models.FileError
		if errors.As(st.Err, &fe) && fix == "" {
			fix = ": " + fe.Fix
		}
	}
	return fail(fmt.Errorf("%d models failed verification: %s%s", len(bad), strings.Join(files, ", "), fix))
}
