package check

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/spoofsense/spoofsense/cmd/cmdutil"
	"github.com/spoofsense/spoofsense/report"
	"github.com/spoofsense/spoofsense/scorer"
)

// job is one input and its position in the output.
type job struct {
	seq int
	in  input
}

// outcome is what a worker made of a job.
type outcome struct {
	seq int
	in  input
	res scorer.Result
	// warning is printed after the row (an annotated copy that could not be written).
	warning string
	// cancelled marks a job not scored because the run was interrupted; output stops before it.
	cancelled bool
	// fatal stops the whole run (the scorer could not be loaded).
	fatal error
}

// pipeline is one run's shared state: what the workers need to turn a job into an outcome.
type pipeline struct {
	in  io.Reader // stdin
	ann *annotator
	// scorer returns the shared scorer, loading it on first use.
	scorer func() (cmdutil.ImageScorer, error)
}

// checkRun scores every input with a pool of workers and writes the results in input order.
//
// A walker goroutine discovers inputs lazily and hands them to opts.Workers workers; the
// emitter (this goroutine) puts the outcomes back in order and writes them as soon as the
// next one in line is ready. A slot is taken per job and given back when its row is written,
// so at most `window` jobs are in flight or waiting to be reordered: memory stays flat
// however many files there are.
func checkRun(ctx context.Context, opts *CheckOptions) error {
	start := time.Now()
	walk := &walker{
		paths:         opts.Paths,
		include:       opts.Include,
		exclude:       opts.Exclude,
		hidden:        opts.Hidden,
		skipAnnotated: opts.Annotate != "",
	}
	if opts.FilesFrom != "" {
		walk.list, walk.listName, walk.listNUL = opts.IO.In, "stdin", opts.NullSeparated
		if opts.FilesFrom != "-" {
			f, err := os.Open(opts.FilesFrom)
			if err != nil {
				return cmdutil.UsageError("--files-from: %v", err)
			}
			defer f.Close()
			walk.list, walk.listName = f, opts.FilesFrom
		}
	}
	var ann *annotator
	if opts.Annotate != "" {
		var err error
		if ann, err = newAnnotator(opts.Annotate); err != nil {
			return cmdutil.UsageError("--annotate: %v", err)
		}
		defer ann.Close()
	}
	enc, err := report.NewEncoder(opts.Format, opts.IO.Out, report.EncoderOptions{Color: opts.IO.Color})
	if err != nil {
		return cmdutil.UsageError("%v", err)
	}
	showBar := !opts.Quiet && (opts.Progress ||
		// A table is printed at the end, so the bar is alone on the terminal until then;
		// streamed rows on a terminal are progress enough.
		opts.IO.StderrTTY && !(opts.IO.StdoutTTY && opts.Format.Streams()))
	prog := newProgress(opts.IO.ErrOut, showBar)

	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	p := &pipeline{
		in:  opts.IO.In,
		ann: ann,
		scorer: sync.OnceValues(func() (cmdutil.ImageScorer, error) {
			s, err := opts.LoadScorer(runCtx, opts.Scorer)
			if err != nil {
				return nil, fmt.Errorf("load models: %w", err)
			}
			return s, nil
		}),
	}

	window := 4*opts.Workers + 16
	slots := make(chan struct{}, window)
	jobs := make(chan job)
	outcomes := make(chan outcome, window) // never blocks: at most window jobs are out

	// walked and walkComplete are the walker's; they are read only once walkerDone is closed.
	var (
		walked       int
		walkComplete bool
		walkerDone   = make(chan struct{})
	)
	go func() {
		defer close(walkerDone)
		defer close(jobs)
		for in := range walk.inputs(runCtx) {
			select {
			case slots <- struct{}{}:
			case <-runCtx.Done():
				return
			}
			if in.warning == "" {
				prog.addFound()
			}
			select {
			case jobs <- job{seq: walked, in: in}:
				walked++
			case <-runCtx.Done():
				return
			}
		}
		walkComplete = runCtx.Err() == nil
	}()
	var workers sync.WaitGroup
	for range opts.Workers {
		workers.Go(func() {
			for {
				select {
				case <-runCtx.Done():
					return
				case j, ok := <-jobs:
					if !ok {
						return
					}
					o := p.process(runCtx, j.in)
					o.seq, o.in = j.seq, j.in
					outcomes <- o
				}
			}
		})
	}
	go func() {
		workers.Wait()
		close(outcomes)
	}()

	var (
		sum          report.Summary
		failedCopies int
		fatal        error
		next         int // the seq of the next row to write
	)
	if err := enc.Begin(); err != nil {
		fatal = fmt.Errorf("write results: %w", err)
		cancel()
	}
	emit := func(o outcome) error {
		if o.in.warning != "" {
			prog.warn(o.in.warning)
			return nil
		}
		write := func() error { return enc.Write(o.res) }
		var err error
		if opts.IO.StdoutTTY && opts.Format.Streams() { // a row on the bar's terminal
			err = prog.clearWhile(write)
		} else {
			err = write()
		}
		if err != nil {
			return fmt.Errorf("write results: %w", err)
		}
		sum.Add(o.res)
		prog.done()
		if o.warning != "" {
			failedCopies++
			prog.warn(o.warning)
		}
		return nil
	}
	pending := make(map[int]outcome, window)
	for o := range outcomes {
		if o.fatal != nil || fatal != nil {
			if fatal == nil {
				fatal = o.fatal
			}
			cancel()
			continue
		}
		pending[o.seq] = o
		for {
			o, ok := pending[next]
			if !ok || o.cancelled {
				break
			}
			delete(pending, next)
			next++
			if err := emit(o); err != nil {
				fatal = err
				cancel()
				break
			}
			<-slots
		}
	}
	// Unless the run was cancelled, jobs was closed and the walker is about done. A cancelled
	// walker may be stuck reading --files-from on a terminal: it is left behind.
	walkerFinished := false
	if runCtx.Err() == nil {
		<-walkerDone
		walkerFinished = true
	} else {
		select {
		case <-walkerDone:
			walkerFinished = true
		default:
		}
	}
	complete := walkerFinished && walkComplete && next == walked
	prog.finish()
	sum.SetElapsed(time.Since(start))
	sum.Interrupted = !complete && ctx.Err() != nil
	endErr := enc.End(sum)
	if !opts.Quiet {
		fmt.Fprintln(opts.IO.ErrOut, sum.String())
	}
	switch {
	case sum.Interrupted:
		return &cmdutil.ExitError{Code: cmdutil.ExitInterrupt, Err: errors.New("interrupted")}
	case fatal != nil:
		return &cmdutil.ExitError{Code: cmdutil.ExitFail, Err: fatal}
	case endErr != nil:
		return &cmdutil.ExitError{Code: cmdutil.ExitFail, Err: fmt.Errorf("write results: %w", endErr)}
	case sum.Total == 0 && !opts.ExitZero:
		return &cmdutil.ExitError{Code: cmdutil.ExitFileError, Err: errors.New("no images found")}
	case opts.ExitZero:
		return nil
	case sum.Errors > 0 || failedCopies > 0:
		return &cmdutil.ExitError{Code: cmdutil.ExitFileError}
	case sum.Live < sum.Total:
		return &cmdutil.ExitError{Code: cmdutil.ExitFail}
	}
	return nil
}

// errorResult is the row of an input that could not be read or decoded.
func errorResult(name string, err error) scorer.Result {
	return scorer.Result{File: name, Status: scorer.StatusError, Error: err.Error()}
}

// process scores one input. A file that cannot be opened or decoded becomes an error row; the
// scorer is loaded only once an image is really about to be scored.
func (p *pipeline) process(ctx context.Context, in input) outcome {
	var o outcome
	switch {
	case in.warning != "":
		return o
	case in.err != nil:
		o.res = errorResult(in.name, in.err)
		return o
	}
	var (
		src    io.Reader
		file   *os.File
		copied *bytes.Buffer // what the scorer read from stdin, for --annotate
	)
	if in.stdin {
		src = p.in
		if p.ann != nil {
			copied = &bytes.Buffer{}
			src = io.TeeReader(p.in, copied)
		}
	} else {
		f, err := os.Open(in.name)
		if err != nil {
			o.res = errorResult(in.name, err)
			return o
		}
		defer f.Close()
		file, src = f, f
	}
	sc, err := p.scorer()
	if err != nil {
		o.fatal = err
		return o
	}
	res, err := sc.ScoreReader(ctx, src, in.name)
	res.File = in.name
	if err != nil {
		if ctx.Err() != nil {
			o.cancelled = true
			return o
		}
		// Keep what the scorer did learn (image size, timings), but no verdict.
		res.Status, res.Error, res.Verdict = scorer.StatusError, err.Error(), ""
		o.res = res
		return o
	}
	if res.Status == "" {
		res.Status = scorer.StatusOK
	}
	o.res = res
	if p.ann != nil && res.Status == scorer.StatusOK {
		if err := p.annotate(res, file, copied); err != nil {
			o.warning = err.Error()
		}
	}
	return o
}

// annotate writes the annotated copy of a scored image, reading it again from the start of
// file, or from what the scorer read of stdin followed by the rest of it.
func (p *pipeline) annotate(res scorer.Result, file *os.File, copied *bytes.Buffer) error {
	if file == nil {
		return p.ann.annotate(res, io.MultiReader(copied, p.in), "")
	}
	if _, err := file.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("annotate %s: %w", res.File, err)
	}
	return p.ann.annotate(res, file, file.Name())
}
