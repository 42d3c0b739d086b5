package check

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"io/fs"
	"iter"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/spoofsense/spoofsense/cmd/cmdutil/objstore"
)

// input is one thing the walker found: an image to score, a path that failed (a row with an
// error), or a warning for stderr (no row).
type input struct {
	// name is the path as the user would type it, "-" for stdin.
	name  string
	stdin bool
	// err, when set, is why the input could not even be listed; it becomes an error row.
	err error
	// warning, when set, is a message for stderr and the input is not a row at all.
	warning string
	// obj, when set, is the stored object the input is (a URL argument).
	obj *object
	// fatal, when set, stops the run (exit 4): a bucket that could not be opened.
	fatal error
}

// walker turns PATH arguments and --files-from lists into inputs, lazily, in a stable order
// (arguments first, directory entries sorted by name).
type walker struct {
	paths   []string
	list    io.Reader // --files-from, or nil
	listNUL bool
	// listName names the list in error messages.
	listName string

	include, exclude []string
	hidden           bool
	// skipAnnotated leaves out the files --annotate writes, so a rerun does not score them.
	skipAnnotated bool

	// opener opens the buckets of URL arguments; pageSize is how many keys one listing
	// request asks for (0: objstore.DefaultPageSize).
	opener   *objstore.Opener
	pageSize int
}

// inputs yields every input in order. It stops early when ctx is done or the consumer stops.
func (w *walker) inputs(ctx context.Context) iter.Seq[input] {
	return func(yield func(input) bool) {
		for _, p := range w.paths {
			if ctx.Err() != nil {
				return
			}
			if p == "-" {
				if !yield(input{name: "-", stdin: true}) {
					return
				}
				continue
			}
			if !w.expand(ctx, p, yield) {
				return
			}
		}
		if w.list == nil {
			return
		}
		sc := bufio.NewScanner(w.list)
		sc.Buffer(make([]byte, 0, 4096), 1<<20)
		if w.listNUL {
			sc.Split(scanNUL)
		}
		for sc.Scan() {
			if ctx.Err() != nil {
				return
			}
			p := sc.Text()
			if p == "" {
				continue
			}
			if !w.expand(ctx, p, yield) {
				return
			}
		}
		if err := sc.Err(); err != nil {
			yield(input{name: w.listName, err: fmt.Errorf("read --files-from %s: %w", w.listName, err)})
		}
	}
}

// scanNUL is a bufio.SplitFunc for NUL-terminated records (find -print0).
func scanNUL(data []byte, atEOF bool) (advance int, token []byte, err error) {
	if i := bytes.IndexByte(data, 0); i >= 0 {
		return i + 1, data[:i], nil
	}
	if atEOF && len(data) > 0 {
		return len(data), data, nil
	}
	return 0, nil, nil
}

// expand yields the path itself when it is not a directory (an unreadable or missing path too:
// its row will say why), else the images below it; a URL is expanded by expandURL.
func (w *walker) expand(ctx context.Context, p string, yield func(input) bool) bool {
	if objstore.IsURL(p) {
		return w.expandURL(ctx, p, yield)
	}
	info, err := os.Stat(p)
	if err != nil || !info.IsDir() {
		return yield(input{name: p})
	}
	return w.walkDir(ctx, p, "", []os.FileInfo{info}, yield)
}

// walkDir yields the images below dir. rel is dir's slash-separated path below the PATH
// argument ("" for the argument itself); ancestors are the directories from the argument down
// to dir, for symlink loop detection.
func (w *walker) walkDir(ctx context.Context, dir, rel string, ancestors []os.FileInfo, yield func(input) bool) bool {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return yield(input{name: dir, err: err})
	}
	for _, e := range entries {
		if ctx.Err() != nil {
			return false
		}
		base := e.Name()
		if !w.hidden && strings.HasPrefix(base, ".") {
			continue
		}
		full := filepath.Join(dir, base)
		relPath := path.Join(rel, base)
		mode := e.Type()
		var info os.FileInfo
		if mode&fs.ModeSymlink != 0 {
			info, err = os.Stat(full)
			if err != nil {
				// A dangling symlink that names an image is reported: someone expected a file.
				if hasImageExt(base) && w.selected(relPath, base) && !w.isAnnotation(base) {
					if !yield(input{name: full}) {
						return false
					}
				}
				continue
			}
			mode = info.Mode().Type()
		}
		switch {
		case mode.IsDir():
			if w.excluded(relPath, base) {
				continue
			}
			if info == nil {
				if info, err = e.Info(); err != nil {
					if !yield(input{name: full, err: err}) {
						return false
					}
					continue
				}
			}
			if loop := ancestorOf(ancestors, info); loop >= 0 {
				msg := fmt.Sprintf("skipping %s: symlink loop back to %s", full, ancestorName(dir, len(ancestors)-1-loop))
				if !yield(input{name: full, warning: msg}) {
					return false
				}
				continue
			}
			if !w.walkDir(ctx, full, relPath, append(ancestors, info), yield) {
				return false
			}
		case mode.IsRegular():
			if !w.selected(relPath, base) || w.isAnnotation(base) {
				continue
			}
			if !hasImageExt(base) && !sniffImage(full) {
				continue
			}
			if !yield(input{name: full}) {
				return false
			}
		}
	}
	return true
}

// ancestorOf returns the index in ancestors of the directory info is, or -1.
func ancestorOf(ancestors []os.FileInfo, info os.FileInfo) int {
	for i, a := range ancestors {
		if os.SameFile(a, info) {
			return i
		}
	}
	return -1
}

// ancestorName returns the path of dir's up-th parent (0 = dir itself).
func ancestorName(dir string, up int) string {
	for range up {
		dir = filepath.Dir(dir)
	}
	return dir
}

// selected reports whether a file found in a directory passes --include and --exclude.
func (w *walker) selected(relPath, base string) bool {
	if w.excluded(relPath, base) {
		return false
	}
	if len(w.include) == 0 {
		return true
	}
	for _, p := range w.include {
		if globMatch(p, relPath, base) {
			return true
		}
	}
	return false
}

func (w *walker) excluded(relPath, base string) bool {
	for _, p := range w.exclude {
		if globMatch(p, relPath, base) {
			return true
		}
	}
	return false
}

// globMatch matches a pattern with a "/" against the path below the PATH argument and one
// without against the base name. Patterns were validated with the flags.
func globMatch(pattern, relPath, base string) bool {
	name := base
	if strings.Contains(pattern, "/") {
		name = relPath
	}
	ok, _ := path.Match(pattern, name)
	return ok
}

func (w *walker) isAnnotation(base string) bool {
	return w.skipAnnotated && isAnnotationName(base)
}
