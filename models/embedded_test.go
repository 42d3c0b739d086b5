//go:build embedmodels

package models

import (
	"context"
	"testing"
)

// TestEmbeddedModelsVerify runs only in a build with -tags embedmodels (after `make models`): every
// manifest model must be embedded, and the embedded bytes must match the manifest.
func TestEmbeddedModelsVerify(t *testing.T) {
	if !Embedded() {
		t.Fatal("built with -tags embedmodels but Embedded() is false")
	}
	t.Setenv(EnvModels, "")
	t.Setenv("XDG_CACHE_HOME", t.TempDir()) // an empty cache: only the embedded copies can verify
	s, err := Open("")
	if err != nil {
		t.Fatal(err)
	}
	if !s.Embedded() {
		t.Fatal("Open(\"\") does not consult the embedded models")
	}
	sts, err := s.Check(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, st := range sts {
		if !st.Verified() || st.Where != whereEmbedded {
			t.Errorf("%s: where %q, err %v; want verified embedded bytes", st.Model.File, st.Where, st.Err)
		}
	}
	for _, m := range Manifest() {
		b, got, err := s.Load(context.Background(), m.Name)
		if err != nil || got.SHA256 != m.SHA256 || int64(len(b)) != m.Size {
			t.Errorf("Load(%s): %d bytes, err %v", m.Name, len(b), err)
		}
	}
}
