package check

import (
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
)

// progress owns stderr while images are scored: a progress bar (count, rate, ETA) once a
// second image has been found, and warning lines printed so that they do not garble the bar.
// The walker and the emitter call it from different goroutines.
type progress struct {
	mu    sync.Mutex
	w     io.Writer
	show  bool // draw a bar at all
	found int  // images found so far
	bar   *progressbar.ProgressBar
}

func newProgress(w io.Writer, show bool) *progress {
	return &progress{w: w, show: show}
}

// found counts one more image to score; the bar appears with the second.
func (p *progress) addFound() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.found++
	if !p.show || p.found < 2 {
		return
	}
	if p.bar == nil {
		p.bar = progressbar.NewOptions(p.found,
			progressbar.OptionSetWriter(p.w),
			progressbar.OptionSetDescription("scoring"),
			progressbar.OptionShowCount(),
			progressbar.OptionShowIts(),
			progressbar.OptionSetItsString("img"),
			progressbar.OptionSetPredictTime(true),
			progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionClearOnFinish(),
		)
		return
	}
	p.bar.AddMax(1)
}

// done counts one image emitted.
func (p *progress) done() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.bar != nil {
		_ = p.bar.Add(1) // a bar that cannot draw is no reason to stop scoring
	}
}

// clearWhile clears the bar's line, runs fn (which writes to the terminal) and lets the next
// update redraw the bar.
func (p *progress) clearWhile(fn func() error) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.bar != nil {
		_ = p.bar.Clear()
	}
	return fn()
}

// warn prints one line on stderr.
func (p *progress) warn(msg string) {
	_ = p.clearWhile(func() error {
		_, err := fmt.Fprintf(p.w, "spoofsense: %s\n", msg)
		return err
	})
}

// finish removes the bar for good; the summary line and a table come after it.
func (p *progress) finish() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.bar != nil {
		_ = p.bar.Clear()
		_ = p.bar.Exit()
		p.bar = nil
	}
	p.show = false
}
