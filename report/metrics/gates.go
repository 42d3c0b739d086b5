package metrics

// Gates are pass/fail limits on a report, as `spoofsense eval` takes them from flags. A nil
// limit is not checked; the zero Gates checks nothing.
type Gates struct {
	MaxAPCER *float64 // worst-case APCER must be ≤ this
	MaxBPCER *float64 // BPCER must be ≤ this
	MaxACER  *float64 // ACER must be ≤ this
	MinAUC   *float64 // AUC must be ≥ this
}

// GateResult is the outcome of one gate.
type GateResult struct {
	Name   string  `json:"name"`   // "max_apcer", "max_bpcer", "max_acer" or "min_auc"
	Metric string  `json:"metric"` // the report field checked: "apcer", "bpcer", "acer" or "auc"
	Value  Value   `json:"value"`  // the metric's value in the report
	Limit  float64 `json:"limit"`
	Pass   bool    `json:"pass"` // false also when Value is undefined: an unmeasured limit is not met
}

// Check evaluates the set gates against r, in the order max_apcer, max_bpcer, max_acer, min_auc.
func (g Gates) Check(r Report) []GateResult {
	var out []GateResult
	check := func(name, metric string, v Value, limit *float64, isMax bool) {
		if limit == nil {
			return
		}
		pass := v.Valid && v.Float64 <= *limit
		if !isMax {
			pass = v.Valid && v.Float64 >= *limit
		}
		out = append(out, GateResult{Name: name, Metric: metric, Value: v, Limit: *limit, Pass: pass})
	}
	check("max_apcer", "apcer", r.APCER.Value, g.MaxAPCER, true)
	check("max_bpcer", "bpcer", r.BPCER.Value, g.MaxBPCER, true)
	check("max_acer", "acer", r.ACER, g.MaxACER, true)
	check("min_auc", "auc", r.AUC, g.MinAUC, false)
	return out
}

// AllPassed reports whether every result passed (true for none).
func AllPassed(results []GateResult) bool {
	for _, res := range results {
		if !res.Pass {
			return false
		}
	}
	return true
}
