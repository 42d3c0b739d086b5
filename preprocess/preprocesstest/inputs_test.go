package preprocesstest

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// The files in testdata/inputs are exactly what Inputs makes: none is missing, stale or extra.
func TestInputsCommitted(t *testing.T) {
	dir := filepath.Join("..", "..", filepath.FromSlash(InputsDir))
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatalf("%v (run: go generate ./preprocess/preprocesstest)", err)
	}
	var onDisk []string
	for _, e := range entries {
		onDisk = append(onDisk, e.Name())
	}
	var names []string
	for _, in := range Inputs() {
		names = append(names, in.Name)
		got, err := os.ReadFile(filepath.Join(dir, in.Name))
		if err != nil {
			t.Errorf("%v (run: go generate ./preprocess/preprocesstest)", err)
			continue
		}
		if !bytes.Equal(got, in.Data) {
			t.Errorf("%s: %d bytes on disk differ from the %d Inputs makes (run: go generate ./preprocess/preprocesstest)", in.Name, len(got), len(in.Data))
		}
		if (in.Verdict == "") == (in.Error == "") {
			t.Errorf("%s: want exactly one of a verdict (%q) and an error (%q)", in.Name, in.Verdict, in.Error)
		}
	}
	if !slices.Equal(onDisk, names) {
		t.Errorf("%s holds %q, Inputs makes %q", InputsDir, onDisk, names)
	}
	// Inputs is deterministic: a second call makes the same bytes.
	again := Inputs()
	for i, in := range Inputs() {
		if !bytes.Equal(in.Data, again[i].Data) {
			t.Errorf("%s: differs between two calls", in.Name)
		}
	}
}
