package metrics

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"
)

// bruteAUC is the O(n²) definition: the share of (bona fide, attack) pairs with the bona fide
// score higher, ties counting one half.
func bruteAUC(bona, attack []float64) float64 {
	var wins float64
	for _, b := range bona {
		for _, a := range attack {
			switch {
			case b > a:
				wins++
			case b == a:
				wins += 0.5
			}
		}
	}
	return wins / float64(len(bona)*len(attack))
}

func TestAUCMatchesPairwise(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for trial := range 200 {
		nb, na := 1+rng.IntN(120), 1+rng.IntN(120)
		// Every third trial quantises scores to a coarse grid so that ties are common.
		grid := 0.0
		if trial%3 == 0 {
			grid = 0.05
		}
		draw := func(n int, mean float64) []float64 {
			s := make([]float64, n)
			for i := range s {
				x := rng.NormFloat64()*0.25 + mean
				if grid > 0 {
					x = math.Round(x/grid) * grid
				}
				s[i] = x
			}
			return s
		}
		bona, attack := draw(nb, 0.6), draw(na, 0.4)
		got, err := AUC(bona, attack)
		if err != nil {
			t.Fatal(err)
		}
		if want := bruteAUC(bona, attack); !got.Valid || math.Abs(got.Float64-want) > 1e-12 {
			t.Fatalf("trial %d (%d bona fide, %d attacks): AUC = %v; pairwise = %v", trial, nb, na, got, want)
		}
	}
}

func TestCurveRatesMatchCounting(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for trial := range 50 {
		bona := make([]float64, 1+rng.IntN(40))
		attack := make([]float64, 1+rng.IntN(40))
		for i := range bona {
			bona[i] = float64(rng.IntN(20)) / 20
		}
		for i := range attack {
			attack[i] = float64(rng.IntN(20)) / 20
		}
		c, err := NewCurve(bona, attack)
		if err != nil {
			t.Fatal(err)
		}
		distinct := map[float64]bool{}
		for _, x := range append(append([]float64{}, bona...), attack...) {
			distinct[x] = true
		}
		if len(c) != len(distinct)+1 {
			t.Fatalf("trial %d: %d points for %d distinct scores; want one more", trial, len(c), len(distinct))
		}
		for k, p := range c {
			if k > 0 && !(p.Threshold > c[k-1].Threshold) {
				t.Fatalf("trial %d: thresholds not ascending at %d", trial, k)
			}
			var fa, fr int
			for _, a := range attack {
				if a >= p.Threshold {
					fa++
				}
			}
			for _, b := range bona {
				if b < p.Threshold {
					fr++
				}
			}
			if p.APCER != float64(fa)/float64(len(attack)) || p.BPCER != float64(fr)/float64(len(bona)) {
				t.Fatalf("trial %d point %d = %+v; counting gives APCER %d/%d, BPCER %d/%d", trial, k, p, fa, len(attack), fr, len(bona))
			}
		}
		if first, last := c[0], c[len(c)-1]; first.APCER != 1 || first.BPCER != 0 || last.APCER != 0 || last.BPCER != 1 {
			t.Fatalf("trial %d: curve runs from %+v to %+v", trial, first, last)
		}
	}
}

func TestCurveHandComputed(t *testing.T) {
	// bona fide 0.4 0.6 0.8 0.9; attacks 0.1 0.2 0.3 0.5 0.6 0.7.
	//  t     APCER(#a≥t/6) BPCER(#b<t/4) APCER−BPCER
	//  0.1   6/6           0/4            1
	//  0.2   5/6           0              0.833
	//  0.3   4/6           0              0.667
	//  0.4   3/6           0              0.5
	//  0.5   3/6           1/4            0.25
	//  0.6   2/6           1/4            0.0833
	//  0.7   1/6           2/4           −0.333
	//  0.8   0             2/4
	//  0.9   0             3/4
	//  0.9⁺  0             1
	// EER: sign change between 0.6 and 0.7, f = (1/12)/(1/12 + 1/3) = 0.2,
	//      EER = 1/3 + 0.2·(1/6 − 1/3) = 0.3 (= 1/4 + 0.2·(1/2 − 1/4)), threshold 0.6 + 0.2·0.1 = 0.62.
	// AUC: bona fide 0.4 beats 3 attacks, 0.6 beats 4 and ties 1, 0.8 and 0.9 beat 6: 19.5/24.
	bona := []float64{0.8, 0.4, 0.9, 0.6}
	attack := []float64{0.5, 0.1, 0.7, 0.3, 0.6, 0.2}
	c, err := NewCurve(bona, attack)
	if err != nil {
		t.Fatal(err)
	}
	want := []CurvePoint{
		{0.1, 1, 0}, {0.2, 5.0 / 6, 0}, {0.3, 4.0 / 6, 0}, {0.4, 3.0 / 6, 0}, {0.5, 3.0 / 6, 0.25},
		{0.6, 2.0 / 6, 0.25}, {0.7, 1.0 / 6, 0.5}, {0.8, 0, 0.5}, {0.9, 0, 0.75},
		{math.Nextafter(0.9, 2), 0, 1},
	}
	if len(c) != len(want) {
		t.Fatalf("curve has %d points; want %d: %+v", len(c), len(want), c)
	}
	for k := range want {
		if c[k] != want[k] {
			t.Errorf("point %d = %+v; want %+v", k, c[k], want[k])
		}
	}
	eer, thr := c.EER()
	if !near(eer, 0.3) || !near(thr, 0.62) {
		t.Errorf("EER = %v at %v; want 0.3 at 0.62", eer, thr)
	}
	if auc, _ := AUC(bona, attack); !near(auc, 19.5/24) {
		t.Errorf("AUC = %v; want %v", auc, 19.5/24)
	}
	ops := []struct {
		op                      OperatingPoint
		name                    string
		threshold, apcer, bpcer float64
	}{
		{c.AtAPCER(0.01), "BPCER@APCER=1%", 0.8, 0, 0.5},
		{c.AtAPCER(0.2), "BPCER@APCER=20%", 0.7, 1.0 / 6, 0.5},
		{c.AtAPCER(0.5), "BPCER@APCER=50%", 0.4, 0.5, 0},
		{c.AtBPCER(0.01), "APCER@BPCER=1%", 0.4, 0.5, 0},
		{c.AtBPCER(0.25), "APCER@BPCER=25%", 0.6, 1.0 / 3, 0.25},
		{c.AtBPCER(0.5), "APCER@BPCER=50%", 0.8, 0, 0.5},
	}
	for _, tt := range ops {
		if tt.op.Name != tt.name || !near(tt.op.Threshold, tt.threshold) || !near(tt.op.APCER, tt.apcer) || !near(tt.op.BPCER, tt.bpcer) {
			t.Errorf("%s = %+v; want threshold %v APCER %v BPCER %v", tt.name, tt.op, tt.threshold, tt.apcer, tt.bpcer)
		}
	}
}

func TestCurveEdgeCases(t *testing.T) {
	// All scores equal: one point accepting everything, one rejecting everything; the EER is
	// halfway along the segment between them and the AUC is ½.
	c, _ := NewCurve([]float64{0.5, 0.5}, []float64{0.5, 0.5, 0.5})
	if len(c) != 2 {
		t.Fatalf("all-tied curve = %+v; want 2 points", c)
	}
	if eer, thr := c.EER(); !near(eer, 0.5) || !near(thr, 0.5) {
		t.Errorf("all-tied EER = %v at %v; want 0.5 at 0.5", eer, thr)
	}
	if auc, _ := AUC([]float64{0.5, 0.5}, []float64{0.5, 0.5, 0.5}); !near(auc, 0.5) {
		t.Errorf("all-tied AUC = %v; want 0.5", auc)
	}
	// Perfect separation: EER 0 at the lowest bona fide score.
	c, _ = NewCurve([]float64{0.7, 0.9}, []float64{0.1, 0.2})
	if eer, thr := c.EER(); !near(eer, 0) || !near(thr, 0.7) {
		t.Errorf("separable EER = %v at %v; want 0 at 0.7", eer, thr)
	}
	// One class empty: no curve, undefined metrics, no panic.
	for _, tt := range []struct{ bona, attack []float64 }{{nil, []float64{0.3}}, {[]float64{0.3}, nil}, {nil, nil}} {
		c, err := NewCurve(tt.bona, tt.attack)
		if err != nil || c != nil {
			t.Errorf("NewCurve(%v, %v) = %v, %v; want nil, nil", tt.bona, tt.attack, c, err)
		}
		eer, thr := c.EER()
		if eer.Valid || thr.Valid || c.AtAPCER(0.05).BPCER.Valid || c.AtBPCER(0.05).APCER.Valid {
			t.Errorf("empty curve gives defined EER or operating points")
		}
		if auc, _ := AUC(tt.bona, tt.attack); auc.Valid {
			t.Errorf("AUC(%v, %v) = %v; want undefined", tt.bona, tt.attack, auc)
		}
	}
	// The largest float64 has no representable threshold above it: no reject-all point, but
	// the EER is still defined.
	c, _ = NewCurve([]float64{math.MaxFloat64}, []float64{math.MaxFloat64})
	if eer, _ := c.EER(); len(c) != 1 || !eer.Valid {
		t.Errorf("curve at MaxFloat64 = %+v, EER %v", c, eer)
	}
}

func TestCurveRejectsNonFinite(t *testing.T) {
	for _, bad := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
		if _, err := NewCurve([]float64{0.1, bad}, []float64{0.2}); !errors.Is(err, ErrScore) {
			t.Errorf("NewCurve with %v: err = %v; want ErrScore", bad, err)
		}
		if _, err := AUC([]float64{0.1}, []float64{bad}); !errors.Is(err, ErrScore) {
			t.Errorf("AUC with %v: err = %v; want ErrScore", bad, err)
		}
	}
}

func TestPercent(t *testing.T) {
	for rate, want := range map[float64]string{0.01: "1%", 0.05: "5%", 0.1: "10%", 0.001: "0.1%", 0.07: "7%", 0: "0%", 1: "100%"} {
		if got := percent(rate); got != want {
			t.Errorf("percent(%v) = %q; want %q", rate, got, want)
		}
	}
}

// near reports whether v is defined and within 1e-12 of want.
func near(v Value, want float64) bool {
	return v.Valid && math.Abs(v.Float64-want) <= 1e-12
}
