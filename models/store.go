package models

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// Environment variables that say where models live and where pull gets them.
const (
	// EnvModels names the model directory when no directory is given explicitly.
	EnvModels = "SPOOFSENSE_MODELS"
	// EnvMirror is the default mirror for pull: a directory or an http(s) URL base.
	EnvMirror = "SPOOFSENSE_MODEL_MIRROR"
)

// Errors a caller can decide on with errors.Is.
var (
	// ErrMissing reports a model file that is not where it should be.
	ErrMissing = errors.New("missing")
	// ErrChecksum reports a model file whose size or sha256 differs from the manifest
	// (truncated, tampered with, or a different upstream file).
	ErrChecksum = errors.New("size or sha256 differs from the manifest")
	// ErrUnknown reports a model name that is not in the manifest.
	ErrUnknown = errors.New("unknown model")
)

// whereEmbedded is what Status.Where and errors say for the models embedded in the binary.
const whereEmbedded = "embedded"

// FileError is a model file that cannot be used, with how to fix it. It matches ErrMissing or
// ErrChecksum through errors.Is.
type FileError struct {
	File  string // model file name, e.g. "MiniFASNetV2.onnx"
	Where string // the directory looked in, or "embedded"
	Err   error  // why: wraps ErrMissing or ErrChecksum
	Fix   string // the command or step that repairs it
}

func (e *FileError) Error() string {
	where := "in " + e.Where
	if e.Where == whereEmbedded {
		where = "embedded in this binary"
	}
	return fmt.Sprintf("model %s %s: %v: %s", e.File, where, e.Err, e.Fix)
}

func (e *FileError) Unwrap() error { return e.Err }

// Embedded reports whether this binary carries the model files (built with -tags embedmodels).
func Embedded() bool { return embeddedFiles() != nil }

// Dir returns the model directory pull writes to and Open reads from: dir when not empty, else
// $SPOOFSENSE_MODELS, else spoofsense/models under the user cache directory.
func Dir(dir string) (string, error) {
	if dir != "" {
		return dir, nil
	}
	if env := os.Getenv(EnvModels); env != "" {
		return env, nil
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("no model directory: pass --models DIR or set %s: %w", EnvModels, err)
	}
	return filepath.Join(cache, "spoofsense", "models"), nil
}

// Store hands out verified model bytes. It is safe for concurrent use.
type Store struct {
	dir      string // model directory; "" when none could be determined
	embedded fs.FS  // the binary's own model files; nil when absent or overridden
	fix      string // what FileError.Fix says for files in dir
}

// Open returns the store models are loaded from. A non-empty dir, or else $SPOOFSENSE_MODELS,
// is the only place looked in. Otherwise a model embedded in the binary is used when present,
// and the user cache directory when not. Open does not touch the files; Load verifies them.
func Open(dir string) (*Store, error) {
	explicit := dir != "" || os.Getenv(EnvModels) != ""
	var embedded fs.FS
	if !explicit {
		embedded = embeddedFiles()
	}
	d, err := Dir(dir)
	if err != nil && embedded == nil {
		return nil, err
	}
	return newStore(d, dir != "", embedded), nil
}

// newStore builds a store over dir and, when not nil, the embedded files. flagDir says that dir
// was passed explicitly, so the fix for a bad file must repeat it.
func newStore(dir string, flagDir bool, embedded fs.FS) *Store {
	fix := "run: spoofsense models pull"
	if flagDir {
		fix += " --models " + quoteArg(dir)
	}
	return &Store{dir: dir, embedded: embedded, fix: fix}
}

// Dir returns the model directory the store reads files from when they are not embedded.
func (s *Store) Dir() string { return s.dir }

// Embedded reports whether the store consults models embedded in the binary first.
func (s *Store) Embedded() bool { return s.embedded != nil }

// Load returns the verified bytes of the named model (short or file name, see Lookup) and its
// manifest entry. A missing, truncated or altered file gives a *FileError.
func (s *Store) Load(ctx context.Context, name string) ([]byte, Model, error) {
	m, ok := Lookup(name)
	if !ok {
		return nil, Model{}, fmt.Errorf("load %q: %w (known: %s)", name, ErrUnknown, knownNames())
	}
	b, _, err := s.read(ctx, m)
	if err != nil {
		return nil, m, err
	}
	return b, m, nil
}

// Status is the state of one manifest model in a store.
type Status struct {
	Model Model
	// Where is the file's path, or "embedded" for bytes carried by the binary.
	Where string
	// Err is nil when the file is present and verified, else why not (a *FileError for a
	// missing or mismatched file).
	Err error
}

// Verified reports whether the model is present with the manifest's bytes.
func (st Status) Verified() bool { return st.Err == nil }

// Check verifies every manifest model and reports each one's state, in manifest order.
func (s *Store) Check(ctx context.Context) ([]Status, error) {
	var out []Status
	for _, m := range Manifest() {
		if err := ctx.Err(); err != nil {
			return out, err
		}
		_, where, err := s.read(ctx, m)
		out = append(out, Status{Model: m, Where: where, Err: err})
	}
	return out, nil
}

// read returns m's verified bytes and where they came from: the embedded copy when there is
// one, else the file in the store's directory.
func (s *Store) read(ctx context.Context, m Model) ([]byte, string, error) {
	if err := ctx.Err(); err != nil {
		return nil, "", err
	}
	if s.embedded != nil {
		b, err := fs.ReadFile(s.embedded, m.File)
		switch {
		case err == nil:
			if err := m.Verify(b); err != nil {
				return nil, whereEmbedded, &FileError{File: m.File, Where: whereEmbedded, Err: err,
					Fix: "rebuild spoofsense with make build, or pass --models DIR"}
			}
			return b, whereEmbedded, nil
		case !errors.Is(err, fs.ErrNotExist):
			return nil, whereEmbedded, fmt.Errorf("read embedded model %s: %w", m.File, err)
		}
	}
	if s.dir == "" {
		return nil, "", &FileError{File: m.File, Where: "(no model directory)", Err: ErrMissing,
			Fix: "pass --models DIR or set " + EnvModels}
	}
	path := filepath.Join(s.dir, m.File)
	b, err := readVerified(path, m)
	if err != nil {
		if errors.Is(err, ErrMissing) || errors.Is(err, ErrChecksum) {
			return nil, path, &FileError{File: m.File, Where: s.dir, Err: err, Fix: s.fix}
		}
		return nil, path, fmt.Errorf("model %s in %s: %w", m.File, s.dir, err)
	}
	return b, path, nil
}

// readVerified reads the file at path and checks it against m. A file of the wrong size is
// refused without reading it, so a huge stray file costs nothing.
func readVerified(path string, m Model) ([]byte, error) {
	f, err := openModel(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, ErrMissing
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file", path)
	}
	if err := m.check(fi.Size(), m.SHA256, false); err != nil {
		return nil, err
	}
	b := make([]byte, fi.Size())
	if _, err := io.ReadFull(f, b); err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if err := m.Verify(b); err != nil {
		return nil, err
	}
	return b, nil
}

// verifyFile checks the file at path against m while streaming it, without keeping the bytes.
func verifyFile(path string, m Model) error {
	f, err := openModel(path)
	if errors.Is(err, fs.ErrNotExist) {
		return ErrMissing
	}
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("%s is not a regular file", path)
	}
	if err := m.check(fi.Size(), m.SHA256, false); err != nil {
		return err
	}
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return fmt.Errorf("read %s: %w", path, err)
	}
	return m.check(n, hex.EncodeToString(h.Sum(nil)), false)
}

// openModel opens a model file without blocking: a FIFO in its place (no writer) must not hang
// the open; the caller then refuses it as not a regular file.
func openModel(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
}

// knownNames lists the manifest's short names for error messages.
func knownNames() string {
	var names []string
	for _, m := range Manifest() {
		names = append(names, m.Name)
	}
	return strings.Join(names, ", ")
}

// quoteArg quotes s for a shell command line when it needs it.
func quoteArg(s string) string {
	if s != "" && !strings.ContainsAny(s, " \t\n'\"\\$`*?[]{}()<>|&;#~!") {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
