package metrics

import (
	"fmt"
	"math"
	"slices"
	"sort"

	"github.com/spoofsense/spoofsense/scorer"
)

// DefaultThreshold is the scorer's decision threshold on prob_real (the one the commercial API
// that spoofsense replaces documents; docs/PIPELINE.md §1.5).
const DefaultThreshold = scorer.DefaultThreshold

// DefaultConfidence is the confidence level of the intervals when [Options.Confidence] is zero.
const DefaultConfidence = 0.95

// DefaultTargets returns the fixed error rates reported when [Options.Targets] is nil:
// 1%, 5% and 10%.
func DefaultTargets() []float64 { return []float64{0.01, 0.05, 0.10} }

// Options tunes [Evaluate]. The zero Options is ready to use.
type Options struct {
	// Targets are the fixed rates of the BPCER@APCER and APCER@BPCER operating points;
	// nil means [DefaultTargets]. Each must be in [0, 1].
	Targets []float64
	// Confidence is the level of the Wilson intervals, in (0, 1); zero means DefaultConfidence.
	Confidence float64
	// Species lists PAI species that the set is expected to contain. Each gets an entry in
	// Report.Species even without presentations (undefined APCER and a warning), so a missing
	// attack type is visible instead of silently absent.
	Species []string
	// OmitCurve leaves Report.Curve nil; it holds one point per distinct score.
	OmitCurve bool
}

// ClassCounts counts the presentations of one class (or one species) by outcome: one row of the
// confusion table. Total = ClassifiedBonaFide + ClassifiedAttack + NoFace + Unreadable.
type ClassCounts struct {
	Total              int `json:"total"`
	ClassifiedBonaFide int `json:"classified_bona_fide"` // score ≥ threshold
	ClassifiedAttack   int `json:"classified_attack"`    // score < threshold
	NoFace             int `json:"no_face"`              // non-response: no face found
	Unreadable         int `json:"unreadable"`           // non-response: input unreadable
}

// Scored is the number of presentations that got a score.
func (c ClassCounts) Scored() int { return c.ClassifiedBonaFide + c.ClassifiedAttack }

// NonResponses is the number of presentations left out of the error rates.
func (c ClassCounts) NonResponses() int { return c.NoFace + c.Unreadable }

func (c *ClassCounts) add(s Sample, threshold float64) {
	c.Total++
	switch {
	case s.NonResponse == NoFace:
		c.NoFace++
	case s.NonResponse == Unreadable:
		c.Unreadable++
	case scorer.Policy{Threshold: threshold, Rule: scorer.AtLeast}.Live(s.Score):
		c.ClassifiedBonaFide++
	default:
		c.ClassifiedAttack++
	}
}

// Counts is the confusion table at the report's threshold.
type Counts struct {
	BonaFide ClassCounts `json:"bona_fide"`
	Attack   ClassCounts `json:"attack"`
}

// SpeciesReport holds the metrics of the attack presentations of one PAI species.
type SpeciesReport struct {
	Counts ClassCounts `json:"counts"`
	APCER  Rate        `json:"apcer"` // ClassifiedBonaFide / Scored
	APNRR  Rate        `json:"apnrr"` // NonResponses / Total
	AUC    Value       `json:"auc"`   // this species' attacks against all bona fide presentations
}

// Report is the outcome of [Evaluate]; its JSON form is the stable schema `spoofsense eval`
// prints. Rates left undefined by the data are JSON null, never NaN.
type Report struct {
	Threshold float64 `json:"threshold"` // score ≥ Threshold → classified bona fide
	Counts    Counts  `json:"counts"`

	// APCER is the worst-case APCER over species (ISO/IEC 30107-3), with the counts and
	// interval of that species, named by APCERSpecies. A tie goes to the first name in order.
	APCER        Rate   `json:"apcer"`
	APCERSpecies string `json:"apcer_species"`
	// APCERPooled is the APCER over all scored attack presentations regardless of species.
	APCERPooled Rate `json:"apcer_pooled"`
	BPCER       Rate `json:"bpcer"`
	// ACER is (APCER + BPCER) / 2 with the worst-case APCER: a PAD competition convention, not
	// an ISO/IEC 30107-3 metric.
	ACER  Value `json:"acer"`
	APNRR Rate  `json:"apnrr"` // attack non-responses / all attack presentations
	BPNRR Rate  `json:"bpnrr"` // bona fide non-responses / all bona fide presentations

	Species map[string]SpeciesReport `json:"species"` // by PAI species name

	// Threshold-free metrics over all attacks pooled against bona fide; see the package doc.
	AUC          Value `json:"auc"`
	EER          Value `json:"eer"`
	EERThreshold Value `json:"eer_threshold"`
	// BPCERAtAPCER has one point per target, for the pooled APCER.
	BPCERAtAPCER []OperatingPoint `json:"bpcer_at_apcer"`
	APCERAtBPCER []OperatingPoint `json:"apcer_at_bpcer"`
	// BPCERAtWorstAPCER has one point per target, like BPCERAtAPCER, but for the worst-case
	// APCER (the one APCER reports and a max_apcer gate checks): at its threshold no species'
	// APCER is above the target. Its APCER is that worst case, of the species APCERSpecies names.
	// These are the recommended thresholds (RecommendedThreshold).
	BPCERAtWorstAPCER []OperatingPoint `json:"bpcer_at_worst_apcer"`
	Curve             Curve            `json:"curve,omitempty"`

	// Warnings say in words why metrics are undefined (no bona fide presentations, a species
	// without scores, …).
	Warnings []string `json:"warnings,omitempty"`
}

// RecommendedThreshold returns the operating point for APCER target from BPCERAtWorstAPCER, and
// false when the report has no point for that target: deciding at its threshold keeps every
// species' APCER at or below target on this set, so a max_apcer gate at target holds.
func (r Report) RecommendedThreshold(target float64) (OperatingPoint, bool) {
	for _, op := range r.BPCERAtWorstAPCER {
		if op.Target == target {
			return op, true
		}
	}
	return OperatingPoint{}, false
}

// Evaluate computes the report of samples at threshold. It fails, naming the sample, on an
// invalid label, an unknown non-response reason or a non-finite score of a scored sample, and on
// invalid options; data that leave metrics undefined (no attacks, every sample a non-response…)
// are not errors but undefined values and warnings.
func Evaluate(samples []Sample, threshold float64, opts Options) (Report, error) {
	if math.IsNaN(threshold) {
		return Report{}, fmt.Errorf("threshold is NaN")
	}
	level := opts.Confidence
	if level == 0 {
		level = DefaultConfidence
	}
	if !(level > 0 && level < 1) {
		return Report{}, fmt.Errorf("confidence level %v outside (0, 1)", opts.Confidence)
	}
	targets := opts.Targets
	if targets == nil {
		targets = DefaultTargets()
	}
	for _, t := range targets {
		if !(t >= 0 && t <= 1) {
			return Report{}, fmt.Errorf("target rate %v outside [0, 1]", t)
		}
	}

	r := Report{Threshold: threshold, Species: make(map[string]SpeciesReport)}
	var bonaScores, attackScores []float64
	speciesScores := make(map[string][]float64)
	speciesCounts := make(map[string]*ClassCounts)
	for _, name := range opts.Species {
		speciesCounts[Species(name)] = &ClassCounts{}
	}
	for i, s := range samples {
		if err := validate(s); err != nil {
			if s.ID != "" {
				return Report{}, fmt.Errorf("sample %d (%s): %w", i, s.ID, err)
			}
			return Report{}, fmt.Errorf("sample %d: %w", i, err)
		}
		if s.Label == BonaFide {
			r.Counts.BonaFide.add(s, threshold)
			if s.NonResponse == Responded {
				bonaScores = append(bonaScores, s.Score)
			}
			continue
		}
		sp := Species(s.Species)
		r.Counts.Attack.add(s, threshold)
		sc := speciesCounts[sp]
		if sc == nil {
			sc = &ClassCounts{}
			speciesCounts[sp] = sc
		}
		sc.add(s, threshold)
		if s.NonResponse == Responded {
			attackScores = append(attackScores, s.Score)
			speciesScores[sp] = append(speciesScores[sp], s.Score)
		}
	}
	slices.Sort(bonaScores)
	slices.Sort(attackScores)

	bf, at := r.Counts.BonaFide, r.Counts.Attack
	r.BPCER = NewRate(bf.ClassifiedAttack, bf.Scored(), level)
	r.BPNRR = NewRate(bf.NonResponses(), bf.Total, level)
	r.APCERPooled = NewRate(at.ClassifiedBonaFide, at.Scored(), level)
	r.APNRR = NewRate(at.NonResponses(), at.Total, level)
	r.APCER = Rate{CI: Interval{Level: level}}

	names := make([]string, 0, len(speciesCounts))
	for name := range speciesCounts {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		c := *speciesCounts[name]
		scores := speciesScores[name]
		slices.Sort(scores)
		sr := SpeciesReport{
			Counts: c,
			APCER:  NewRate(c.ClassifiedBonaFide, c.Scored(), level),
			APNRR:  NewRate(c.NonResponses(), c.Total, level),
			AUC:    aucSorted(bonaScores, scores),
		}
		r.Species[name] = sr
		switch {
		case c.Total == 0:
			r.Warnings = append(r.Warnings, fmt.Sprintf("species %q has no presentations: its APCER is undefined", name))
		case c.Scored() == 0:
			r.Warnings = append(r.Warnings, fmt.Sprintf("species %q has no scored presentations (%d non-responses): its APCER is undefined", name, c.NonResponses()))
		}
		if sr.APCER.Value.Valid && (!r.APCER.Value.Valid || sr.APCER.Value.Float64 > r.APCER.Value.Float64) {
			r.APCER, r.APCERSpecies = sr.APCER, name
		}
	}
	if r.APCER.Value.Valid && r.BPCER.Value.Valid {
		r.ACER = Of((r.APCER.Value.Float64 + r.BPCER.Value.Float64) / 2)
	}

	curve := curveSorted(bonaScores, attackScores)
	r.AUC = aucSorted(bonaScores, attackScores)
	r.EER, r.EERThreshold = curve.EER()
	r.BPCERAtAPCER = make([]OperatingPoint, len(targets))
	r.APCERAtBPCER = make([]OperatingPoint, len(targets))
	r.BPCERAtWorstAPCER = make([]OperatingPoint, len(targets))
	for k, t := range targets {
		r.BPCERAtAPCER[k] = curve.AtAPCER(t)
		r.APCERAtBPCER[k] = curve.AtBPCER(t)
		r.BPCERAtWorstAPCER[k] = curve.atWorstAPCER(t, names, speciesScores)
	}
	if !opts.OmitCurve {
		r.Curve = curve
	}

	switch {
	case len(samples) == 0:
		r.Warnings = append(r.Warnings, "no presentations: every metric is undefined")
	case bf.Scored() == 0 && at.Scored() == 0:
		r.Warnings = append(r.Warnings, "no scored presentations (every one a non-response): APCER, BPCER, ACER, AUC and EER are undefined")
	case bf.Scored() == 0:
		r.Warnings = append(r.Warnings, "no scored bona fide presentations: BPCER, ACER, AUC, EER and the operating points are undefined")
	case at.Scored() == 0:
		r.Warnings = append(r.Warnings, "no scored attack presentations: APCER, ACER, AUC, EER and the operating points are undefined")
	}
	return r, nil
}

func validate(s Sample) error {
	if s.Label != BonaFide && s.Label != Attack {
		return fmt.Errorf("%w %d", ErrLabel, uint8(s.Label))
	}
	switch s.NonResponse {
	case Responded:
		if math.IsNaN(s.Score) || math.IsInf(s.Score, 0) {
			return fmt.Errorf("score %v: %w", s.Score, ErrScore)
		}
	case NoFace, Unreadable:
	default:
		return fmt.Errorf("unknown non-response reason %d", uint8(s.NonResponse))
	}
	return nil
}
