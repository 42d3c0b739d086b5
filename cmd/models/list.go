package modelscmd

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/tw"
	"github.com/spf13/cobra"

	"github.com/spoofsense/spoofsense/cmd/cmdutil"
	"github.com/spoofsense/spoofsense/models"
)

// ListOptions are the inputs of `spoofsense models list`.
type ListOptions struct {
	IO *cmdutil.IOStreams
	// ModelsDir is the --models value; "" means $SPOOFSENSE_MODELS, the embedded models, then
	// the user cache.
	ModelsDir string
}

// NewCmdList builds `spoofsense models list`.
func NewCmdList(f *cmdutil.Factory, runF func(*ListOptions) error) *cobra.Command {
	opts := &ListOptions{IO: f.IOStreams}
	return &cobra.Command{
		Use:   "list",
		Short: "Show each model, where it is and whether it verifies",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts.ModelsDir = f.ModelsDir
			if runF != nil {
				return runF(opts)
			}
			return listRun(cmd.Context(), opts)
		},
	}
}

// listRun prints one table row per manifest model and the licences below. Unverified models do
// not make it fail; `models verify` does that.
func listRun(ctx context.Context, opts *ListOptions) error {
	store, err := models.Open(opts.ModelsDir)
	if err != nil {
		return fail(err)
	}
	statuses, err := store.Check(ctx)
	if err != nil {
		return fail(err)
	}
	table := tablewriter.NewTable(opts.IO.Out, tablewriter.WithHeaderAutoFormat(tw.Off))
	table.Header("NAME", "ROLE", "SIZE", "SHA256", "LICENCE", "WHERE", "STATUS")
	licences := map[string][]string{}
	for _, st := range statuses {
		m := st.Model
		licences[m.License] = append(licences[m.License], m.Name)
		if err := table.Append(m.Name, string(m.Role), humanSize(m.Size), m.SHA256[:12]+"…",
			m.License, st.Where, statusWord(st.Err)); err != nil {
			return fail(fmt.Errorf("list: %w", err))
		}
	}
	if err := table.Render(); err != nil {
		return fail(fmt.Errorf("list: %w", err))
	}
	var names []string
	for l := range licences {
		names = append(names, l)
	}
	sort.Strings(names)
	var parts []string
	for _, l := range names {
		parts = append(parts, fmt.Sprintf("%s (%s)", l, strings.Join(licences[l], ", ")))
	}
	fmt.Fprintf(opts.IO.Out, "Licences: %s. A distribution embedding the models must carry their licence texts.\n",
		strings.Join(parts, "; "))
	fmt.Fprintln(opts.IO.Out, "Training data:")
	for _, st := range statuses {
		fmt.Fprintf(opts.IO.Out, "  %s: %s\n", st.Model.Name, st.Model.Training)
	}
	return nil
}

// statusWord sums up a model's verification error in one word.
func statusWord(err error) string {
	switch {
	case err == nil:
		return "verified"
	case errors.Is(err, models.ErrMissing):
		return "missing"
	case errors.Is(err, models.ErrChecksum):
		return "MISMATCH"
	default:
		return "unreadable"
	}
}

// humanSize formats a byte count in binary units, e.g. "1.7 MiB".
func humanSize(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
