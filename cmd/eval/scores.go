package eval

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"

	"github.com/spoofsense/spoofsense/cmd/cmdutil"
	"github.com/spoofsense/spoofsense/cmd/cmdutil/pool"
	"github.com/spoofsense/spoofsense/report/metrics"
	"github.com/spoofsense/spoofsense/scorer"
)

// ScoreRequest is what a ScoreFunc is asked to score.
type ScoreRequest struct {
	// Paths are the image files to score.
	Paths []string
	// Scorer holds the scoring options (threshold, crops, box).
	Scorer scorer.Options
	// Workers is how many images may be scored at once (≥ 1).
	Workers int
	// Progress, when not nil, is the terminal to draw a progress bar on.
	Progress io.Writer
}

// ScoreFunc scores every path of req and calls emit once per path with its result, File set
// to that path. emit is never called concurrently; the order is free (PoolScorer keeps the
// order of req.Paths). An image that cannot be
// read or decoded is a result with status "error", not an error of the ScoreFunc, which fails
// only when scoring cannot go on (the models cannot be loaded, ctx is done).
type ScoreFunc func(ctx context.Context, req ScoreRequest, emit func(scorer.Result)) error

// LoadScorerFunc loads a scorer (cmdutil.Factory.LoadScorer).
type LoadScorerFunc func(ctx context.Context, opts scorer.Options) (cmdutil.ImageScorer, error)

// PoolScorer returns a ScoreFunc that loads one scorer with load, on the first call, and
// scores with req.Workers goroutines through pool.Run, the worker pool of `check`: results are
// emitted in the order of req.Paths, an interrupt stops the run after the last result in
// order, and the progress bar is check's.
func PoolScorer(load LoadScorerFunc) ScoreFunc {
	return func(ctx context.Context, req ScoreRequest, emit func(scorer.Result)) error {
		if len(req.Paths) == 0 {
			return nil
		}
		sc, err := load(ctx, req.Scorer)
		if err != nil {
			return fmt.Errorf("load models: %w", err)
		}
		prog := pool.NewProgress(req.Progress, req.Progress != nil)
		defer prog.Finish()
		for range req.Paths { // the dataset is listed already: the total is known
			prog.Found()
		}
		prog.FoundAll()
		paths := func(yield func(string) bool) {
			for _, p := range req.Paths {
				if !yield(p) {
					return
				}
			}
		}
		score := func(ctx context.Context, path string) (scorer.Result, error) {
			res := scoreFile(ctx, sc, path)
			return res, ctx.Err() // a result cut short by an interrupt is not used
		}
		_, err = pool.Run(ctx, pool.Options{Workers: req.Workers}, paths, score, func(_ string, res scorer.Result) error {
			emit(res)
			prog.Done()
			return nil
		})
		if err != nil {
			return err
		}
		return ctx.Err()
	}
}

// scoreFile scores one file; failures to open or decode it become an error result.
func scoreFile(ctx context.Context, sc cmdutil.ImageScorer, name string) scorer.Result {
	f, err := cmdutil.OpenInput(ctx, name)
	if err != nil {
		return scorer.Result{File: name, Status: scorer.StatusError, Error: err.Error()}
	}
	defer f.Close()
	res, err := sc.ScoreReader(ctx, f, name)
	if err != nil {
		return scorer.Result{File: name, Status: scorer.StatusError, Error: err.Error()}
	}
	res.File = name
	if res.Status == "" {
		res.Status = scorer.StatusOK
	}
	return res
}

// scoreLine is one result of a score file and where it was.
type scoreLine struct {
	res  scorer.Result
	line int
}

// maxScoreLine bounds one NDJSON line of a score file.
const maxScoreLine = 4 << 20

// readScores reads an NDJSON score file (the output of `check -o ndjson` or eval's
// --save-scores): one scorer.Result per line; blank lines are skipped. Lines that are not a
// result are reported, with their numbers, in one *DatasetError.
func readScores(r io.Reader, name string) ([]scoreLine, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), maxScoreLine)
	var (
		out      []scoreLine
		problems []Problem
	)
	add := func(line int, format string, a ...any) {
		problems = append(problems, Problem{File: name, Line: line, Msg: fmt.Sprintf(format, a...)})
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
		out = append(out, scoreLine{res: res, line: line})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	if len(problems) > 0 {
		return nil, &DatasetError{File: name, Problems: problems}
	}
	return out, nil
}

// scoreIndex finds a dataset item by the file name of a result.
type scoreIndex struct {
	byKey   map[string]int
	absRoot string
}

func newScoreIndex(ds *Dataset) *scoreIndex {
	ix := &scoreIndex{byKey: make(map[string]int, len(ds.Items))}
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
func (ix *scoreIndex) find(file string) (int, bool) {
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

// matchScores assigns the results of a score file to the dataset's items. Two results for one
// item are a problem; results for files outside the dataset are counted in unmatched.
func matchScores(ds *Dataset, lines []scoreLine, name string) (results []*scorer.Result, unmatched int, err error) {
	ix := newScoreIndex(ds)
	results = make([]*scorer.Result, len(ds.Items))
	at := make([]int, len(ds.Items))
	var problems []Problem
	for _, sl := range lines {
		i, ok := ix.find(sl.res.File)
		if !ok {
			unmatched++
			continue
		}
		if results[i] != nil {
			problems = append(problems, Problem{File: name, Line: sl.line,
				Msg: fmt.Sprintf("second result for %s (first on line %d)", ds.Items[i].Key, at[i])})
			continue
		}
		res := sl.res
		results[i], at[i] = &res, sl.line
	}
	if len(problems) > 0 {
		return nil, 0, &DatasetError{File: name, Problems: problems}
	}
	return results, unmatched, nil
}

// writeScores writes results as NDJSON to name, each with File set to its item's key so that
// the file is found again from any working directory. The file is replaced atomically.
func writeScores(name string, ds *Dataset, results []*scorer.Result) (err error) {
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

// sample turns an item and its result into a metrics sample. Check's "error" status (the file
// could not be read or decoded) is the Unreadable non-response; the verdicts no_face and
// rejected (a --strict quality refusal: no usable face was acquired) are the NoFace one.
// Otherwise the score is prob_real; the verdict in the file is ignored, since eval decides at
// its own threshold.
func sample(it Item, res *scorer.Result) metrics.Sample {
	s := metrics.Sample{ID: it.Key, Label: it.Label, Species: it.Species, Score: res.ProbReal}
	switch {
	case res.Status == scorer.StatusError:
		s.NonResponse = metrics.Unreadable
	case res.Verdict == scorer.NoFace || res.Verdict == scorer.Rejected:
		s.NonResponse = metrics.NoFace
	}
	return s
}
