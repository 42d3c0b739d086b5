package metrics

import (
	"testing"
)

func TestCompare(t *testing.T) {
	base, err := Evaluate(handSamples(), 0.55, Options{})
	if err != nil {
		t.Fatal(err)
	}
	// Current: p1 (print, 0.7) now scores 0.2 and b1 (0.9) now 0.5, and a "mask" species appears.
	// At 0.55: print APCER 1/3 → 0, BPCER 1/4 → 2/4, worst-case APCER stays 1/2 (replay).
	// AUC: bona fide {0.4 0.5 0.6 0.8} vs attacks {0.1 0.2 0.2 0.3 0.5 0.6 0.9}:
	// 0.4 beats 4, 0.5 beats 4 ties 1, 0.6 beats 5 ties 1, 0.8 beats 6 → 20/28 = 0.714 (was 0.8125).
	samples := handSamples()
	samples[0].Score = 0.5
	samples[5].Score = 0.2
	samples = append(samples, Sample{Label: Attack, Species: "mask", Score: 0.9})
	current, err := Evaluate(samples, 0.55, Options{})
	if err != nil {
		t.Fatal(err)
	}
	diffs := Compare(base, current, 0.05)
	byMetric := map[string]Diff{}
	for _, d := range diffs {
		byMetric[d.Metric] = d
	}
	tests := []struct {
		metric      string
		worse       bool
		delta       float64
		deltaValid  bool
		higherIsBet bool
	}{
		{"apcer", true, 1 - 0.5, true, false}, // mask 1/1 is the new worst case
		{"bpcer", true, 0.25, true, false},
		{"auc", true, 20.0/28 - 19.5/24, true, true},
		{"species.print.apcer", false, -1.0 / 3, true, false}, // better, not worse
		{"species.replay.apcer", false, 0, true, false},
		{"species.mask.apcer", false, 0, false, false},        // only in current: listed, not comparable
		{"species.print.auc", false, 1 - 10.0/12, true, true}, // print {0.2 0.3 0.2} now below every bona fide
		// BPCER@APCER=5% lets no attack through: base threshold 0.8 (BPCER 2/4); current must
		// reject the mask attack at 0.9, so everything is rejected (BPCER 4/4).
		{"BPCER@APCER=5%", true, 0.5, true, false},
	}
	for _, tt := range tests {
		d, ok := byMetric[tt.metric]
		if !ok {
			t.Errorf("no diff for %s in %v", tt.metric, diffs)
			continue
		}
		if d.Worse != tt.worse || d.Delta.Valid != tt.deltaValid || (tt.deltaValid && !near(d.Delta, tt.delta)) || d.HigherIsBetter != tt.higherIsBet {
			t.Errorf("%s: %+v; want worse %v, delta %v (defined %v), higher is better %v", tt.metric, d, tt.worse, tt.delta, tt.deltaValid, tt.higherIsBet)
		}
	}
	if diffs[0].Metric != "apcer" {
		t.Errorf("first diff is %s; want apcer", diffs[0].Metric)
	}

	// The same report is never worse than itself, and a huge tolerance forgives everything.
	if reg := Regressions(Compare(base, base, 0)); len(reg) != 0 {
		t.Errorf("report regresses against itself: %+v", reg)
	}
	if reg := Regressions(Compare(base, current, 1)); len(reg) != 0 {
		t.Errorf("tolerance 1 still reports %+v", reg)
	}
	reg := Regressions(diffs)
	if len(reg) == 0 {
		t.Fatal("no regressions found")
	}
	for _, d := range reg {
		if !d.Worse {
			t.Errorf("Regressions returned %+v", d)
		}
	}
}

func TestCompareDirection(t *testing.T) {
	// An AUC rise and an APCER fall are improvements; the reverse are regressions.
	good := Report{APCER: Rate{Value: Of(0.1)}, AUC: Of(0.95)}
	bad := Report{APCER: Rate{Value: Of(0.2)}, AUC: Of(0.90)}
	for _, tt := range []struct {
		base, current Report
		want          []string
	}{
		{good, bad, []string{"apcer", "auc"}},
		{bad, good, nil},
	} {
		var got []string
		for _, d := range Regressions(Compare(tt.base, tt.current, 0.01)) {
			got = append(got, d.Metric)
		}
		if len(got) != len(tt.want) || (len(got) > 0 && (got[0] != tt.want[0] || got[1] != tt.want[1])) {
			t.Errorf("regressions %v; want %v", got, tt.want)
		}
	}
}
