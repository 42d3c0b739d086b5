package pool

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
)

// Progress owns stderr while images are scored: a one-line progress bar (done/found, a bar,
// rate and ETA), and warning lines printed so that they do not garble it. It is safe for
// concurrent use: the producer of a Run's items counts them (Found, then FoundAll once the
// walk is over) while its emit function counts them done.
//
// The bar appears as soon as a second image is found, or once the run has lasted a second
// (one slow image), and is redrawn every redrawEvery while the total still grows: "+" after it
// says the walk is still finding files, and the ETA waits for the final total. Finish clears
// it; nothing of it is left on the terminal.
type Progress struct {
	mu      sync.Mutex
	w       io.Writer
	show    bool // draw a bar at all
	found   int  // images found so far
	done    int  // images emitted
	walked  bool // every image has been found: found is the total
	start   time.Time
	visible bool // the bar is on the terminal now
	stop    chan struct{}
	now     func() time.Time
}

// redrawEvery is how often the bar is redrawn (for its rate and ETA) while scoring runs.
const redrawEvery = 200 * time.Millisecond

// barWidth is the number of cells of the bar itself.
const barWidth = 20

// NewProgress returns a Progress writing to w; with show false it draws no bar but still
// prints warnings.
func NewProgress(w io.Writer, show bool) *Progress {
	p := &Progress{w: w, show: show, start: time.Now(), now: time.Now}
	if show {
		p.stop = make(chan struct{})
		go p.loop(p.stop)
	}
	return p
}

func (p *Progress) loop(stop <-chan struct{}) {
	t := time.NewTicker(redrawEvery)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			p.mu.Lock()
			if p.active() {
				p.draw()
			}
			p.mu.Unlock()
		}
	}
}

// active says whether the bar is to be drawn now. p.mu must be held.
func (p *Progress) active() bool {
	return p.show && p.found > 0 && (p.found >= 2 || p.now().Sub(p.start) >= time.Second)
}

// Found counts one more image to score.
func (p *Progress) Found() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.found++
	if p.found == 2 && p.active() {
		p.draw() // at once, not at the next tick
	}
}

// FoundAll says that every image has been found: the total is final and the ETA can be told.
func (p *Progress) FoundAll() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.walked = true
}

// Done counts one image emitted.
func (p *Progress) Done() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.done++
}

// ClearWhile clears the bar's line, runs fn (which writes to the terminal) and draws the bar
// again.
func (p *Progress) ClearWhile(fn func() error) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.clear()
	err := fn()
	if p.active() {
		p.draw()
	}
	return err
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
	if p.stop != nil {
		close(p.stop)
		p.stop = nil
	}
	p.clear()
	p.show = false
}

// draw writes the bar over the current line. p.mu must be held. A write error (a closed
// terminal) is no reason to stop scoring.
func (p *Progress) draw() {
	_, _ = io.WriteString(p.w, "\r"+p.line()+"\x1b[K")
	p.visible = true
}

// clear erases the bar's line. p.mu must be held.
func (p *Progress) clear() {
	if p.visible {
		_, _ = io.WriteString(p.w, "\r\x1b[K")
		p.visible = false
	}
}

// line is the bar's text: "scoring  12/340+ [==>        ]   3%  41.5 img/s  ETA 8s".
func (p *Progress) line() string {
	elapsed := p.now().Sub(p.start)
	total := fmt.Sprint(p.found)
	if !p.walked {
		total += "+"
	}
	frac := 0.0
	if p.found > 0 {
		frac = min(1, float64(p.done)/float64(p.found))
	}
	cells := int(frac * barWidth)
	bar := strings.Repeat("=", cells)
	if cells < barWidth {
		bar += ">" + strings.Repeat(" ", barWidth-cells-1)
	}
	rate := 0.0
	if s := elapsed.Seconds(); s > 0 {
		rate = float64(p.done) / s
	}
	eta := "ETA …"
	switch {
	case !p.walked:
		eta = "ETA … (still finding files)"
	case rate > 0:
		left := time.Duration(float64(p.found-p.done) / rate * float64(time.Second))
		eta = "ETA " + left.Round(time.Second).String()
	}
	return fmt.Sprintf("scoring %d/%s [%s] %3.0f%% %5.1f img/s  %s", p.done, total, bar, 100*frac, rate, eta)
}
