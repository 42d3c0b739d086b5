package metrics

import (
	"encoding/json"
	"math"
	"testing"
)

func TestWilson(t *testing.T) {
	// 0/10 and 5/10 by hand at z = 1.959964 (z² = 3.841459):
	//   0/10: centre = (0 + 0.192073)/1.384146 = 0.138766, half = 1.416010·√(3.841459/400) = 0.138766
	//   5/10: centre = 0.5, half = 1.416010·√(0.025 + 0.0096036) = 0.263407
	// The other rows are the Wilson score (method 3) intervals of Newcombe, "Two-sided
	// confidence intervals for the single proportion", Statistics in Medicine 17 (1998), table II.
	tests := []struct {
		count, total int
		level        float64
		lo, hi       float64
		tol          float64
	}{
		{0, 10, 0.95, 0, 0.277533, 1e-6},
		{5, 10, 0.95, 0.236593, 0.763407, 1e-6},
		{10, 10, 0.95, 0.722467, 1, 1e-6},
		{81, 263, 0.95, 0.2553, 0.3662, 5e-5},
		{15, 148, 0.95, 0.0624, 0.1605, 5e-5},
		{0, 20, 0.95, 0, 0.1611, 5e-5},
		{1, 29, 0.95, 0.0061, 0.1718, 5e-5},
	}
	for _, tt := range tests {
		lo, hi, ok := Wilson(tt.count, tt.total, tt.level)
		if !ok || math.Abs(lo-tt.lo) > tt.tol || math.Abs(hi-tt.hi) > tt.tol {
			t.Errorf("Wilson(%d, %d, %v) = %.6f, %.6f, %v; want %.6f, %.6f", tt.count, tt.total, tt.level, lo, hi, ok, tt.lo, tt.hi)
		}
	}
}

func TestWilsonInvalid(t *testing.T) {
	for _, tt := range []struct {
		count, total int
		level        float64
	}{{0, 0, 0.95}, {-1, 5, 0.95}, {6, 5, 0.95}, {1, 5, 0}, {1, 5, 1}, {1, 5, math.NaN()}} {
		if lo, hi, ok := Wilson(tt.count, tt.total, tt.level); ok {
			t.Errorf("Wilson(%d, %d, %v) = %v, %v, ok; want not ok", tt.count, tt.total, tt.level, lo, hi)
		}
	}
}

func TestWilsonLevelWidens(t *testing.T) {
	lo90, hi90, _ := Wilson(3, 40, 0.90)
	lo99, hi99, _ := Wilson(3, 40, 0.99)
	if !(lo99 < lo90 && hi99 > hi90) {
		t.Errorf("99%% interval [%v, %v] does not contain the 90%% one [%v, %v]", lo99, hi99, lo90, hi90)
	}
}

func TestNewRate(t *testing.T) {
	r := NewRate(0, 0, 0.95)
	if r.Value.Valid || r.CI.Low.Valid || r.CI.High.Valid || r.CI.Level != 0.95 {
		t.Errorf("NewRate(0, 0) = %+v; want undefined value and bounds", r)
	}
	r = NewRate(1, 4, 0.95)
	if r.Value != Of(0.25) || r.Count != 1 || r.Total != 4 || !r.CI.Low.Valid || r.CI.Low.Float64 >= 0.25 || r.CI.High.Float64 <= 0.25 {
		t.Errorf("NewRate(1, 4) = %+v", r)
	}
}

func TestValue(t *testing.T) {
	tests := []struct {
		v    Value
		json string
		str  string
	}{
		{Of(0.125), "0.125", "0.125"},
		{Of(math.NaN()), "null", "n/a"},
		{Of(math.Inf(1)), "null", "n/a"},
		{Value{}, "null", "n/a"},
		{Of(0), "0", "0"},
	}
	for _, tt := range tests {
		b, err := json.Marshal(tt.v)
		if err != nil || string(b) != tt.json {
			t.Errorf("Marshal(%#v) = %s, %v; want %s", tt.v, b, err, tt.json)
		}
		if s := tt.v.String(); s != tt.str {
			t.Errorf("String(%#v) = %q; want %q", tt.v, s, tt.str)
		}
		var back Value
		if err := json.Unmarshal(b, &back); err != nil || back != tt.v {
			t.Errorf("Unmarshal(%s) = %#v, %v; want %#v", b, back, err, tt.v)
		}
	}
	var v Value
	if err := json.Unmarshal([]byte(`"x"`), &v); err == nil {
		t.Error(`Unmarshal("x") succeeded`)
	}
	if Of(2).Or(7) != 2 || (Value{}).Or(7) != 7 {
		t.Error("Or does not return the value, or the default when undefined")
	}
}
