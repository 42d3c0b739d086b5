package pool

import (
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
)

// Progress owns stderr while images are scored: a progress bar (count, rate, ETA) once a
// second image has been found, and warning lines printed so that they do not garble the bar.
// It is safe for concurrent use: the producer of a Run's items counts them (Found) while its
// emit function counts them done.
type Progress struct {
	mu    sync.Mutex
	w     io.Writer
	show  bool // draw a bar at all
	found int  // images found so far
	bar   *progressbar.ProgressBar
}

// NewProgress returns a Progress writing to w; with show false it draws no bar but still
// prints warnings.
func NewProgress(w io.Writer, show bool) *Progress {
	return &Progress{w: w, show: show}
}

// Found counts one more image to score; the bar appears with the second.
func (p *Progress) Found() {
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

// Done counts one image emitted.
func (p *Progress) Done() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.bar != nil {
		_ = p.bar.Add(1) // a bar that cannot draw is no reason to stop scoring
	}
}

// ClearWhile clears the bar's line, runs fn (which writes to the terminal) and lets the next
// update redraw the bar.
func (p *Progress) ClearWhile(fn func() error) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.bar != nil {
		_ = p.bar.Clear()
	}
	return fn()
}

// Warn prints one line on stderr.
func (p *Progress) Warn(msg string) {
	_ = p.ClearWhile(func() error {
		_, err := fmt.Fprintf(p.w, "spoofsense: %s\n", msg)
		return err
	})
}

// Finish removes the bar for good; the summary line and a table come after it.
func (p *Progress) Finish() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.bar != nil {
		_ = p.bar.Clear()
		_ = p.bar.Exit()
		p.bar = nil
	}
	p.show = false
}
