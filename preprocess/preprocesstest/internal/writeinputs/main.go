// Command writeinputs writes preprocesstest.Inputs into a directory (go generate runs it for
// testdata/inputs), replacing what is there.
package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/spoofsense/spoofsense/preprocess/preprocesstest"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: writeinputs DIR")
		os.Exit(2)
	}
	dir := os.Args[1]
	if err := os.RemoveAll(dir); err != nil {
		fmt.Fprintln(os.Stderr, "writeinputs:", err)
		os.Exit(1)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		fmt.Fprintln(os.Stderr, "writeinputs:", err)
		os.Exit(1)
	}
	for _, in := range preprocesstest.Inputs() {
		if err := os.WriteFile(filepath.Join(dir, in.Name), in.Data, 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "writeinputs:", err)
			os.Exit(1)
		}
	}
}
