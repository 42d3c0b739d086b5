package models

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/spoofsense/spoofsense/models/fixtures"
)

// serveShared serves ../shared/models over HTTP on loopback.
func serveShared(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.FileServer(http.Dir(fixtures.Path(t, "models"))))
	t.Cleanup(srv.Close)
	return srv
}

// serveBytes serves body for every path.
func serveBytes(t *testing.T, body []byte) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Write(body)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// dirEntries lists the names in dir, temporary files included.
func dirEntries(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names
}

func TestPull(t *testing.T) {
	m := mustLookup(t, NameMiniFASNetV2)
	good := sharedBytes(t, m)
	wrong := bytes.Repeat([]byte{0x5a}, int(m.Size))
	wrongSum := sha256.Sum256(wrong)

	shared := fixtures.Path(t, "models")
	okServer := serveShared(t)
	wrongServer := serveBytes(t, wrong)
	shortServer := serveBytes(t, good[:1000])
	notFound := httptest.NewServer(http.NotFoundHandler())
	t.Cleanup(notFound.Close)

	tests := []struct {
		name     string
		mirror   string
		existing []byte // file already in the destination; nil for none
		wantErr  error  // nil: success
		wantMsg  []string
		skipped  bool
	}{
		{name: "mirror directory", mirror: shared},
		{name: "mirror URL", mirror: okServer.URL},
		{name: "mirror URL with trailing slash", mirror: okServer.URL + "/"},
		{name: "already verified is skipped", mirror: notFound.URL, existing: good, skipped: true},
		{name: "tampered existing file is replaced", mirror: okServer.URL, existing: wrong},
		{name: "wrong bytes refused", mirror: wrongServer.URL, wantErr: ErrChecksum,
			wantMsg: []string{"sha256 mismatch (want " + m.SHA256 + ", got " + hex.EncodeToString(wrongSum[:]) + ")", "refused, nothing kept", wrongServer.URL + "/MiniFASNetV2.onnx"}},
		{name: "truncated download refused", mirror: shortServer.URL, wantErr: ErrChecksum,
			wantMsg: []string{"wrong size (want 1743561 bytes, got 1000)"}},
		{name: "HTTP 404", mirror: notFound.URL, wantMsg: []string{"404 Not Found"}},
		{name: "mirror directory without the file", mirror: t.TempDir(), wantErr: os.ErrNotExist},
		{name: "unsupported mirror scheme", mirror: "ftp://example.invalid/models", wantMsg: []string{"neither a directory nor an http(s) URL"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "cache", "models") // not there yet: Pull creates it
			if tt.existing != nil {
				if err := os.MkdirAll(dir, 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(dir, m.File), tt.existing, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			var progress bytes.Buffer
			res, err := Pull(context.Background(), dir, m, PullOptions{Mirror: tt.mirror, Progress: &progress})
			if tt.wantErr != nil || tt.wantMsg != nil {
				if err == nil {
					t.Fatal("Pull succeeded, want an error")
				}
				if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
					t.Errorf("error %v, want errors.Is %v", err, tt.wantErr)
				}
				for _, w := range tt.wantMsg {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %q does not contain %q", err, w)
					}
				}
				if got := dirEntries(t, dir); len(got) != 0 {
					t.Errorf("failed pull left %v in %s", got, dir)
				}
				return
			}
			if err != nil {
				t.Fatalf("Pull: %v", err)
			}
			if res.Skipped != tt.skipped || res.Path != filepath.Join(dir, m.File) {
				t.Errorf("result %+v, want skipped=%v", res, tt.skipped)
			}
			if !tt.skipped && (res.Source != Source(m, tt.mirror) || int64(progress.Len()) != m.Size) {
				t.Errorf("source %q, progress saw %d bytes", res.Source, progress.Len())
			}
			b, err := os.ReadFile(res.Path)
			if err != nil || !bytes.Equal(b, good) {
				t.Fatalf("pulled file differs from the shared one (err %v)", err)
			}
			fi, err := os.Stat(res.Path)
			if err != nil || fi.Mode().Perm() != 0o644 {
				t.Errorf("pulled file mode %v (err %v), want 0644", fi.Mode(), err)
			}
			if got := dirEntries(t, dir); len(got) != 1 {
				t.Errorf("directory holds %v, want only %s", got, m.File)
			}
		})
	}
}

func TestPullConcurrent(t *testing.T) {
	srv := serveShared(t)
	dir := t.TempDir()
	const pullers = 6
	var wg sync.WaitGroup
	errs := make([]error, pullers*len(Manifest()))
	for i := range pullers {
		for j, m := range Manifest() {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, errs[i*len(Manifest())+j] = Pull(context.Background(), dir, m, PullOptions{Mirror: srv.URL})
			}()
		}
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	sts, err := s.Check(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, st := range sts {
		if !st.Verified() {
			t.Errorf("%s: %v", st.Model.File, st.Err)
		}
	}
	if got := dirEntries(t, dir); len(got) != len(Manifest()) {
		t.Errorf("directory holds %v, want only the %d model files", got, len(Manifest()))
	}
}

func TestPullCancelled(t *testing.T) {
	m := mustLookup(t, NameMiniFASNetV1SE)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	dir := t.TempDir()
	for _, mirror := range []string{fixtures.Path(t, "models"), serveShared(t).URL} {
		if _, err := Pull(ctx, dir, m, PullOptions{Mirror: mirror}); !errors.Is(err, context.Canceled) {
			t.Errorf("mirror %s: error %v, want context.Canceled", mirror, err)
		}
		if got := dirEntries(t, dir); len(got) != 0 {
			t.Errorf("cancelled pull left %v", got)
		}
	}
}

func TestSource(t *testing.T) {
	m := mustLookup(t, NameUltraFace)
	tests := []struct{ mirror, want string }{
		{"", m.URL},
		{"/srv/models", "/srv/models/version-RFB-320.onnx"},
		{"../shared/models/", "../shared/models/version-RFB-320.onnx"},
		{"https://example.com/m", "https://example.com/m/version-RFB-320.onnx"},
		{"http://127.0.0.1:8080/m/", "http://127.0.0.1:8080/m/version-RFB-320.onnx"},
	}
	for _, tt := range tests {
		if got := Source(m, tt.mirror); got != tt.want {
			t.Errorf("Source(%q) = %q, want %q", tt.mirror, got, tt.want)
		}
	}
}
