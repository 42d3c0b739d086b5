package modelscmd

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/spoofsense/spoofsense/cmd/cmdutil"
	"github.com/spoofsense/spoofsense/models"
)

// LicensesOptions are the inputs of `spoofsense models licenses`.
type LicensesOptions struct {
	IO *cmdutil.IOStreams
}

// NewCmdLicenses builds `spoofsense models licenses`.
func NewCmdLicenses(f *cmdutil.Factory, runF func(*LicensesOptions) error) *cobra.Command {
	opts := &LicensesOptions{IO: f.IOStreams}
	return &cobra.Command{
		Use:   "licenses",
		Short: "Print the licence texts of the shipped models",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if runF != nil {
				return runF(opts)
			}
			return licensesRun(opts)
		},
	}
}

// licensesRun prints each licence text once, headed by the models it covers.
func licensesRun(opts *LicensesOptions) error {
	var order []string
	covers := map[string][]string{}
	for _, m := range models.Manifest() {
		for _, f := range m.LicenseFiles {
			if _, seen := covers[f]; !seen {
				order = append(order, f)
			}
			covers[f] = append(covers[f], m.Name)
		}
	}
	for i, f := range order {
		text, err := models.LicenseText(f)
		if err != nil {
			return fail(err)
		}
		if i > 0 {
			fmt.Fprintln(opts.IO.Out)
		}
		fmt.Fprintf(opts.IO.Out, "==> %s (%v)\n%s", f, covers[f], text)
	}
	return nil
}
