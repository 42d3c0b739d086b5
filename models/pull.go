package models

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// DefaultTimeout bounds one model download when PullOptions.Client is nil.
const DefaultTimeout = 5 * time.Minute

// PullOptions say where Pull gets a model's bytes. The zero value downloads from the model's
// upstream URL with a client limited to DefaultTimeout.
type PullOptions struct {
	// Mirror, when set, replaces the upstream URL: a directory holding the model files, or an
	// http(s) URL base the file name is appended to.
	Mirror string
	// Client does the HTTP downloads; nil means a client with DefaultTimeout.
	Client *http.Client
	// Progress, when not nil, is written every byte as it arrives (for a progress bar).
	Progress io.Writer
}

// PullResult says what Pull did.
type PullResult struct {
	Path    string // the verified file
	Source  string // where the bytes came from (URL or path); empty when Skipped
	Skipped bool   // the file was already present and verified, so nothing was fetched
}

// Source returns where Pull fetches m from with the given mirror: the mirror's file or URL, or
// the upstream URL when mirror is empty.
func Source(m Model, mirror string) string {
	switch {
	case mirror == "":
		return m.URL
	case isURL(mirror):
		return strings.TrimRight(mirror, "/") + "/" + url.PathEscape(m.File)
	default:
		return filepath.Join(mirror, m.File)
	}
}

// Pull makes dir hold a verified copy of m. A file already there with the manifest's bytes is
// left alone. Otherwise the bytes are fetched into a temporary file in dir, checked against the
// manifest's size and sha256 and renamed into place, so concurrent pulls into one directory never
// expose a partial file. Bytes that do not match are deleted and the error, which wraps
// ErrChecksum, names the expected and actual digests.
func Pull(ctx context.Context, dir string, m Model, opts PullOptions) (PullResult, error) {
	if strings.Contains(opts.Mirror, "://") && !isURL(opts.Mirror) {
		return PullResult{}, fmt.Errorf("pull %s: mirror %q is neither a directory nor an http(s) URL", m.File, opts.Mirror)
	}
	path := filepath.Join(dir, m.File)
	if err := verifyFile(path, m); err == nil {
		return PullResult{Path: path, Skipped: true}, nil
	}
	src := Source(m, opts.Mirror)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return PullResult{}, fmt.Errorf("pull %s: %w", m.File, err)
	}
	if err := fetchVerified(ctx, src, path, m, opts); err != nil {
		return PullResult{}, fmt.Errorf("pull %s from %s: %w", m.File, src, err)
	}
	return PullResult{Path: path, Source: src}, nil
}

// fetchVerified copies src into a temporary file beside path, verifies it and renames it to
// path. On any failure the temporary file is removed.
func fetchVerified(ctx context.Context, src, path string, m Model, opts PullOptions) (err error) {
	body, err := open(ctx, src, opts.Client)
	if err != nil {
		return err
	}
	defer body.Close()

	tmp, err := os.CreateTemp(filepath.Dir(path), "."+m.File+".*.partial")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()

	h := sha256.New()
	w := io.MultiWriter(tmp, h)
	if opts.Progress != nil {
		w = io.MultiWriter(tmp, h, opts.Progress)
	}
	// Read at most one byte more than expected: enough to tell a larger file, never a flood.
	n, err := io.Copy(w, io.LimitReader(&ctxReader{ctx, body}, m.Size+1))
	if err != nil {
		return err
	}
	if err := m.check(n, hex.EncodeToString(h.Sum(nil)), true); err != nil {
		return fmt.Errorf("%w; refused, nothing kept", err)
	}
	if err := tmp.Chmod(0o644); err != nil {
		return err
	}
	if err := tmp.Sync(); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// open returns a reader over src, a URL or a file path.
func open(ctx context.Context, src string, client *http.Client) (io.ReadCloser, error) {
	if !isURL(src) {
		return os.Open(src)
	}
	if client == nil {
		client = &http.Client{Timeout: DefaultTimeout}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, src, nil)
	if err != nil {
		return nil, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		return nil, fmt.Errorf("HTTP %s", resp.Status)
	}
	return resp.Body, nil
}

// isURL reports whether s is an http or https URL rather than a path.
func isURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

// ctxReader stops reading once its context is done, so a local copy can be interrupted too.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c *ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	n, err := c.r.Read(p)
	if err != nil && !errors.Is(err, io.EOF) && c.ctx.Err() != nil {
		return n, c.ctx.Err()
	}
	return n, err
}
