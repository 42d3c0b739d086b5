package metrics

import "testing"

func TestGates(t *testing.T) {
	limit := func(x float64) *float64 { return &x }
	r := Report{APCER: Rate{Value: Of(0.10)}, BPCER: Rate{Value: Of(0.20)}, ACER: Of(0.15), AUC: Of(0.93)}
	tests := []struct {
		name  string
		gates Gates
		want  map[string]bool // gate name → pass
	}{
		{"none set", Gates{}, map[string]bool{}},
		{"all pass, limits inclusive", Gates{MaxAPCER: limit(0.10), MaxBPCER: limit(0.25), MaxACER: limit(0.2), MinAUC: limit(0.93)},
			map[string]bool{"max_apcer": true, "max_bpcer": true, "max_acer": true, "min_auc": true}},
		{"some fail", Gates{MaxAPCER: limit(0.05), MaxBPCER: limit(0.25), MinAUC: limit(0.95)},
			map[string]bool{"max_apcer": false, "max_bpcer": true, "min_auc": false}},
		{"undefined value fails", Gates{MaxACER: limit(1)}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep := r
			if tt.want == nil {
				rep.ACER = Value{}
				tt.want = map[string]bool{"max_acer": false}
			}
			got := tt.gates.Check(rep)
			if len(got) != len(tt.want) {
				t.Fatalf("Check = %+v; want %d results", got, len(tt.want))
			}
			all := true
			for _, res := range got {
				if pass, ok := tt.want[res.Name]; !ok || pass != res.Pass {
					t.Errorf("%s: pass = %v (value %v, limit %v); want %v", res.Name, res.Pass, res.Value, res.Limit, pass)
				}
				all = all && tt.want[res.Name]
			}
			if AllPassed(got) != all {
				t.Errorf("AllPassed = %v; want %v", AllPassed(got), all)
			}
		})
	}
}
