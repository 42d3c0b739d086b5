package metrics

import "testing"

func TestValueFormatting(t *testing.T) {
	tests := []struct {
		v               Value
		percent, fixed4 string
	}{
		{Of(0.12345), "12.35%", "0.1235"},
		{Of(0), "0.00%", "0.0000"},
		{Of(1), "100.00%", "1.0000"},
		{Value{}, "n/a", "n/a"},
	}
	for _, tc := range tests {
		if got := tc.v.Percent(); got != tc.percent {
			t.Errorf("%v.Percent() = %q, want %q", tc.v, got, tc.percent)
		}
		if got := tc.v.Fixed(4); got != tc.fixed4 {
			t.Errorf("%v.Fixed(4) = %q, want %q", tc.v, got, tc.fixed4)
		}
	}
	r := Rate{CI: Interval{Low: Of(0.0916), High: Of(0.1401)}}
	if got := r.Interval(); got != "[9.16%, 14.01%]" {
		t.Errorf("Interval() = %q", got)
	}
	if got := (Rate{}).Interval(); got != "n/a" {
		t.Errorf("undefined Interval() = %q, want n/a", got)
	}
}
