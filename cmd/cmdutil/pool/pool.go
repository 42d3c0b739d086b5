// Package pool runs a command's per-item work (scoring one image) on a pool of workers and
// hands the results back in input order, with a progress bar on stderr. `check` and `eval`
// both score through it, so they order, cancel and report progress the same way.
package pool

import (
	"context"
	"iter"
	"sync"
)

// Options configure Run.
type Options struct {
	// Workers is how many items are processed at once (values below 1 mean 1).
	Workers int
	// Window bounds how many items are in flight or waiting to be put back in order, so memory
	// stays flat however many items there are (0 means 4·Workers + 16).
	Window int
}

// Stats describe how far a Run got.
type Stats struct {
	// Emitted is how many items were handed to emit, all in input order.
	Emitted int
	// Complete is true when the item sequence was read to its end and every item was emitted.
	Complete bool
}

// Run reads items from items lazily, processes them with do on opts.Workers goroutines and
// calls emit with each item and its result in the order of items, as soon as the next one in
// line is ready. emit is never called concurrently.
//
// do receives a context that is cancelled when ctx is, or when the run stops early. An error
// that do returns once that context is done means the item was cut short by the cancellation:
// it is not emitted, and neither is anything after it. Any other error from do, or an error
// from emit, stops the run (no further item is emitted) and is returned.
//
// When ctx is cancelled Run returns without waiting for items' producer if it is blocked (for
// example reading a list from a terminal); the producer is told to stop at its next item.
func Run[T, R any](ctx context.Context, opts Options, items iter.Seq[T], do func(context.Context, T) (R, error), emit func(T, R) error) (Stats, error) {
	workers := max(opts.Workers, 1)
	window := opts.Window
	if window <= 0 {
		window = 4*workers + 16
	}
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()

	type job struct {
		seq  int
		item T
	}
	type outcome struct {
		job
		res       R
		err       error
		cancelled bool
	}
	slots := make(chan struct{}, window) // one per item taken, given back when it is emitted
	jobs := make(chan job)
	outcomes := make(chan outcome, window) // never blocks: at most window items are out

	// taken and exhausted are the producer's; they are read only once producerDone is closed.
	var (
		taken        int
		exhausted    bool
		producerDone = make(chan struct{})
	)
	go func() {
		defer close(producerDone)
		defer close(jobs)
		for it := range items {
			select {
			case slots <- struct{}{}:
			case <-runCtx.Done():
				return
			}
			select {
			case jobs <- job{seq: taken, item: it}:
				taken++
			case <-runCtx.Done():
				return
			}
		}
		exhausted = runCtx.Err() == nil
	}()
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for {
				select {
				case <-runCtx.Done():
					return
				case j, ok := <-jobs:
					if !ok {
						return
					}
					res, err := do(runCtx, j.item)
					outcomes <- outcome{job: j, res: res, err: err, cancelled: err != nil && runCtx.Err() != nil}
				}
			}
		})
	}
	go func() {
		wg.Wait()
		close(outcomes)
	}()

	var (
		fatal   error
		next    int // the seq of the next item to emit
		pending = make(map[int]outcome, window)
	)
	for o := range outcomes {
		if fatal != nil {
			continue // drain
		}
		if o.err != nil && !o.cancelled {
			fatal = o.err
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
			if err := emit(o.item, o.res); err != nil {
				fatal = err
				cancel()
				break
			}
			<-slots
		}
	}
	// Unless the run was cancelled, jobs was closed and the producer is about done.
	producerFinished := false
	if runCtx.Err() == nil {
		<-producerDone
		producerFinished = true
	} else {
		select {
		case <-producerDone:
			producerFinished = true
		default:
		}
	}
	st := Stats{Emitted: next}
	st.Complete = fatal == nil && producerFinished && exhausted && next == taken
	return st, fatal
}
