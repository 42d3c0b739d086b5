package metrics

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
)

// ErrScore is returned (wrapped) for a scored presentation whose score is NaN or infinite.
var ErrScore = errors.New("score is not a finite number")

// CurvePoint is the pooled error rates when the decision threshold is Threshold.
type CurvePoint struct {
	Threshold float64 `json:"threshold"`
	APCER     float64 `json:"apcer"` // attacks with score ≥ Threshold / all scored attacks
	BPCER     float64 `json:"bpcer"` // bona fide with score < Threshold / all scored bona fide
}

// Curve is the ROC/DET curve in order of ascending threshold: one point per distinct score plus a
// last point just above the highest score (when that is representable), so APCER falls from 1 to
// 0 and BPCER rises from 0 to 1 along it. Plot BPCER against APCER for a DET curve (on probit
// axes) and 1−BPCER against APCER for a ROC curve. A nil Curve means one class had no scores.
type Curve []CurvePoint

// NewCurve builds the curve of bona fide scores against attack scores. The slices are not
// modified. It returns a nil Curve when either is empty, and ErrScore for a non-finite score.
func NewCurve(bonaFide, attack []float64) (Curve, error) {
	b, a, err := sortedCopies(bonaFide, attack)
	if err != nil {
		return nil, err
	}
	return curveSorted(b, a), nil
}

// AUC returns the ROC AUC of bona fide scores against attack scores (the Mann–Whitney statistic,
// ties counting one half), undefined when either slice is empty, and ErrScore for a non-finite
// score.
func AUC(bonaFide, attack []float64) (Value, error) {
	b, a, err := sortedCopies(bonaFide, attack)
	if err != nil {
		return Value{}, err
	}
	return aucSorted(b, a), nil
}

func sortedCopies(bonaFide, attack []float64) (b, a []float64, err error) {
	for _, s := range [][]float64{bonaFide, attack} {
		for i, x := range s {
			if math.IsNaN(x) || math.IsInf(x, 0) {
				return nil, nil, fmt.Errorf("score %d (%v): %w", i, x, ErrScore)
			}
		}
	}
	b, a = slices.Clone(bonaFide), slices.Clone(attack)
	slices.Sort(b)
	slices.Sort(a)
	return b, a, nil
}

// curveSorted builds the curve from ascending, finite scores by merging the two lists.
func curveSorted(b, a []float64) Curve {
	nb, na := len(b), len(a)
	if nb == 0 || na == 0 {
		return nil
	}
	c := make(Curve, 0, nb+na+1)
	i, j := 0, 0 // i bona fide and j attack scores are below the current threshold
	for i < nb || j < na {
		t := math.Inf(1)
		if i < nb {
			t = b[i]
		}
		if j < na && a[j] < t {
			t = a[j]
		}
		c = append(c, CurvePoint{
			Threshold: t,
			APCER:     float64(na-j) / float64(na),
			BPCER:     float64(i) / float64(nb),
		})
		for i < nb && b[i] == t {
			i++
		}
		for j < na && a[j] == t {
			j++
		}
	}
	if top := math.Nextafter(max(b[nb-1], a[na-1]), math.Inf(1)); !math.IsInf(top, 0) {
		c = append(c, CurvePoint{Threshold: top, APCER: 0, BPCER: 1})
	}
	return c
}

// aucSorted is the Mann–Whitney AUC of ascending, finite scores, computed in one merge pass:
// each bona fide score counts the attack scores strictly below it plus half of those equal.
func aucSorted(b, a []float64) Value {
	nb, na := len(b), len(a)
	if nb == 0 || na == 0 {
		return Value{}
	}
	var wins float64 // number of (bona fide, attack) pairs ordered correctly, ties as ½
	i, j := 0, 0
	for i < nb {
		t := b[i]
		for j < na && a[j] < t {
			j++
		}
		below := j
		for j < na && a[j] == t {
			j++
		}
		tied := j - below
		cb := 0
		for i < nb && b[i] == t {
			i++
			cb++
		}
		wins += float64(cb) * (float64(below) + 0.5*float64(tied))
	}
	return Of(wins / (float64(nb) * float64(na)))
}

// EER returns the equal error rate and its threshold, interpolated linearly on the curve segment
// where APCER − BPCER changes sign (see the package documentation). Both are undefined for an
// empty curve.
func (c Curve) EER() (eer, threshold Value) {
	for k, p := range c {
		d := p.APCER - p.BPCER
		if d > 0 {
			continue
		}
		if d == 0 || k == 0 {
			return Of(p.APCER), Of(p.Threshold)
		}
		q := c[k-1]
		dq := q.APCER - q.BPCER // > 0
		f := dq / (dq - d)      // in (0, 1]
		return Of(q.APCER + f*(p.APCER-q.APCER)), Of(q.Threshold + f*(p.Threshold-q.Threshold))
	}
	// APCER stays above BPCER: only when the reject-all point is missing (scores at the
	// largest float64); the last point is then the closest to equal.
	if len(c) == 0 {
		return Value{}, Value{}
	}
	p := c[len(c)-1]
	return Of((p.APCER + p.BPCER) / 2), Of(p.Threshold)
}

// OperatingPoint is the curve point chosen for a fixed error-rate target.
type OperatingPoint struct {
	Name      string  `json:"name"`      // e.g. "BPCER@APCER=5%"
	Target    float64 `json:"target"`    // the fixed rate, e.g. 0.05
	Threshold Value   `json:"threshold"` // decision threshold of the point (score ≥ threshold → bona fide)
	APCER     Value   `json:"apcer"`     // pooled APCER at Threshold (worst-case: see APCERSpecies)
	BPCER     Value   `json:"bpcer"`     // BPCER at Threshold
	// APCERSpecies is set on a worst-case point (Report.BPCERAtWorstAPCER): APCER is then the
	// highest species APCER at Threshold, of this species (the first by name on a tie).
	APCERSpecies string `json:"apcer_species,omitempty"`
}

// AtAPCER returns the point with the lowest BPCER whose APCER is at most target: the lowest
// threshold meeting the target. Its threshold is the recommended one for that APCER target.
// The point is undefined when the curve is empty or no point meets the target.
func (c Curve) AtAPCER(target float64) OperatingPoint {
	op := OperatingPoint{Name: "BPCER@APCER=" + percent(target), Target: target}
	for _, p := range c {
		if p.APCER <= target {
			op.Threshold, op.APCER, op.BPCER = Of(p.Threshold), Of(p.APCER), Of(p.BPCER)
			break
		}
	}
	return op
}

// atWorstAPCER returns the point of c with the lowest BPCER at which every species' APCER is at
// most target: the lowest curve threshold meeting the target for the worst species. names lists
// the species in order and scores holds each one's ascending scores; a species without scores
// has no APCER and does not count. The point is undefined when none meets the target.
func (c Curve) atWorstAPCER(target float64, names []string, scores map[string][]float64) OperatingPoint {
	op := OperatingPoint{Name: "BPCER@worst APCER=" + percent(target), Target: target}
	for _, p := range c {
		worst, species := -1.0, ""
		for _, name := range names {
			s := scores[name]
			if len(s) == 0 {
				continue
			}
			below, _ := slices.BinarySearch(s, p.Threshold) // scores < Threshold are classified attack
			if apcer := float64(len(s)-below) / float64(len(s)); apcer > worst {
				worst, species = apcer, name
			}
		}
		if species != "" && worst <= target {
			op.Threshold, op.APCER, op.BPCER, op.APCERSpecies = Of(p.Threshold), Of(worst), Of(p.BPCER), species
			break
		}
	}
	return op
}

// AtBPCER returns the point with the lowest APCER whose BPCER is at most target: the highest
// threshold meeting the target. The point is undefined when the curve is empty.
func (c Curve) AtBPCER(target float64) OperatingPoint {
	op := OperatingPoint{Name: "APCER@BPCER=" + percent(target), Target: target}
	for k := len(c) - 1; k >= 0; k-- {
		if p := c[k]; p.BPCER <= target {
			op.Threshold, op.APCER, op.BPCER = Of(p.Threshold), Of(p.APCER), Of(p.BPCER)
			break
		}
	}
	return op
}

// percent formats a rate as a percentage without float noise: 0.05 → "5%", 0.001 → "0.1%".
func percent(rate float64) string {
	return strconv.FormatFloat(math.Round(rate*1e8)/1e6, 'f', -1, 64) + "%"
}
