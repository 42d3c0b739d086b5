package modelscmd

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/spoofsense/spoofsense/cmd/cmdutil"
	"github.com/spoofsense/spoofsense/models"
)

// PullOptions are the inputs of `spoofsense models pull`.
type PullOptions struct {
	IO *cmdutil.IOStreams
	// ModelsDir is the --models value: where the files go ("" means $SPOOFSENSE_MODELS, else
	// the user cache; never the binary).
	ModelsDir string
	// Mirror is a directory or http(s) URL base to fetch from instead of the upstream URLs;
	// "" means $SPOOFSENSE_MODEL_MIRROR, else upstream.
	Mirror string
	// Names restricts the pull to these models (short or file names); empty means all.
	Names []string
	// Timeout bounds each download.
	Timeout time.Duration
}

// NewCmdPull builds `spoofsense models pull`.
func NewCmdPull(f *cmdutil.Factory, runF func(*PullOptions) error) *cobra.Command {
	opts := &PullOptions{IO: f.IOStreams}
	cmd := &cobra.Command{
		Use:   "pull [<name>...]",
		Short: "Download the models into the model directory and verify them",
		Long: `Download each model (or the named ones) into the model directory, check its size and
sha256 against the manifest and only then move it into place. Files already there and verified
are skipped. Bytes that do not match are deleted and the command fails naming both digests.`,
		Example: `  spoofsense models pull
  spoofsense models pull --mirror /srv/models
  spoofsense models pull --mirror https://models.example.com/spoofsense MiniFASNetV2`,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.ModelsDir = f.ModelsDir
			opts.Names = args
			for _, n := range args {
				if _, ok := models.Lookup(n); !ok {
					return cmdutil.UsageError("unknown model %q (known: %s)", n, knownNames())
				}
			}
			if opts.Timeout <= 0 {
				return cmdutil.UsageError("--timeout must be positive, got %s", opts.Timeout)
			}
			if opts.Mirror == "" {
				opts.Mirror = os.Getenv(models.EnvMirror)
			}
			if runF != nil {
				return runF(opts)
			}
			return pullRun(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVar(&opts.Mirror, "mirror", "",
		"directory or http(s) URL base to fetch the files from (default $"+models.EnvMirror+", else upstream)")
	cmd.Flags().DurationVar(&opts.Timeout, "timeout", models.DefaultTimeout, "time limit for each download")
	return cmd
}

// pullRun pulls the selected models one after another, reporting each on stderr.
func pullRun(ctx context.Context, opts *PullOptions) error {
	dir, err := models.Dir(opts.ModelsDir)
	if err != nil {
		return fail(err)
	}
	selected := models.Manifest()
	if len(opts.Names) > 0 {
		selected = selected[:0]
		for _, n := range opts.Names {
			m, ok := models.Lookup(n)
			if !ok {
				return cmdutil.UsageError("unknown model %q (known: %s)", n, knownNames())
			}
			selected = append(selected, m)
		}
	}
	client := &http.Client{Timeout: opts.Timeout}
	for _, m := range selected {
		var bar *progressbar.ProgressBar
		var progress io.Writer
		if opts.IO.StderrTTY {
			bar = progressbar.NewOptions64(m.Size,
				progressbar.OptionSetWriter(opts.IO.ErrOut),
				progressbar.OptionSetDescription(m.File),
				progressbar.OptionShowBytes(true),
				progressbar.OptionClearOnFinish(),
				progressbar.OptionThrottle(100*time.Millisecond),
			)
			progress = bar
		}
		res, err := models.Pull(ctx, dir, m, models.PullOptions{Mirror: opts.Mirror, Client: client, Progress: progress})
		if bar != nil {
			bar.Clear()
		}
		if err != nil {
			return fail(err)
		}
		if res.Skipped {
			fmt.Fprintf(opts.IO.ErrOut, "%s: already verified in %s\n", m.File, dir)
		} else {
			fmt.Fprintf(opts.IO.ErrOut, "%s: pulled from %s and verified (sha256 %s…)\n", m.File, res.Source, m.SHA256[:12])
		}
	}
	return nil
}

// knownNames lists the manifest's short names for usage errors.
func knownNames() string {
	var names []string
	for _, m := range models.Manifest() {
		names = append(names, m.Name)
	}
	return strings.Join(names, ", ")
}
