package scorer

import (
	"errors"
	"fmt"
	"math"
	"strconv"
)

// Rule is how a face's prob_real is compared with the threshold to decide live or spoof.
type Rule int

// The comparison rules. AtLeast is spoofsense's (the CLI, /v1/check, eval and calibration
// profiles); Above is the commercial API's that /antispoofing reproduces: its documentation
// says real when prob_real > threshold, and its clients are written against that.
const (
	AtLeast Rule = iota // live when prob_real ≥ threshold
	Above               // live when prob_real > threshold (strictly)
)

// Policy is a decision: a threshold and the rule comparing prob_real with it. Its zero value
// is not usable; make one with a threshold ValidateThreshold accepts.
type Policy struct {
	Threshold float64
	Rule      Rule
}

// Live reports whether a face with probability p is live under the policy.
func (p Policy) Live(prob float64) bool {
	if p.Rule == Above {
		return prob > p.Threshold
	}
	return prob >= p.Threshold
}

// Decide returns the verdict for a scored face with probability p: Live or Spoof.
func (p Policy) Decide(prob float64) Verdict {
	if p.Live(prob) {
		return Live
	}
	return Spoof
}

// Redecide returns v decided again at the policy when it is a decision (Live or Spoof);
// non-responses (no_face, rejected) stay as they are.
func (p Policy) Redecide(v Verdict, prob float64) Verdict {
	if v != Live && v != Spoof {
		return v
	}
	return p.Decide(prob)
}

// MinThreshold is the smallest decision threshold accepted: the smallest normal float64. Zero, a
// subnormal or a negative threshold would call live every face with any probability at all (a
// spoof scored 1e-300 included), so they are refused rather than taken literally.
const MinThreshold = 0x1p-1022 // math.SmallestNormal, 2.2250738585072014e-308

// ValidateThreshold checks a decision threshold: a finite, normal number in (0, 1]. NaN, ±Inf,
// zero, subnormals, negatives and values over 1 are refused with an error naming param
// ("--threshold", "threshold", …). Options.Validate, the flags of check, eval and serve and the
// /v1/check query all use it, so the rule and its messages are one.
func ValidateThreshold(param string, t float64) error {
	if why := thresholdProblem(t); why != "" {
		return fmt.Errorf("%s %v: %s", param, t, why)
	}
	return nil
}

// ParseThreshold parses s (a query parameter) as a decision threshold and validates it as
// ValidateThreshold does; the error names param and quotes s as given.
func ParseThreshold(param, s string) (float64, error) {
	t, err := strconv.ParseFloat(s, 64)
	switch {
	case errors.Is(err, strconv.ErrRange): // 1e400, 1e-400: out of float64 range either way
		return 0, fmt.Errorf("%s %q: want a number in (0, 1]", param, s)
	case err != nil:
		return 0, fmt.Errorf("%s %q: not a number; want a number in (0, 1]", param, s)
	}
	if why := thresholdProblem(t); why != "" {
		return 0, fmt.Errorf("%s %q: %s", param, s, why)
	}
	return t, nil
}

// thresholdProblem says what is wrong with t as a threshold, "" when nothing.
func thresholdProblem(t float64) string {
	switch {
	case math.IsNaN(t) || math.IsInf(t, 0):
		return "want a number in (0, 1], not NaN or infinity"
	case t <= 0 || t > 1:
		return "want a number in (0, 1]"
	case t < MinThreshold:
		return "want a number in (0, 1]; a subnormal threshold would call every face live"
	}
	return ""
}
