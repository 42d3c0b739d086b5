// Package datasettest builds dataset trees (label folders, manifests, score files) in a test's
// temporary directory, for the tests of the dataset packages and of `spoofsense eval`.
package datasettest

import (
	"os"
	"path/filepath"
	"testing"
)

// WriteFiles creates the files (slash-separated paths relative to dir) with the given contents.
func WriteFiles(t testing.TB, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
