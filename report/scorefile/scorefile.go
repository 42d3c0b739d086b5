// Package scorefile owns score files: NDJSON files of scorer results, one per line (the output
// of `check -o ndjson` and of eval --save-scores), read with every bad line reported, matched to
// a dataset's items by file name, merged when a bulk run left one part file per shard
// (Merged), written back with the items' keys, and turned into the metrics samples an
// evaluation counts.
package scorefile

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/spoofsense/spoofsense/report/dataset"
	"github.com/spoofsense/spoofsense/report/metrics"
	"github.com/spoofsense/spoofsense/scorer"
)

// Line is one result of a score file and where it was.
type Line struct {
	Result scorer.Result
	// Line is the result's line number in the file.
	Line int
}

// maxScoreLine bounds one NDJSON line of a score file.
const maxScoreLine = 4 << 20

// Read reads the NDJSON score file name from r (the output of `check -o ndjson` or eval's
// --save-scores): one scorer.Result per line; blank lines are skipped. Lines that are not a
// result are reported, with their numbers, in one *dataset.Error.
func Read(r io.Reader, name string) ([]Line, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), maxScoreLine)
	var (
		out      []Line
		problems []dataset.Problem
	)
	add := func(line int, format string, a ...any) {
		problems = append(problems, dataset.Problem{File: name, Line: line, Msg: fmt.Sprintf(format, a...)})
	}
	for line := 1; sc.Scan(); line++ {
		b := bytes.TrimSpace(sc.Bytes())
		if len(b) == 0 {
			continue
		}
		if line == 1 && bytes.HasPrefix(b, []byte(`{"results"`)) {
			add(line, "a `check -o json` document; score files are `check -o ndjson` output")
			break
		}
		var res scorer.Result
		if err := json.Unmarshal(b, &res); err != nil {
			add(line, "not a JSON result: %v", err)
			continue
		}
		switch {
		case res.File == "":
			add(line, "result without a file name")
			continue
		case res.Status != scorer.StatusOK && res.Status != scorer.StatusError:
			add(line, "%s: unknown status %q (want ok or error)", res.File, res.Status)
			continue
		}
		if res.Status == scorer.StatusOK {
			switch res.Verdict {
			case scorer.Live, scorer.Spoof, scorer.NoFace, scorer.Rejected:
			default:
				add(line, "%s: unknown verdict %q", res.File, res.Verdict)
				continue
			}
		}
		out = append(out, Line{Result: res, Line: line})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	if len(problems) > 0 {
		return nil, &dataset.Error{File: name, Problems: problems}
	}
	return out, nil
}

// scoreIndex finds a dataset item by the file name of a result.
type scoreIndex struct {
	byKey   map[string]int
	root    string
	absRoot string
}

func newScoreIndex(ds *dataset.Dataset) *scoreIndex {
	ix := &scoreIndex{byKey: make(map[string]int, len(ds.Items)), root: ds.Root}
	if abs, err := filepath.Abs(ds.Root); err == nil {
		ix.absRoot = abs
	}
	for i, it := range ds.Items {
		ix.byKey[it.Key] = i
	}
	return ix
}

// find returns the item a result's file names. The name is tried first as a path from the
// working directory (what `check` prints for the paths it was given, absolute or relative),
// made relative to the dataset root, then as a path relative to the root itself (what
// --save-scores writes).
//
// When the dataset's root is a URL (a bucket prefix), a name below it is the item's key after
// it; a file:// name is its local path.
func (ix *scoreIndex) find(file string) (int, bool) {
	if strings.Contains(ix.root, "://") {
		rel, ok := strings.CutPrefix(file, ix.root)
		if !ok {
			return 0, false
		}
		i, ok := ix.byKey[rel]
		return i, ok
	}
	if p, ok := strings.CutPrefix(file, "file://"); ok && strings.HasPrefix(p, "/") {
		file = p
	}
	native := filepath.FromSlash(file)
	if abs, err := filepath.Abs(native); err == nil && ix.absRoot != "" {
		if rel, err := filepath.Rel(ix.absRoot, abs); err == nil && filepath.IsLocal(rel) {
			if i, ok := ix.byKey[filepath.ToSlash(rel)]; ok {
				return i, true
			}
		}
	}
	if filepath.IsAbs(native) {
		i, ok := ix.byKey[filepath.ToSlash(filepath.Clean(native))]
		return i, ok
	}
	i, ok := ix.byKey[path.Clean(filepath.ToSlash(file))]
	return i, ok
}

// Match assigns the results read from the score file name to the dataset's items: results[i]
// is item i's, nil when the file has none. Two results for one item are a problem (a
// *dataset.Error); results for files outside the dataset are counted in unmatched.
func Match(ds *dataset.Dataset, lines []Line, name string) (results []*scorer.Result, unmatched int, err error) {
	ix := newScoreIndex(ds)
	results = make([]*scorer.Result, len(ds.Items))
	at := make([]int, len(ds.Items))
	var problems []dataset.Problem
	for _, sl := range lines {
		i, ok := ix.find(sl.Result.File)
		if !ok {
			unmatched++
			continue
		}
		if results[i] != nil {
			problems = append(problems, dataset.Problem{File: name, Line: sl.Line,
				Msg: fmt.Sprintf("second result for %s (first on line %d)", ds.Items[i].Key, at[i])})
			continue
		}
		res := sl.Result
		results[i], at[i] = &res, sl.Line
	}
	if len(problems) > 0 {
		return nil, 0, &dataset.Error{File: name, Problems: problems}
	}
	return results, unmatched, nil
}

// Merged gathers the results of several score files of one dataset (the part files of a bulk
// run, one per shard): Add each file's results as Match returns them, then Results. An item
// with results in two files is an error naming both (two runs given the same shard).
type Merged struct {
	ds      *dataset.Dataset
	results []*scorer.Result
	from    []string // the file each result came from
}

// NewMerged returns an empty merge for ds's items.
func NewMerged(ds *dataset.Dataset) *Merged {
	return &Merged{ds: ds, results: make([]*scorer.Result, len(ds.Items)), from: make([]string, len(ds.Items))}
}

// Add takes the results Match gave for the score file name.
func (m *Merged) Add(name string, results []*scorer.Result) error {
	for i, res := range results {
		if res == nil {
			continue
		}
		if m.results[i] != nil {
			return fmt.Errorf("%s has results in two score files: %s and %s (were two runs given the same shard?)",
				m.ds.Items[i].Key, m.from[i], name)
		}
		m.results[i], m.from[i] = res, name
	}
	return nil
}

// Results returns each item's result (nil where no file has one) and the keys of the items no
// file has, in dataset order.
func (m *Merged) Results() (results []*scorer.Result, missing []string) {
	for i, res := range m.results {
		if res == nil {
			missing = append(missing, m.ds.Items[i].Key)
		}
	}
	return m.results, missing
}

// Write writes results (indexed like the dataset's items; nil ones are left out) as NDJSON to
// name, each with File set to its item's key so that the file is found again from any working
// directory. The file is replaced atomically.
func Write(name string, ds *dataset.Dataset, results []*scorer.Result) (err error) {
	dir := filepath.Dir(name)
	tmp, err := os.CreateTemp(dir, ".spoofsense-scores-*")
	if err != nil {
		return fmt.Errorf("save scores: %w", err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	w := bufio.NewWriter(tmp)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	for i, res := range results {
		if res == nil {
			continue
		}
		r := *res
		r.File = ds.Items[i].Key
		if err := enc.Encode(r); err != nil {
			return fmt.Errorf("save scores %s: %w", name, err)
		}
	}
	if err := w.Flush(); err != nil {
		return fmt.Errorf("save scores %s: %w", name, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("save scores %s: %w", name, err)
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return fmt.Errorf("save scores %s: %w", name, err)
	}
	if err := os.Rename(tmp.Name(), name); err != nil {
		return fmt.Errorf("save scores %s: %w", name, err)
	}
	return nil
}

// Sample turns an item and its result into a metrics sample. Check's "error" status (the file
// could not be read or decoded) is the Unreadable non-response; the verdicts no_face and
// rejected (a --strict quality refusal: no usable face was acquired) are the NoFace one.
// Otherwise the score is prob_real; the verdict in the file is ignored, since eval decides at
// its own threshold.
func Sample(it dataset.Item, res *scorer.Result) metrics.Sample {
	s := metrics.Sample{ID: it.Key, Label: it.Label, Species: it.Species, Score: res.ProbReal}
	switch {
	case res.Status == scorer.StatusError:
		s.NonResponse = metrics.Unreadable
	case res.Verdict == scorer.NoFace || res.Verdict == scorer.Rejected:
		s.NonResponse = metrics.NoFace
	}
	return s
}
