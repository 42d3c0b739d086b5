package eval

import (
	"context"
	"fmt"
	"io"

	"github.com/spoofsense/spoofsense/cmd/cmdutil"
	"github.com/spoofsense/spoofsense/cmd/cmdutil/objstore"
	"github.com/spoofsense/spoofsense/cmd/cmdutil/pool"
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
		opener := &objstore.Opener{} // for the images of a dataset in a bucket
		defer opener.Close()
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
			res := scoreFile(ctx, sc, opener, path)
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

// scoreFile scores one file or object URL; failures to open or decode it become an error
// result.
func scoreFile(ctx context.Context, sc cmdutil.ImageScorer, opener *objstore.Opener, name string) scorer.Result {
	f, err := openImage(ctx, opener, name)
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

// openImage opens a file, or an object when name is a URL.
func openImage(ctx context.Context, opener *objstore.Opener, name string) (io.ReadCloser, error) {
	if !objstore.IsURL(name) {
		return cmdutil.OpenInput(ctx, name)
	}
	loc, err := objstore.Parse(name)
	if err != nil {
		return nil, err
	}
	b, err := opener.Bucket(ctx, loc)
	if err != nil {
		return nil, err
	}
	return objstore.Open(ctx, b, loc, loc.Key)
}
