package scorer

import (
	"math"
	"strings"
	"testing"
)

func TestValidateThreshold(t *testing.T) {
	for _, ok := range []float64{MinThreshold, 1e-300, 0.5, 0.55, 1} {
		if err := ValidateThreshold("--threshold", ok); err != nil {
			t.Errorf("%v: %v, want accepted", ok, err)
		}
	}
	for _, bad := range []float64{math.NaN(), math.Inf(1), math.Inf(-1), 0, math.Copysign(0, -1),
		1e-320, math.SmallestNonzeroFloat64, MinThreshold / 2, -0.5, 1.0000001, 2} {
		err := ValidateThreshold("--threshold", bad)
		if err == nil || !strings.HasPrefix(err.Error(), "--threshold ") {
			t.Errorf("%v: %v, want an error naming --threshold", bad, err)
		}
	}
}

func TestParseThreshold(t *testing.T) {
	for s, want := range map[string]float64{"0.7": 0.7, "1": 1, "1e-300": 1e-300, " 0.5": -1} {
		got, err := ParseThreshold("threshold", s)
		if want < 0 {
			if err == nil {
				t.Errorf("%q: accepted %v, want an error", s, got)
			}
			continue
		}
		if err != nil || got != want {
			t.Errorf("%q: %v, %v; want %v", s, got, err, want)
		}
	}
	for _, s := range []string{"NaN", "nan", "Inf", "-Inf", "infinity", "0", "-0", "0x0p0", "1e-320",
		"4.9e-324", "1e-400", "1e400", "1.5", "-1", "", "abc", "0.5x"} {
		_, err := ParseThreshold("threshold", s)
		if err == nil || !strings.HasPrefix(err.Error(), `threshold "`+s+`"`) {
			t.Errorf("%q: %v, want an error naming threshold and quoting the value", s, err)
		}
	}
}

// TestPolicy: the two rules differ exactly at the threshold, and Redecide leaves non-responses.
func TestPolicy(t *testing.T) {
	at, above := Policy{Threshold: 0.55, Rule: AtLeast}, Policy{Threshold: 0.55, Rule: Above}
	for _, tc := range []struct {
		p             float64
		atLeast, over Verdict
	}{
		{0.55, Live, Spoof},
		{math.Nextafter(0.55, 1), Live, Live},
		{math.Nextafter(0.55, 0), Spoof, Spoof},
		{1, Live, Live},
		{0, Spoof, Spoof},
	} {
		if got := at.Decide(tc.p); got != tc.atLeast {
			t.Errorf("AtLeast %v: %s, want %s", tc.p, got, tc.atLeast)
		}
		if got := above.Decide(tc.p); got != tc.over {
			t.Errorf("Above %v: %s, want %s", tc.p, got, tc.over)
		}
	}
	for _, v := range []Verdict{NoFace, Rejected} {
		if got := at.Redecide(v, 0.9); got != v {
			t.Errorf("Redecide(%s) = %s", v, got)
		}
	}
	if got := at.Redecide(Spoof, 0.9); got != Live {
		t.Errorf("Redecide(spoof, 0.9) = %s, want live", got)
	}
	if p := (Options{}).Policy(); p != (Policy{Threshold: 0.55, Rule: AtLeast}) {
		t.Errorf("zero Options decide with %+v", p)
	}
	for _, bad := range []float64{math.NaN(), -0.1, 1.5, 1e-320, math.Inf(1)} {
		if err := (Options{Threshold: bad}).Validate(); err == nil || !strings.HasPrefix(err.Error(), "threshold ") {
			t.Errorf("Options{Threshold: %v}.Validate() = %v, want an error naming threshold", bad, err)
		}
	}
}
