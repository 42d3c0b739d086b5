package metrics_test

import (
	"fmt"

	"github.com/spoofsense/spoofsense/report/metrics"
)

func Example() {
	samples := []metrics.Sample{
		{ID: "live/1.jpg", Label: metrics.BonaFide, Score: 0.97},
		{ID: "live/2.jpg", Label: metrics.BonaFide, Score: 0.41},
		{ID: "live/3.jpg", Label: metrics.BonaFide, NonResponse: metrics.NoFace},
		{ID: "spoof/print/1.jpg", Label: metrics.Attack, Species: "print", Score: 0.12},
		{ID: "spoof/replay/1.jpg", Label: metrics.Attack, Species: "replay", Score: 0.63},
		{ID: "spoof/replay/2.jpg", Label: metrics.Attack, Species: "replay", Score: 0.08},
	}
	r, err := metrics.Evaluate(samples, metrics.DefaultThreshold, metrics.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("APCER %v (%s, %d/%d), BPCER %v (%d/%d), ACER %v\n",
		r.APCER.Value, r.APCERSpecies, r.APCER.Count, r.APCER.Total, r.BPCER.Value, r.BPCER.Count, r.BPCER.Total, r.ACER)
	fmt.Printf("BPNRR %v (%d left out), AUC %v, EER %v\n", r.BPNRR.Value, r.BPNRR.Count, r.AUC, r.EER)
	bpcer20 := r.BPCERAtAPCER[1] // targets 1%, 5%, 10%
	fmt.Printf("%s: %v at threshold %v\n", bpcer20.Name, bpcer20.BPCER, bpcer20.Threshold)
	rec, _ := r.RecommendedThreshold(0.05)
	fmt.Printf("recommended for APCER ≤ 5%%: %v (worst case %v, %s)\n", rec.Threshold, rec.APCER, rec.APCERSpecies)
	// Output:
	// APCER 0.5 (replay, 1/2), BPCER 0.5 (1/2), ACER 0.5
	// BPNRR 0.3333 (1 left out), AUC 0.8333, EER 0.3333
	// BPCER@APCER=5%: 0.5 at threshold 0.97
	// recommended for APCER ≤ 5%: 0.97 (worst case 0, print)
}
