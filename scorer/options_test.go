package scorer

import (
	"testing"
)

func TestOptionsValidate(t *testing.T) {
	tests := []struct {
		name string
		opts Options
		ok   bool
	}{
		{"zero value", Options{}, true},
		{"all set", Options{Threshold: 0.7, Faces: FacesAll, Crops: CropsMulti, Box: BoxMapped}, true},
		{"threshold above 1", Options{Threshold: 1.5}, false},
		{"negative threshold", Options{Threshold: -0.1}, false},
		{"unknown faces", Options{Faces: "biggest"}, false},
		{"unknown crops", Options{Crops: "triple"}, false},
		{"unknown box", Options{Box: "square"}, false},
	}
	for _, tc := range tests {
		if err := tc.opts.Validate(); (err == nil) != tc.ok {
			t.Errorf("%s: Validate() = %v, want ok=%v", tc.name, err, tc.ok)
		}
	}
}

// WithOptions shares the loaded models and changes only the decision.
func TestWithOptions(t *testing.T) {
	var cache scorerCache
	base := cache.get(t, Options{})
	strict, err := base.WithOptions(Options{Threshold: 0.9999999})
	if err != nil {
		t.Fatal(err)
	}
	if strict.detector != base.detector || strict.nets != base.nets {
		t.Error("WithOptions loaded new models")
	}
	img := devImage(t, "image_T1.jpg")
	a, b := scoreFile(t, base, img), scoreFile(t, strict, img)
	if a.ProbReal != b.ProbReal {
		t.Errorf("prob_real %v vs %v: the models differ", a.ProbReal, b.ProbReal)
	}
	if a.Verdict != Live || b.Verdict != Spoof || b.Threshold != 0.9999999 {
		t.Errorf("verdicts %s (0.55) and %s (%v), want live and spoof", a.Verdict, b.Verdict, b.Threshold)
	}
	if _, err := base.WithOptions(Options{Crops: "bad"}); err == nil {
		t.Error("WithOptions accepted an invalid crop policy")
	}
}
