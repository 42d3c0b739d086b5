package check

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/spoofsense/spoofsense/cmd/cmdutil"
	"github.com/spoofsense/spoofsense/cmd/cmdutil/bulkout"
	"github.com/spoofsense/spoofsense/cmd/cmdutil/objstore"
	"github.com/spoofsense/spoofsense/cmd/cmdutil/pool"
	"github.com/spoofsense/spoofsense/preprocess"
	"github.com/spoofsense/spoofsense/report"
	"github.com/spoofsense/spoofsense/scorer"
	"github.com/spoofsense/spoofsense/scorer/profile"
)

// outcome is what a worker made of one input.
type outcome struct {
	res scorer.Result
	// warning is printed after the row (an annotated copy that could not be written).
	warning string
}

// pipeline is one run's shared state: what the workers need to turn a job into an outcome.
type pipeline struct {
	in  io.Reader // stdin
	ann *annotator
	// channel is the profile channel that decides, written into each result.
	channel string
	// limits bound what is decoded: the scorer's.
	limits preprocess.Limits
	// scorer returns the shared scorer, loading it on first use.
	scorer func() (cmdutil.DecodedScorer, error)
	// decoders holds the workers' *preprocess.Decoder between images, so that each decode
	// reuses a previous one's JPEG tables and sample planes.
	decoders sync.Pool
}

// checkRun scores every input with a pool of workers and writes the results in input order.
//
// The walker discovers inputs lazily and pool.Run hands them to opts.Workers workers, puts the
// outcomes back in order and writes each row as soon as it is next in line, with a bounded
// number of inputs in flight: memory stays flat however many files there are.
//
// With --shard only the inputs of that shard are scored; with --out the rows go to checkpoints
// composed into the output at the end (package bulkout), and --resume skips the inputs the
// checkpoints of an earlier run hold.
func checkRun(ctx context.Context, opts *CheckOptions) error {
	start := time.Now()
	channel := ""
	if opts.ProfileFile != "" {
		d, err := applyProfile(opts)
		if err != nil {
			return err
		}
		opts.Scorer.Threshold, channel = d.Threshold, d.Channel
	}
	opener := &objstore.Opener{}
	defer opener.Close()
	walk := &walker{
		paths:         opts.Paths,
		include:       opts.Include,
		exclude:       opts.Exclude,
		hidden:        opts.Hidden,
		skipAnnotated: opts.Annotate != "",
		opener:        opener,
		pageSize:      opts.PageSize,
	}
	if opts.FilesFrom != "" {
		walk.list, walk.listName, walk.listNUL = opts.IO.In, "stdin", opts.NullSeparated
		if opts.FilesFrom != "-" {
			f, err := cmdutil.OpenInput(ctx, opts.FilesFrom) // a FIFO cannot hang the open
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
	// Writes to --out are not cut by an interrupt: the rows scored so far are kept.
	outCtx := context.WithoutCancel(ctx)
	var out *bulkout.Output
	if opts.Out != "" {
		var err error
		if out, err = openOut(ctx, opts, opener); err != nil {
			return cmdutil.CannotRun(err)
		}
		if n := out.Resumed(); n > 0 && !opts.Quiet {
			fmt.Fprintf(opts.IO.ErrOut, "spoofsense: resuming: %d rows already in %s\n", n, out.Checkpoints())
		}
		if out.Complete() {
			if !opts.Quiet {
				fmt.Fprintf(opts.IO.ErrOut, "%s is complete: nothing left to score (--resume)\n", opts.Out)
			}
			return nil
		}
	}
	enc, err := report.NewEncoder(opts.Format, opts.IO.Out, report.EncoderOptions{Color: opts.IO.Color})
	if err != nil {
		return cmdutil.UsageError("%v", err)
	}
	streamsToTTY := out == nil && opts.IO.StdoutTTY && opts.Format.Streams()
	showBar := !opts.Quiet && (opts.Progress ||
		// A table is printed at the end, so the bar is alone on the terminal until then;
		// streamed rows on a terminal are progress enough.
		opts.IO.StderrTTY && !streamsToTTY)
	prog := pool.NewProgress(opts.IO.ErrOut, showBar)

	p := &pipeline{
		in:      opts.IO.In,
		ann:     ann,
		channel: channel,
		limits:  opts.Scorer.Limits,
		scorer: sync.OnceValues(func() (cmdutil.DecodedScorer, error) {
			s, err := opts.LoadScorer(ctx, opts.Scorer)
			if err != nil {
				return nil, fmt.Errorf("load models: %w", err)
			}
			return s, nil
		}),
	}
	// Inputs that are only a warning (a skipped path) keep their place in the output but are
	// not counted as images. Inputs of other shards, and those an earlier run scored, are not
	// inputs of this run.
	inputs := func(yield func(input) bool) {
		for in := range walk.inputs(ctx) {
			if in.warning == "" && in.fatal == nil &&
				(!opts.shard.Takes(in.name) || out != nil && out.Done(in.name)) {
				continue
			}
			if in.warning == "" {
				prog.Found()
			}
			if !yield(in) {
				return
			}
		}
		prog.FoundAll()
	}
	var (
		sum          report.Summary
		failedCopies int
	)
	emit := func(in input, o outcome) error {
		if in.warning != "" {
			prog.Warn(in.warning)
			return nil
		}
		write := func() error { return enc.Write(o.res) }
		var err error
		switch {
		case out != nil:
			err = out.Write(outCtx, o.res)
		case streamsToTTY: // a row on the bar's terminal
			err = prog.ClearWhile(write)
		default:
			err = write()
		}
		if err != nil {
			return fmt.Errorf("write results: %w", err)
		}
		sum.Add(o.res)
		prog.Done()
		if o.warning != "" {
			failedCopies++
			prog.Warn(o.warning)
		}
		return nil
	}
	var (
		stats pool.Stats
		fatal error
	)
	if out == nil { // --out writes its own header, when it composes the output
		if err := enc.Begin(); err != nil {
			fatal = fmt.Errorf("write results: %w", err)
		}
	}
	if fatal == nil {
		stats, fatal = pool.Run(ctx, pool.Options{Workers: opts.Workers}, inputs, p.process, emit)
	}
	complete := stats.Complete
	prog.Finish()
	sum.SetElapsed(time.Since(start))
	sum.Interrupted = !complete && ctx.Err() != nil
	var endErr error
	switch {
	case out == nil:
		endErr = enc.End(sum)
	case complete:
		// The summary and exit status are those of every row, this run's and the resumed.
		var all report.Summary
		if all, endErr = out.Finish(outCtx, time.Since(start)); endErr == nil {
			sum = all
		}
	default:
		if endErr = out.Flush(outCtx); endErr == nil && !opts.Quiet {
			fmt.Fprintf(opts.IO.ErrOut, "spoofsense: %d rows kept in %s (%d of this run); run again with --resume to score the rest\n",
				out.Resumed()+sum.Total, out.Checkpoints(), sum.Total)
		}
	}
	// A run stopped before its first row (the models did not load) has nothing to sum up.
	if !opts.Quiet && (fatal == nil || sum.Total > 0) {
		fmt.Fprintln(opts.IO.ErrOut, sum.String())
	}
	switch {
	case sum.Interrupted:
		return &cmdutil.ExitError{Code: cmdutil.ExitInterrupt, Err: errors.New("interrupted")}
	case fatal != nil:
		return cmdutil.CannotRun(fatal)
	case endErr != nil:
		return cmdutil.CannotRun(fmt.Errorf("write results: %w", endErr))
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

// openOut opens --out: a URL, or a local path written through the same checkpoints.
func openOut(ctx context.Context, opts *CheckOptions, opener *objstore.Opener) (*bulkout.Output, error) {
	var (
		loc objstore.Location
		err error
	)
	if objstore.IsURL(opts.Out) {
		loc, err = objstore.Parse(opts.Out)
	} else {
		loc, err = objstore.FileLocation(opts.Out)
	}
	if err != nil {
		return nil, fmt.Errorf("--out: %w", err)
	}
	b, err := opener.Bucket(ctx, loc)
	if err != nil {
		return nil, fmt.Errorf("--out: %w", err)
	}
	return bulkout.Open(ctx, b, loc, bulkout.Options{
		Format: opts.Format, Rows: opts.CheckpointRows, Every: opts.CheckpointEvery, Resume: opts.Resume,
	})
}

// applyProfile reads --profile, refuses it when it was made with other models or scorer
// settings (exit 4) and resolves --channel (an unknown one is a usage error).
func applyProfile(opts *CheckOptions) (profile.Decision, error) {
	p, err := profile.Read(opts.ProfileFile)
	if err != nil {
		return profile.Decision{}, cmdutil.CannotRun(err)
	}
	setup, err := profile.SetupOf(opts.Scorer)
	if err != nil {
		return profile.Decision{}, cmdutil.UsageError("%v", err)
	}
	if err := p.Check(setup); err != nil {
		return profile.Decision{}, cmdutil.CannotRun(fmt.Errorf("profile %s: %w", opts.ProfileFile, err))
	}
	d, err := p.Resolve(opts.Channel)
	if err != nil {
		return profile.Decision{}, cmdutil.UsageError("--channel: profile %s: %v", opts.ProfileFile, err)
	}
	return d, nil
}

// errorResult is the row of an input that could not be read or decoded.
func errorResult(name string, err error) scorer.Result {
	return scorer.Result{File: name, Status: scorer.StatusError, Error: err.Error()}
}

// process scores one input. A file that cannot be opened or decoded becomes an error row; the
// scorer is loaded only once an image is really about to be scored, and a failure to load it
// stops the run. An error returned while ctx is done marks an input cut short by an interrupt.
func (p *pipeline) process(ctx context.Context, in input) (outcome, error) {
	var o outcome
	switch {
	case in.warning != "":
		return o, nil
	case in.fatal != nil:
		return o, in.fatal
	case in.err != nil:
		o.res = errorResult(in.name, in.err)
		return o, nil
	}
	var src io.Reader
	switch {
	case in.obj != nil:
		// The read ends with ctx; a connection cut mid-body is a read error, so a row.
		r, err := in.obj.open(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return o, ctx.Err()
			}
			o.res = errorResult(in.name, err)
			return o, nil
		}
		defer r.Close()
		src = r
	case in.stdin:
		// A read of stdin (`sleep 15 | spoofsense check -`) ends with ctx, so that Ctrl-C
		// exits 130 at once. ctx is the pool's: when it is done, the input is cut short.
		src = cmdutil.ContextReader(ctx, p.in)
	default:
		// Non-blocking, and closed when ctx ends: a named pipe without a writer cannot hang
		// the run, nor can one that never ends.
		f, err := cmdutil.OpenInput(ctx, in.name)
		if err != nil {
			o.res = errorResult(in.name, err)
			return o, nil
		}
		defer f.Close()
		src = f
	}
	sc, err := p.scorer()
	if err != nil {
		return o, err
	}
	// Decoded once, here: the scorer and --annotate see the same upright pixels.
	dec, _ := p.decoders.Get().(*preprocess.Decoder)
	if dec == nil {
		dec = new(preprocess.Decoder)
	}
	d, err := scorer.DecodeWith(dec, src, in.name, p.limits)
	p.decoders.Put(dec)
	if err != nil {
		if ctx.Err() != nil {
			return o, ctx.Err()
		}
		o.res = errorResult(in.name, err)
		return o, nil
	}
	res, err := sc.ScoreDecoded(ctx, d)
	res.File = in.name
	if err != nil {
		if ctx.Err() != nil {
			return o, ctx.Err()
		}
		// Keep what the scorer did learn (image size, timings), but no verdict.
		res.Status, res.Error, res.Verdict = scorer.StatusError, err.Error(), ""
		o.res = res
		return o, nil
	}
	if res.Status == "" {
		res.Status = scorer.StatusOK
	}
	if res.Status == scorer.StatusOK {
		res.Channel = p.channel
	}
	o.res = res
	if p.ann != nil && res.Status == scorer.StatusOK {
		input := in.name
		if in.stdin || in.obj != nil {
			input = "" // no file beside which to name the copy
		}
		if err := p.ann.annotate(res, d.Image, input); err != nil {
			o.warning = err.Error()
		}
	}
	return o, nil
}
