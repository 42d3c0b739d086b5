package modelscmd

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/spoofsense/spoofsense/cmd/cmdutil"
	"github.com/spoofsense/spoofsense/models"
)

// PathOptions are the inputs of `spoofsense models path`.
type PathOptions struct {
	IO *cmdutil.IOStreams
	// ModelsDir is the --models value; "" means $SPOOFSENSE_MODELS, else the user cache.
	ModelsDir string
}

// NewCmdPath builds `spoofsense models path`.
func NewCmdPath(f *cmdutil.Factory, runF func(*PathOptions) error) *cobra.Command {
	opts := &PathOptions{IO: f.IOStreams}
	return &cobra.Command{
		Use:   "path",
		Short: "Print the model directory (where pull writes and models are read from)",
		Args:  cobra.NoArgs,
		RunE: func(_ *cobra.Command, _ []string) error {
			opts.ModelsDir = f.ModelsDir
			if runF != nil {
				return runF(opts)
			}
			return pathRun(opts)
		},
	}
}

// pathRun prints the model directory on stdout. When the binary embeds the models and no
// directory was chosen, a note on stderr says the embedded copies come first.
func pathRun(opts *PathOptions) error {
	dir, err := models.Dir(opts.ModelsDir)
	if err != nil {
		return fail(err)
	}
	fmt.Fprintln(opts.IO.Out, dir)
	if store, err := models.Open(opts.ModelsDir); err == nil && store.Embedded() && opts.IO.StderrTTY {
		fmt.Fprintln(opts.IO.ErrOut, "note: this binary embeds the models; the directory is used only for models it lacks")
	}
	return nil
}
