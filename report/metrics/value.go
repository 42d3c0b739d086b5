package metrics

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
)

// Value is a metric that may be undefined, such as a rate over zero presentations. Its JSON form
// is a number, or null when undefined; it prints as "n/a" when undefined. The zero Value is
// undefined. Build one with [Of] so that NaN can never pass for a number.
type Value struct {
	Float64 float64
	Valid   bool // false: the metric is undefined and Float64 is meaningless
}

// Of returns x as a defined Value, or an undefined one when x is NaN or infinite.
func Of(x float64) Value {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return Value{}
	}
	return Value{Float64: x, Valid: true}
}

// Or returns the value, or def when it is undefined.
func (v Value) Or(def float64) float64 {
	if !v.Valid {
		return def
	}
	return v.Float64
}

// String formats the value with up to four significant digits, or returns "n/a".
func (v Value) String() string {
	if !v.Valid {
		return "n/a"
	}
	return strconv.FormatFloat(v.Float64, 'g', 4, 64)
}

// MarshalJSON encodes the value as a JSON number, or null when undefined.
func (v Value) MarshalJSON() ([]byte, error) {
	if !v.Valid {
		return []byte("null"), nil
	}
	return json.Marshal(v.Float64)
}

// UnmarshalJSON decodes a JSON number, or null as an undefined value.
func (v *Value) UnmarshalJSON(b []byte) error {
	if bytes.Equal(bytes.TrimSpace(b), []byte("null")) {
		*v = Value{}
		return nil
	}
	var x float64
	if err := json.Unmarshal(b, &x); err != nil {
		return fmt.Errorf("metric value: %w", err)
	}
	*v = Of(x)
	return nil
}

// Interval is a two-sided confidence interval for a rate.
type Interval struct {
	Level float64 `json:"level"` // confidence level, e.g. 0.95
	Low   Value   `json:"low"`
	High  Value   `json:"high"`
}

// Rate is an error (or non-response) rate with the counts it was computed from.
type Rate struct {
	Value Value    `json:"value"` // Count / Total; undefined when Total is 0
	Count int      `json:"count"` // presentations counted as errors (or non-responses)
	Total int      `json:"total"` // presentations the rate is taken over
	CI    Interval `json:"ci"`    // Wilson score interval for Value
}

// NewRate returns count/total with its Wilson score interval at the given confidence level.
func NewRate(count, total int, level float64) Rate {
	r := Rate{Count: count, Total: total, CI: Interval{Level: level}}
	if total <= 0 || count < 0 || count > total {
		return r
	}
	r.Value = Of(float64(count) / float64(total))
	lo, hi, ok := Wilson(count, total, level)
	if ok {
		r.CI.Low, r.CI.High = Of(lo), Of(hi)
	}
	return r
}

// Wilson returns the Wilson score interval (without continuity correction) for a binomial
// proportion of count successes in total trials at confidence level (e.g. 0.95):
//
//	centre = (p + z²/2n) / (1 + z²/n)
//	half   = z / (1 + z²/n) · √(p(1−p)/n + z²/4n²)
//
// with p = count/total, n = total and z the two-sided standard normal quantile of level. Unlike
// the normal (Wald) interval it stays inside [0, 1] and is not degenerate at 0/n or n/n, which
// matters for the small error counts of a good detector. ok is false when total ≤ 0, count is
// outside [0, total] or level is outside (0, 1).
func Wilson(count, total int, level float64) (lo, hi float64, ok bool) {
	if total <= 0 || count < 0 || count > total || !(level > 0 && level < 1) {
		return 0, 0, false
	}
	z := math.Sqrt2 * math.Erfinv(level)
	n := float64(total)
	p := float64(count) / n
	z2 := z * z
	denom := 1 + z2/n
	centre := (p + z2/(2*n)) / denom
	half := z / denom * math.Sqrt(p*(1-p)/n+z2/(4*n*n))
	lo, hi = centre-half, centre+half
	// At 0/n and n/n the bound is exactly 0 or 1; rounding must not push it past.
	if count == 0 || lo < 0 {
		lo = 0
	}
	if count == total || hi > 1 {
		hi = 1
	}
	return lo, hi, true
}

// Percent formats v as a percentage with two decimals ("12.34%"), or "n/a".
func (v Value) Percent() string {
	if !v.Valid {
		return "n/a"
	}
	return strconv.FormatFloat(100*v.Float64, 'f', 2, 64) + "%"
}

// Fixed formats v with the given number of decimals, or "n/a".
func (v Value) Fixed(decimals int) string {
	if !v.Valid {
		return "n/a"
	}
	return strconv.FormatFloat(v.Float64, 'f', decimals, 64)
}

// Interval formats r's confidence interval as "[low%, high%]", or "n/a".
func (r Rate) Interval() string {
	if !r.CI.Low.Valid || !r.CI.High.Valid {
		return "n/a"
	}
	return "[" + r.CI.Low.Percent() + ", " + r.CI.High.Percent() + "]"
}
