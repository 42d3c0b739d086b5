package models

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/spoofsense/spoofsense/models/fixtures"
)

// sharedBytes reads a shipped model file from ../shared/models.
func sharedBytes(t *testing.T, m Model) []byte {
	t.Helper()
	b, err := os.ReadFile(fixtures.Path(t, "models", m.File))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mustLookup(t *testing.T, name string) Model {
	t.Helper()
	m, ok := Lookup(name)
	if !ok {
		t.Fatalf("Lookup(%q) found nothing", name)
	}
	return m
}

func TestManifestMatchesSharedFiles(t *testing.T) {
	for _, m := range Manifest() {
		t.Run(m.Name, func(t *testing.T) {
			if err := m.Verify(sharedBytes(t, m)); err != nil {
				t.Errorf("shared %s does not verify: %v", m.File, err)
			}
		})
	}
}

func TestManifestFacts(t *testing.T) {
	tests := []struct {
		name      string
		role      Role
		file      string
		w, h      int
		color     ColorOrder
		mean, std float32
		scale     float64
		license   string
	}{
		{NameUltraFace, RoleDetector, "version-RFB-320.onnx", 320, 240, RGB, 127, 128, 0, "MIT"},
		{NameMiniFASNetV2, RoleAntiSpoof, "MiniFASNetV2.onnx", 80, 80, BGR, 0, 1, 2.7, "Apache-2.0"},
		{NameMiniFASNetV1SE, RoleAntiSpoof, "MiniFASNetV1SE.onnx", 80, 80, BGR, 0, 1, 4.0, "Apache-2.0"},
		{NameMiniFASNetV2SE, RoleAntiSpoof, "MiniFASNetV2SE-128.onnx", 128, 128, RGB, 0, 255, 1.5, "Apache-2.0"},
	}
	if got := len(Manifest()); got != len(tests) {
		t.Fatalf("manifest has %d models, want %d", got, len(tests))
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := mustLookup(t, tt.name)
			in := m.Input
			if m.Role != tt.role || m.File != tt.file || in.Width != tt.w || in.Height != tt.h ||
				in.Color != tt.color || in.Mean != tt.mean || in.Std != tt.std || m.CropScale != tt.scale ||
				m.License != tt.license {
				t.Errorf("got %+v", m)
			}
			if len(m.SHA256) != 64 || m.Size <= 0 || !strings.HasPrefix(m.URL, "https://") || len(m.LicenseFiles) == 0 || m.Training == "" {
				t.Errorf("incomplete entry %+v", m)
			}
			for _, f := range m.LicenseFiles {
				if _, err := LicenseText(f); err != nil {
					t.Errorf("%s: %v", m.Name, err)
				}
			}
		})
	}
}

// TestAntiSpoofContracts pins how each net is fed and read: a wrong crop rule, class count or
// live index scores every face with the wrong probability.
func TestAntiSpoofContracts(t *testing.T) {
	want := map[string]struct {
		crop          CropRule
		classes, live int
	}{
		NameMiniFASNetV2:   {CropShifted, 3, 1},
		NameMiniFASNetV1SE: {CropShifted, 3, 1},
		NameMiniFASNetV2SE: {CropSquareReflect, 2, 0},
	}
	names := AntiSpoofNames()
	if strings.Join(names, ",") != "MiniFASNetV2,MiniFASNetV1SE,MiniFASNetV2SE-128" {
		t.Fatalf("AntiSpoofNames() = %v", names)
	}
	for _, n := range names {
		m := mustLookup(t, n)
		w := want[n]
		if m.Crop != w.crop || m.Output.Classes != w.classes || m.Output.LiveIndex != w.live {
			t.Errorf("%s: crop %s, %d classes, live %d; want %s, %d, %d", n, m.Crop, m.Output.Classes, m.Output.LiveIndex, w.crop, w.classes, w.live)
		}
	}
	if m := mustLookup(t, NameMiniFASNetV2SE); !strings.Contains(m.Training, "CelebA-Spoof") || !strings.Contains(m.Training, "non-commercial") {
		t.Errorf("%s training note %q must name CelebA-Spoof and its non-commercial licence", m.Name, m.Training)
	}
}

func TestLookup(t *testing.T) {
	tests := []struct {
		query    string
		wantName string
	}{
		{"MiniFASNetV2", NameMiniFASNetV2},
		{"minifasnetv1se", NameMiniFASNetV1SE},
		{"MiniFASNetV2.onnx", NameMiniFASNetV2},
		{"version-RFB-320.onnx", NameUltraFace},
		{"UltraFace-RFB-320", NameUltraFace},
		{"MiniFASNet", ""},
		{"", ""},
	}
	for _, tt := range tests {
		m, ok := Lookup(tt.query)
		if ok != (tt.wantName != "") || m.Name != tt.wantName {
			t.Errorf("Lookup(%q) = %q, %v; want %q", tt.query, m.Name, ok, tt.wantName)
		}
	}
}

func TestManifestIsACopy(t *testing.T) {
	a := Manifest()
	a[0].SHA256 = "changed"
	a[1].LicenseFiles[0] = "changed"
	b := Manifest()
	if b[0].SHA256 == "changed" || b[1].LicenseFiles[0] == "changed" {
		t.Fatal("Manifest returned shared state")
	}
}

func TestStoreLoad(t *testing.T) {
	m := mustLookup(t, NameMiniFASNetV2)
	good := sharedBytes(t, m)
	tampered := append([]byte(nil), good...)
	tampered[len(tampered)/2] ^= 0xff
	tests := []struct {
		name    string
		content []byte // nil: no file
		wantErr error
		wantMsg string
	}{
		{"verified", good, nil, ""},
		{"missing", nil, ErrMissing, "missing"},
		{"truncated", good[:len(good)-100], ErrChecksum, "wrong size (want 1743561 bytes, got 1743461)"},
		{"empty", []byte{}, ErrChecksum, "wrong size"},
		{"longer", append(append([]byte(nil), good...), 0), ErrChecksum, "wrong size"},
		{"tampered", tampered, ErrChecksum, "sha256 mismatch (want 4eed38f0bde33c9b…, got "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if tt.content != nil {
				if err := os.WriteFile(filepath.Join(dir, m.File), tt.content, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			s, err := Open(dir)
			if err != nil {
				t.Fatal(err)
			}
			if s.Embedded() {
				t.Error("a store over an explicit directory consults embedded models")
			}
			b, got, err := s.Load(context.Background(), "MiniFASNetV2")
			if tt.wantErr == nil {
				if err != nil {
					t.Fatalf("Load: %v", err)
				}
				if got.Name != NameMiniFASNetV2 || len(b) != len(good) {
					t.Fatalf("Load returned %s, %d bytes", got.Name, len(b))
				}
				return
			}
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Load error %v, want errors.Is %v", err, tt.wantErr)
			}
			var fe *FileError
			if !errors.As(err, &fe) || fe.File != m.File || fe.Where != dir {
				t.Fatalf("error %#v is not a FileError naming %s in %s", err, m.File, dir)
			}
			msg := err.Error()
			wantPrefix := "model MiniFASNetV2.onnx in " + dir + ": "
			wantFix := ": run: spoofsense models pull --models " + dir
			if !strings.HasPrefix(msg, wantPrefix) || !strings.Contains(msg, tt.wantMsg) ||
				!strings.HasSuffix(msg, wantFix) || strings.Contains(msg, "\n") {
				t.Errorf("error %q: want one line starting %q, containing %q, ending %q", msg, wantPrefix, tt.wantMsg, wantFix)
			}
			if b != nil {
				t.Error("bytes returned with an error")
			}
		})
	}
}

func TestStoreLoadUnknownAndCancelled(t *testing.T) {
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Load(context.Background(), "NoSuchNet"); !errors.Is(err, ErrUnknown) ||
		!strings.Contains(err.Error(), NameMiniFASNetV2) {
		t.Errorf("unknown model: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, _, err := s.Load(ctx, NameMiniFASNetV2); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled context: %v", err)
	}
}

func TestStoreEmbedded(t *testing.T) {
	v2 := mustLookup(t, NameMiniFASNetV2)
	v1se := mustLookup(t, NameMiniFASNetV1SE)
	good := sharedBytes(t, v2)
	bad := append([]byte(nil), good...)
	bad[0] ^= 1

	// The directory holds a good V1SE and a good V2; the embedded set decides which is used.
	dir := t.TempDir()
	for _, m := range []Model{v2, v1se} {
		if err := os.WriteFile(filepath.Join(dir, m.File), sharedBytes(t, m), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name      string
		embedded  fstest.MapFS
		model     Model
		wantWhere string
		wantErr   error
	}{
		{"embedded wins", fstest.MapFS{v2.File: {Data: good}}, v2, whereEmbedded, nil},
		{"not embedded falls back to the directory", fstest.MapFS{v2.File: {Data: good}}, v1se, filepath.Join(dir, v1se.File), nil},
		{"tampered embedded bytes are refused, not bypassed", fstest.MapFS{v2.File: {Data: bad}}, v2, whereEmbedded, ErrChecksum},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newStore(dir, false, tt.embedded)
			_, where, err := s.read(context.Background(), tt.model)
			if where != tt.wantWhere {
				t.Errorf("where = %q, want %q", where, tt.wantWhere)
			}
			if !errors.Is(err, tt.wantErr) || (err == nil) != (tt.wantErr == nil) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if err != nil && !strings.Contains(err.Error(), "embedded in this binary") {
				t.Errorf("error %q does not say the embedded copy is bad", err)
			}
		})
	}
}

func TestStoreCheck(t *testing.T) {
	dir := t.TempDir()
	v2 := mustLookup(t, NameMiniFASNetV2)
	if err := os.WriteFile(filepath.Join(dir, v2.File), sharedBytes(t, v2), 0o644); err != nil {
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
	if len(sts) != len(Manifest()) {
		t.Fatalf("%d statuses, want %d", len(sts), len(Manifest()))
	}
	for _, st := range sts {
		wantOK := st.Model.Name == NameMiniFASNetV2
		if st.Verified() != wantOK || st.Where != filepath.Join(dir, st.Model.File) {
			t.Errorf("%s: verified=%v where=%q err=%v", st.Model.Name, st.Verified(), st.Where, st.Err)
		}
		if !wantOK && !errors.Is(st.Err, ErrMissing) {
			t.Errorf("%s: err %v, want ErrMissing", st.Model.Name, st.Err)
		}
	}
}

func TestDirAndOpenResolution(t *testing.T) {
	cache := t.TempDir()
	tests := []struct {
		name, arg, env string
		want           string
		wantFix        string
	}{
		{"flag wins over env", "/flag/dir", "/env/dir", "/flag/dir", "run: spoofsense models pull --models /flag/dir"},
		{"flag with a space is quoted", "/my models", "", "/my models", "run: spoofsense models pull --models '/my models'"},
		{"env", "", "/env/dir", "/env/dir", "run: spoofsense models pull"},
		{"user cache", "", "", filepath.Join(cache, "spoofsense", "models"), "run: spoofsense models pull"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("XDG_CACHE_HOME", cache)
			t.Setenv("HOME", cache)
			t.Setenv(EnvModels, tt.env)
			got, err := Dir(tt.arg)
			if err != nil || got != tt.want {
				t.Fatalf("Dir(%q) = %q, %v; want %q", tt.arg, got, err, tt.want)
			}
			s, err := Open(tt.arg)
			if err != nil {
				t.Fatal(err)
			}
			explicit := tt.arg != "" || tt.env != ""
			if s.Dir() != tt.want || s.fix != tt.wantFix || (explicit && s.Embedded()) || s.Embedded() != (!explicit && Embedded()) {
				t.Errorf("Open(%q): dir %q fix %q embedded %v", tt.arg, s.Dir(), s.fix, s.Embedded())
			}
		})
	}
}
