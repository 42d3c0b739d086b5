package scorer

import (
	"context"
	"math"
	"slices"
	"testing"

	"github.com/spoofsense/spoofsense/models"
)

// TestSelfTest: SelfTest runs the detector and both nets (every crop of the policy) on a
// generated image and returns probabilities.
func TestSelfTest(t *testing.T) {
	var cache scorerCache
	for _, crops := range []CropPolicy{CropsSingle, CropsMulti} {
		t.Run(string(crops), func(t *testing.T) {
			s := cache.get(t, Options{Crops: crops})
			res, err := s.SelfTest(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if res.Image.Width != 240 || res.Image.Height != 320 || res.Timings.Detect <= 0 {
				t.Errorf("image %d×%d, detect %v ms: the detector did not run on the generated image", res.Image.Width, res.Image.Height, res.Timings.Detect)
			}
			if res.Face == nil || len(res.Face.Nets) != len(models.AntiSpoofNames()) {
				t.Fatalf("face %+v: want every net's result", res.Face)
			}
			wantCrops := 0
			if crops == CropsMulti {
				wantCrops = len(multiCropFactors)
			}
			for _, nr := range res.Face.Nets {
				if len(nr.Crops) != wantCrops {
					t.Errorf("%s: %d crops, want %d", nr.Name, len(nr.Crops), wantCrops)
				}
				if !slices.ContainsFunc(nr.Logits, func(v float64) bool { return v != 0 }) {
					t.Errorf("%s: zero logits: the net did not run", nr.Name)
				}
			}
			if p := res.ProbReal; math.IsNaN(p) || p < 0 || p > 1 || res.Verdict != res.Face.Verdict {
				t.Errorf("prob_real %v verdict %s (face %s)", p, res.Verdict, res.Face.Verdict)
			}
		})
	}
}
