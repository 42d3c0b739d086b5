package metrics

import (
	"encoding/json"
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"
)

// handSamples is a small set whose every metric is computed by hand below.
//
//	bona fide: 0.9 0.8 0.6 0.4, one without a face
//	print:     0.7 0.3 0.2
//	replay:    0.6 0.5, one unreadable
//	(no type): 0.1                      → species "unknown"
//
// At threshold 0.55 (score ≥ 0.55 → bona fide):
//
//	            classified bona fide  classified attack  no face  unreadable  total
//	bona fide   3 (0.9 0.8 0.6)       1 (0.4)            1        0           5
//	print       1 (0.7)               2                  0        0           3
//	replay      1 (0.6)               1 (0.5)            0        1           3
//	unknown     0                     1 (0.1)            0        0           1
//
//	BPCER = 1/4, BPNRR = 1/5; APCER print 1/3, replay 1/2, unknown 0/1;
//	APCER = max = 1/2 (replay); pooled APCER = 2/6; APNRR = 1/7 (replay 1/3);
//	ACER = (1/2 + 1/4)/2 = 3/8.
//
// The pooled scores are those of TestCurveHandComputed: AUC 19.5/24, EER 0.3 at 0.62.
// Species AUC against the four bona fide scores: print {0.2 0.3 0.7}: 2+2+3+3 = 10/12;
// replay {0.5 0.6}: 0+1.5+2+2 = 5.5/8; unknown {0.1}: 4/4.
func handSamples() []Sample {
	return []Sample{
		{ID: "b1", Label: BonaFide, Score: 0.9},
		{ID: "b2", Label: BonaFide, Score: 0.8},
		{ID: "b3", Label: BonaFide, Score: 0.6},
		{ID: "b4", Label: BonaFide, Score: 0.4},
		{ID: "b5", Label: BonaFide, NonResponse: NoFace, Score: math.NaN()},
		{ID: "p1", Label: Attack, Species: "print", Score: 0.7},
		{ID: "p2", Label: Attack, Species: "print", Score: 0.3},
		{ID: "p3", Label: Attack, Species: "Print ", Score: 0.2},
		{ID: "r1", Label: Attack, Species: "replay", Score: 0.6},
		{ID: "r2", Label: Attack, Species: "replay", Score: 0.5},
		{ID: "r3", Label: Attack, Species: "replay", NonResponse: Unreadable},
		{ID: "u1", Label: Attack, Score: 0.1},
	}
}

func TestEvaluateHandComputed(t *testing.T) {
	r, err := Evaluate(handSamples(), 0.55, Options{Targets: []float64{0.01, 0.2}})
	if err != nil {
		t.Fatal(err)
	}
	wantCounts := Counts{
		BonaFide: ClassCounts{Total: 5, ClassifiedBonaFide: 3, ClassifiedAttack: 1, NoFace: 1},
		Attack:   ClassCounts{Total: 7, ClassifiedBonaFide: 2, ClassifiedAttack: 4, Unreadable: 1},
	}
	if r.Counts != wantCounts {
		t.Errorf("Counts = %+v; want %+v", r.Counts, wantCounts)
	}
	rates := []struct {
		name         string
		got          Rate
		count, total int
	}{
		{"BPCER", r.BPCER, 1, 4},
		{"BPNRR", r.BPNRR, 1, 5},
		{"APCER", r.APCER, 1, 2},
		{"APCERPooled", r.APCERPooled, 2, 6},
		{"APNRR", r.APNRR, 1, 7},
		{"print APCER", r.Species["print"].APCER, 1, 3},
		{"replay APCER", r.Species["replay"].APCER, 1, 2},
		{"replay APNRR", r.Species["replay"].APNRR, 1, 3},
		{"unknown APCER", r.Species["unknown"].APCER, 0, 1},
	}
	for _, tt := range rates {
		lo, hi, _ := Wilson(tt.count, tt.total, 0.95)
		if tt.got.Count != tt.count || tt.got.Total != tt.total || !near(tt.got.Value, float64(tt.count)/float64(tt.total)) ||
			!near(tt.got.CI.Low, lo) || !near(tt.got.CI.High, hi) || tt.got.CI.Level != 0.95 {
			t.Errorf("%s = %+v; want %d/%d with its Wilson interval", tt.name, tt.got, tt.count, tt.total)
		}
	}
	if r.APCERSpecies != "replay" {
		t.Errorf("APCERSpecies = %q; want replay", r.APCERSpecies)
	}
	if len(r.Species) != 3 {
		t.Errorf("species = %v; want print, replay, unknown", r.Species)
	}
	values := []struct {
		name string
		got  Value
		want float64
	}{
		{"ACER", r.ACER, 3.0 / 8},
		{"AUC", r.AUC, 19.5 / 24},
		{"EER", r.EER, 0.3},
		{"EERThreshold", r.EERThreshold, 0.62},
		{"print AUC", r.Species["print"].AUC, 10.0 / 12},
		{"replay AUC", r.Species["replay"].AUC, 5.5 / 8},
		{"unknown AUC", r.Species["unknown"].AUC, 1},
		{"BPCER@APCER=1%", r.BPCERAtAPCER[0].BPCER, 0.5},
		{"BPCER@APCER=20% threshold", r.BPCERAtAPCER[1].Threshold, 0.7},
		{"APCER@BPCER=20%", r.APCERAtBPCER[1].APCER, 0.5},
	}
	for _, tt := range values {
		if !near(tt.got, tt.want) {
			t.Errorf("%s = %v; want %v", tt.name, tt.got, tt.want)
		}
	}
	// Worst case: at 0.7 print's APCER is 1/3 (pooled 1/6 meets 20%); at 0.8 every species'
	// is 0, BPCER 2/4. The recommended threshold is the worst-case one, so a max_apcer gate at
	// the target holds there.
	for k, target := range []float64{0.01, 0.2} {
		op := r.BPCERAtWorstAPCER[k]
		if op.Target != target || !near(op.Threshold, 0.8) || !near(op.APCER, 0) || !near(op.BPCER, 0.5) || op.APCERSpecies != "print" {
			t.Errorf("BPCERAtWorstAPCER[%d] = %+v; want threshold 0.8, APCER 0 (print), BPCER 0.5", k, op)
		}
	}
	if op, ok := r.RecommendedThreshold(0.2); !ok || !near(op.Threshold, 0.8) {
		t.Errorf("RecommendedThreshold(0.2) = %+v, %v; want threshold 0.8", op, ok)
	}
	worst := Options{Targets: []float64{0.34}}
	if r, err := Evaluate(handSamples(), 0.55, worst); err != nil || !near(r.BPCERAtWorstAPCER[0].Threshold, 0.7) ||
		!near(r.BPCERAtWorstAPCER[0].APCER, 1.0/3) || r.BPCERAtWorstAPCER[0].APCERSpecies != "print" {
		t.Errorf("at target 0.34: %+v, %v; want threshold 0.7, APCER 1/3 of print", r.BPCERAtWorstAPCER, err)
	}
	if _, ok := r.RecommendedThreshold(0.3); ok {
		t.Error("RecommendedThreshold(0.3) found a point that was not asked for")
	}
	if len(r.Curve) != 10 || len(r.Warnings) != 0 {
		t.Errorf("curve has %d points, warnings %q; want 10 points, no warnings", len(r.Curve), r.Warnings)
	}

	// The recommended threshold reproduces its operating point when evaluated at.
	op := r.BPCERAtAPCER[1]
	at, err := Evaluate(handSamples(), op.Threshold.Float64, Options{OmitCurve: true})
	if err != nil {
		t.Fatal(err)
	}
	if at.APCERPooled.Value != op.APCER || at.BPCER.Value != op.BPCER || at.Curve != nil {
		t.Errorf("at threshold %v: pooled APCER %v, BPCER %v, %d curve points; operating point says %v, %v",
			op.Threshold, at.APCERPooled.Value, at.BPCER.Value, len(at.Curve), op.APCER, op.BPCER)
	}
}

func TestEvaluateEdgeCases(t *testing.T) {
	live := func(score float64) Sample { return Sample{Label: BonaFide, Score: score} }
	spoof := func(species string, score float64) Sample {
		return Sample{Label: Attack, Species: species, Score: score}
	}
	noFace := func(l Label) Sample { return Sample{Label: l, NonResponse: NoFace, Score: math.NaN()} }
	tests := []struct {
		name    string
		samples []Sample
		opts    Options
		// defined lists which of apcer, bpcer, acer, auc, eer are defined; the rest must not be.
		defined string
		warning string // a substring one warning must contain; "" means no warnings
		check   func(t *testing.T, r Report)
	}{
		{
			name: "empty", defined: "", warning: "no presentations",
		},
		{
			name: "all live", samples: []Sample{live(0.9), live(0.3), live(0.6)},
			defined: "bpcer", warning: "no scored attack presentations",
			check: func(t *testing.T, r Report) {
				if !near(r.BPCER.Value, 1.0/3) || len(r.Species) != 0 || r.APCERSpecies != "" {
					t.Errorf("BPCER %v, species %v", r.BPCER.Value, r.Species)
				}
			},
		},
		{
			name: "all spoof", samples: []Sample{spoof("print", 0.9), spoof("replay", 0.1), spoof("replay", 0.2)},
			defined: "apcer", warning: "no scored bona fide presentations",
			check: func(t *testing.T, r Report) {
				if !near(r.APCER.Value, 1) || r.APCERSpecies != "print" || !near(r.APCERPooled.Value, 1.0/3) || r.Species["print"].AUC.Valid {
					t.Errorf("APCER %v (%s), pooled %v, print AUC %v", r.APCER.Value, r.APCERSpecies, r.APCERPooled.Value, r.Species["print"].AUC)
				}
			},
		},
		{
			name:    "expected species missing",
			samples: []Sample{live(0.9), live(0.2), spoof("print", 0.6), spoof("print", 0.1)},
			opts:    Options{Species: []string{"print", "Replay"}},
			defined: "apcer bpcer acer auc eer", warning: `species "replay" has no presentations`,
			check: func(t *testing.T, r Report) {
				rep, ok := r.Species["replay"]
				if !ok || rep.APCER.Value.Valid || rep.AUC.Valid || rep.Counts.Total != 0 {
					t.Errorf("replay entry = %+v, %v; want present and undefined", rep, ok)
				}
				if r.APCERSpecies != "print" || !near(r.APCER.Value, 0.5) {
					t.Errorf("APCER %v (%s); want 0.5 from print", r.APCER.Value, r.APCERSpecies)
				}
			},
		},
		{
			name:    "species with only non-responses",
			samples: []Sample{live(0.9), live(0.2), spoof("print", 0.6), {Label: Attack, Species: "replay", NonResponse: Unreadable}},
			defined: "apcer bpcer acer auc eer", warning: `species "replay" has no scored presentations (1 non-responses)`,
			check: func(t *testing.T, r Report) {
				if r.APCERSpecies != "print" || !near(r.Species["replay"].APNRR.Value, 1) || !near(r.APNRR.Value, 0.5) {
					t.Errorf("APCER from %q, replay APNRR %v, APNRR %v", r.APCERSpecies, r.Species["replay"].APNRR.Value, r.APNRR.Value)
				}
			},
		},
		{
			name:    "every sample a non-response",
			samples: []Sample{noFace(BonaFide), noFace(Attack), {Label: Attack, Species: "print", NonResponse: Unreadable}},
			defined: "", warning: "every one a non-response",
			check: func(t *testing.T, r Report) {
				if !near(r.BPNRR.Value, 1) || !near(r.APNRR.Value, 1) || r.Counts.Attack.NoFace != 1 || r.Counts.Attack.Unreadable != 1 {
					t.Errorf("BPNRR %v, APNRR %v, counts %+v", r.BPNRR.Value, r.APNRR.Value, r.Counts)
				}
			},
		},
		{
			name:    "all tied",
			samples: []Sample{live(0.55), live(0.55), spoof("print", 0.55), spoof("replay", 0.55)},
			defined: "apcer bpcer acer auc eer",
			check: func(t *testing.T, r Report) {
				// Every score equals the threshold, so everything is accepted.
				if !near(r.AUC, 0.5) || !near(r.EER, 0.5) || !near(r.APCER.Value, 1) || !near(r.BPCER.Value, 0) {
					t.Errorf("AUC %v, EER %v, APCER %v, BPCER %v", r.AUC, r.EER, r.APCER.Value, r.BPCER.Value)
				}
			},
		},
		{
			name: "single live sample", samples: []Sample{live(0.1)},
			defined: "bpcer", warning: "no scored attack presentations",
			check: func(t *testing.T, r Report) {
				if !near(r.BPCER.Value, 1) || !near(r.BPCER.CI.High, 1) || r.BPCER.CI.Low.Float64 <= 0 {
					t.Errorf("BPCER = %+v", r.BPCER)
				}
			},
		},
		{
			name: "single attack sample", samples: []Sample{spoof("", 0.1)},
			defined: "apcer", warning: "no scored bona fide presentations",
			check: func(t *testing.T, r Report) {
				if r.APCERSpecies != UnknownSpecies || !near(r.APCER.Value, 0) {
					t.Errorf("APCER %v from %q", r.APCER.Value, r.APCERSpecies)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := Evaluate(tt.samples, DefaultThreshold, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			for name, v := range map[string]Value{"apcer": r.APCER.Value, "bpcer": r.BPCER.Value, "acer": r.ACER, "auc": r.AUC, "eer": r.EER} {
				if want := strings.Contains(tt.defined, name); v.Valid != want {
					t.Errorf("%s = %v; defined should be %v", name, v, want)
				}
			}
			for _, op := range append(r.BPCERAtAPCER, r.APCERAtBPCER...) {
				if op.Threshold.Valid != r.AUC.Valid {
					t.Errorf("%s defined = %v while AUC defined = %v", op.Name, op.Threshold.Valid, r.AUC.Valid)
				}
			}
			if tt.warning == "" && len(r.Warnings) > 0 {
				t.Errorf("warnings %q; want none", r.Warnings)
			}
			if tt.warning != "" && !strings.Contains(strings.Join(r.Warnings, "\n"), tt.warning) {
				t.Errorf("warnings %q; want one containing %q", r.Warnings, tt.warning)
			}
			// encoding/json refuses NaN and ±Inf, so a successful encoding proves there are none.
			if _, err := json.Marshal(r); err != nil {
				t.Errorf("report does not encode: %v", err)
			}
			if tt.check != nil {
				tt.check(t, r)
			}
		})
	}
}

func TestEvaluateErrors(t *testing.T) {
	tests := []struct {
		name      string
		samples   []Sample
		threshold float64
		opts      Options
		is        error  // when set, errors.Is must hold
		mention   string // the error must contain this
	}{
		{"unset label", []Sample{{ID: "live/1.jpg", Score: 0.5}}, 0.55, Options{}, ErrLabel, "live/1.jpg"},
		{"NaN score", []Sample{{Label: BonaFide, Score: math.NaN()}}, 0.55, Options{}, ErrScore, "sample 0"},
		{"infinite score", []Sample{{Label: BonaFide}, {ID: "x.png", Label: Attack, Score: math.Inf(1)}}, 0.55, Options{}, ErrScore, "sample 1 (x.png)"},
		{"unknown non-response", []Sample{{Label: Attack, NonResponse: 9}}, 0.55, Options{}, nil, "non-response reason 9"},
		{"NaN threshold", nil, math.NaN(), Options{}, nil, "threshold"},
		{"target above 1", nil, 0.55, Options{Targets: []float64{1.5}}, nil, "target rate 1.5"},
		{"NaN target", nil, 0.55, Options{Targets: []float64{math.NaN()}}, nil, "target rate NaN"},
		{"confidence 1", nil, 0.55, Options{Confidence: 1}, nil, "confidence level 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Evaluate(tt.samples, tt.threshold, tt.opts)
			if err == nil || !strings.Contains(err.Error(), tt.mention) || (tt.is != nil && !errors.Is(err, tt.is)) {
				t.Errorf("err = %v; want one mentioning %q (is %v)", err, tt.mention, tt.is)
			}
		})
	}
}

func TestReportJSONRoundTrip(t *testing.T) {
	r, err := Evaluate(handSamples(), 0.55, Options{Species: []string{"mask"}})
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{`"apcer_pooled":{"value":0.3333`, `"classified_bona_fide":3`, `"bpcer_at_apcer":[{"name":"BPCER@APCER=1%"`, `"species":{"mask":{`, `"auc":null`, `"eer_threshold":0.62`} {
		if !strings.Contains(string(b), key) {
			t.Errorf("JSON lacks %s:\n%s", key, b)
		}
	}
	var back Report
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, r) {
		t.Errorf("round trip changed the report:\n got %+v\nwant %+v", back, r)
	}
}

func TestParseLabel(t *testing.T) {
	for in, want := range map[string]Label{"live": BonaFide, "Bona_Fide": BonaFide, " bonafide ": BonaFide, "spoof": Attack, "ATTACK": Attack} {
		if got, err := ParseLabel(in); err != nil || got != want {
			t.Errorf("ParseLabel(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	if _, err := ParseLabel("maybe"); !errors.Is(err, ErrLabel) || !strings.Contains(err.Error(), `"maybe"`) {
		t.Errorf(`ParseLabel("maybe") err = %v`, err)
	}
	var l Label
	if err := json.Unmarshal([]byte(`"spoof"`), &l); err != nil || l != Attack {
		t.Errorf(`Unmarshal("spoof") = %v, %v`, l, err)
	}
	if b, err := json.Marshal(BonaFide); err != nil || string(b) != `"bona_fide"` {
		t.Errorf("Marshal(BonaFide) = %s, %v", b, err)
	}
	if _, err := json.Marshal(Label(0)); err == nil {
		t.Error("Marshal(Label(0)) succeeded")
	}
}

// TestWorstAPCERAtTargetExactly: a worst-case APCER equal to the target meets it (≤), so the
// recommended point is the lowest threshold where 1 of 4 attacks passes, not a higher one.
func TestWorstAPCERAtTargetExactly(t *testing.T) {
	samples := []Sample{
		{ID: "b1", Label: BonaFide, Score: 0.5}, {ID: "b2", Label: BonaFide, Score: 0.6}, {ID: "b3", Label: BonaFide, Score: 0.95},
		{ID: "p1", Label: Attack, Species: "print", Score: 0.1}, {ID: "p2", Label: Attack, Species: "print", Score: 0.2},
		{ID: "p3", Label: Attack, Species: "print", Score: 0.3}, {ID: "p4", Label: Attack, Species: "print", Score: 0.9},
	}
	r, err := Evaluate(samples, 0.55, Options{Targets: []float64{0.25}})
	if err != nil {
		t.Fatal(err)
	}
	op := r.BPCERAtWorstAPCER[0]
	if op.Threshold.Or(-1) != 0.5 || op.APCER.Or(-1) != 0.25 || op.BPCER.Or(-1) != 0 || op.APCERSpecies != "print" {
		t.Errorf("point %+v, want threshold 0.5 with APCER 0.25 (print) and BPCER 0", op)
	}
}

// TestWilsonEnds: at 0 of n the lower bound is exactly 0 and at n of n the upper exactly 1,
// for every n (the formula's rounding leaves about a quarter of them a hair off otherwise).
func TestWilsonEnds(t *testing.T) {
	for n := 1; n <= 500; n++ {
		if lo, _, _ := Wilson(0, n, 0.95); lo != 0 {
			t.Fatalf("Wilson(0, %d) lower bound %g, want 0", n, lo)
		}
		if _, hi, _ := Wilson(n, n, 0.95); hi != 1 {
			t.Fatalf("Wilson(%d, %d) upper bound %g, want 1", n, n, hi)
		}
	}
}
