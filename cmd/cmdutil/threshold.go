package cmdutil

import (
	"errors"
	"fmt"
	"math"
	"strconv"
)

// MinThreshold is the smallest decision threshold accepted: the smallest normal float64. Zero, a
// subnormal or a negative threshold would call live every face with any probability at all (a
// spoof scored 1e-300 included), so they are refused rather than taken literally.
const MinThreshold = 0x1p-1022 // math.SmallestNormal, 2.2250738585072014e-308

// ValidateThreshold checks a decision threshold (live when prob_real ≥ t): a finite, normal
// number in (0, 1]. NaN, ±Inf, zero, subnormals, negatives and values over 1 are refused with
// an error naming param ("--threshold", "threshold", …). check, eval and serve (flags and the
// /v1/check query) all call it, so the rule is one and the same everywhere.
//
// It belongs with the scorer's decision policy (scorer.Options.Validate); it lives here until
// the scorer takes it over.
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
