package metrics

import (
	"slices"
	"sort"
)

// Diff is the change of one metric between a baseline report and a current one.
type Diff struct {
	Metric         string `json:"metric"` // e.g. "apcer", "BPCER@APCER=5%", "species.print.apcer"
	Base           Value  `json:"base"`
	Current        Value  `json:"current"`
	Delta          Value  `json:"delta"`            // Current − Base; undefined unless both are defined
	HigherIsBetter bool   `json:"higher_is_better"` // true for AUC; error rates are better lower
	Worse          bool   `json:"worse"`            // got worse by more than the tolerance
}

// Compare lists the change of every metric the two reports share, worst-case APCER first, and
// marks as Worse each metric that moved in its bad direction (up for error and non-response
// rates, down for AUC) by more than tolerance, an absolute difference in the metric's own unit
// (0.01 = one percentage point). A metric undefined in either report is listed but never Worse.
// Operating points are matched by name (their target) and compared on the rate they minimise;
// species are matched by name. Threshold-dependent rates are compared as they are, so compare
// reports made at the same threshold.
func Compare(base, current Report, tolerance float64) []Diff {
	tolerance = max(tolerance, 0)
	var out []Diff
	add := func(metric string, b, c Value, higherIsBetter bool) {
		d := Diff{Metric: metric, Base: b, Current: c, HigherIsBetter: higherIsBetter}
		if b.Valid && c.Valid {
			d.Delta = Of(c.Float64 - b.Float64)
			if higherIsBetter {
				d.Worse = b.Float64-c.Float64 > tolerance
			} else {
				d.Worse = c.Float64-b.Float64 > tolerance
			}
		}
		out = append(out, d)
	}
	add("apcer", base.APCER.Value, current.APCER.Value, false)
	add("apcer_pooled", base.APCERPooled.Value, current.APCERPooled.Value, false)
	add("bpcer", base.BPCER.Value, current.BPCER.Value, false)
	add("acer", base.ACER, current.ACER, false)
	add("apnrr", base.APNRR.Value, current.APNRR.Value, false)
	add("bpnrr", base.BPNRR.Value, current.BPNRR.Value, false)
	add("auc", base.AUC, current.AUC, true)
	add("eer", base.EER, current.EER, false)
	for _, op := range current.BPCERAtAPCER {
		if b, ok := findPoint(base.BPCERAtAPCER, op.Name); ok {
			add(op.Name, b.BPCER, op.BPCER, false)
		}
	}
	for _, op := range current.APCERAtBPCER {
		if b, ok := findPoint(base.APCERAtBPCER, op.Name); ok {
			add(op.Name, b.APCER, op.APCER, false)
		}
	}
	var names []string
	for name := range base.Species {
		names = append(names, name)
	}
	for name := range current.Species {
		if _, ok := base.Species[name]; !ok {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	for _, name := range names {
		b, c := base.Species[name], current.Species[name]
		add("species."+name+".apcer", b.APCER.Value, c.APCER.Value, false)
		add("species."+name+".apnrr", b.APNRR.Value, c.APNRR.Value, false)
		add("species."+name+".auc", b.AUC, c.AUC, true)
	}
	return out
}

func findPoint(ops []OperatingPoint, name string) (OperatingPoint, bool) {
	i := slices.IndexFunc(ops, func(op OperatingPoint) bool { return op.Name == name })
	if i < 0 {
		return OperatingPoint{}, false
	}
	return ops[i], true
}

// Regressions returns the diffs marked Worse, in order.
func Regressions(diffs []Diff) []Diff {
	var out []Diff
	for _, d := range diffs {
		if d.Worse {
			out = append(out, d)
		}
	}
	return out
}
