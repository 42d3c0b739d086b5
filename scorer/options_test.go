package scorer

import (
	"context"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/spoofsense/spoofsense/models/fixtures"
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
	if strict.detector != base.detector || &strict.loaded[0] != &base.loaded[0] {
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

func TestParseNets(t *testing.T) {
	tests := []struct {
		in      string
		want    []string
		wantErr string
	}{
		{"", nil, ""},
		{"all", nil, ""},
		{" ALL ", nil, ""},
		{"MiniFASNetV2,MiniFASNetV1SE", []string{"MiniFASNetV2", "MiniFASNetV1SE"}, ""},
		// Manifest order and spelling, whatever the user wrote.
		{"minifasnetv2se-128, miniFASNetV2", []string{"MiniFASNetV2", "MiniFASNetV2SE-128"}, ""},
		{"MiniFASNetV2,MiniFASNetV2", nil, "listed twice"},
		{"MiniFASNetV3", nil, `unknown net "MiniFASNetV3"`},
		{"UltraFace-RFB-320", nil, "unknown net"}, // the detector is not an anti-spoof net
		{"MiniFASNetV2,", nil, `unknown net ""`},
	}
	for _, tc := range tests {
		got, err := ParseNets(tc.in)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("ParseNets(%q) error %v, want one containing %q", tc.in, err, tc.wantErr)
			}
			continue
		}
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("ParseNets(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
	if err := (Options{Nets: []string{"nope"}}).Validate(); err == nil {
		t.Error("Validate accepted an unknown net")
	}
}

// TestWithOptionsNets: a subset of the loaded nets runs only those nets, reports only their
// models, and averages only them; a net the scorer did not load is an error.
func TestWithOptionsNets(t *testing.T) {
	var cache scorerCache
	all := cache.get(t, Options{})
	two, err := all.WithOptions(Options{Nets: []string{"MiniFASNetV1SE", "MiniFASNetV2"}})
	if err != nil {
		t.Fatal(err)
	}
	res := scoreFile(t, two, devImage(t, "image_F1.jpg"))
	if len(res.Face.Nets) != 2 || res.Face.Nets[0].Name != "MiniFASNetV2" || len(res.Models) != 3 {
		t.Fatalf("nets %+v, models %v: want V2 and V1SE and the detector", res.Face.Nets, res.Models)
	}
	if want := (res.Face.Nets[0].PLive + res.Face.Nets[1].PLive) / 2; math.Abs(res.ProbReal-want) > 1e-12 {
		t.Errorf("prob_real %v, want the two nets' mean %v", res.ProbReal, want)
	}
	if !slices.Equal(res.NetSet, []string{"MiniFASNetV2", "MiniFASNetV1SE"}) {
		t.Errorf("net_set %v", res.NetSet)
	}
	// New loads only the nets named, so a scorer made for two cannot run the third.
	loadedTwo, err := New(context.Background(), Options{ModelsDir: fixtures.Path(t, "models"), Nets: twoNets})
	if err != nil {
		t.Fatal(err)
	}
	if len(loadedTwo.loaded) != 2 {
		t.Errorf("New with two nets loaded %d", len(loadedTwo.loaded))
	}
	if _, err := loadedTwo.WithOptions(Options{Nets: []string{"MiniFASNetV2SE-128"}}); err == nil || !strings.Contains(err.Error(), "not loaded") {
		t.Errorf("WithOptions of a net the scorer did not load: %v", err)
	}
}
