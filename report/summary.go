package report

import (
	"fmt"
	"strings"
	"time"

	"github.com/spoofsense/spoofsense/scorer"
)

// Summary counts the outcomes of a run. Its JSON form closes the json format's document.
type Summary struct {
	// Total is how many results were written (scored or not).
	Total    int `json:"total"`
	Live     int `json:"live"`
	Spoof    int `json:"spoof"`
	NoFace   int `json:"no_face"`
	Rejected int `json:"rejected"`
	// Errors counts inputs that could not be read or decoded (status "error").
	Errors int `json:"errors"`
	// ElapsedMS is the run's wall-clock time in milliseconds.
	ElapsedMS float64 `json:"elapsed_ms"`
	// Interrupted is set when the run was cancelled before every input was scored.
	Interrupted bool `json:"interrupted,omitempty"`
}

// Add counts one result.
func (s *Summary) Add(r scorer.Result) {
	s.Total++
	if r.Status == scorer.StatusError {
		s.Errors++
		return
	}
	switch r.Verdict {
	case scorer.Live:
		s.Live++
	case scorer.Spoof:
		s.Spoof++
	case scorer.NoFace:
		s.NoFace++
	case scorer.Rejected:
		s.Rejected++
	}
}

// SetElapsed records the run's duration.
func (s *Summary) SetElapsed(d time.Duration) {
	s.ElapsedMS = float64(d) / float64(time.Millisecond)
}

// Elapsed returns the run's duration.
func (s Summary) Elapsed() time.Duration {
	return time.Duration(s.ElapsedMS * float64(time.Millisecond))
}

// String is the one-line summary for people, e.g.
// "3 images: 1 live, 2 spoof, 0 no face, 0 errors in 1.2s". Rejected images are listed only
// when there are some.
func (s Summary) String() string {
	var b strings.Builder
	noun := "images"
	if s.Total == 1 {
		noun = "image"
	}
	fmt.Fprintf(&b, "%d %s: %d live, %d spoof, %d no face, ", s.Total, noun, s.Live, s.Spoof, s.NoFace)
	if s.Rejected > 0 {
		fmt.Fprintf(&b, "%d rejected, ", s.Rejected)
	}
	errs := "errors"
	if s.Errors == 1 {
		errs = "error"
	}
	fmt.Fprintf(&b, "%d %s in %.1fs", s.Errors, errs, s.Elapsed().Seconds())
	if s.Interrupted {
		b.WriteString(" (interrupted)")
	}
	return b.String()
}
