package scorer

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/spoofsense/spoofsense/models/fixtures"
	"github.com/spoofsense/spoofsense/preprocess"
)

// decodeDevImage decodes a sample image of the dev set.
func decodeDevImage(t *testing.T, name string) *preprocess.Image {
	t.Helper()
	f, err := os.Open(devImage(t, name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := preprocess.Decode(f, preprocess.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func score(t *testing.T, s *Scorer, img *preprocess.Image) Result {
	t.Helper()
	res, err := s.Score(context.Background(), img)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// TestThresholdBoundary drives the real scorer's decision at the edge: a face whose prob_real
// equals the threshold is live (prob_real ≥ threshold), and one ulp above it is spoof.
func TestThresholdBoundary(t *testing.T) {
	var cache scorerCache
	img := decodeDevImage(t, "image_F1.jpg")
	p := score(t, cache.get(t, Options{}), img).ProbReal
	for _, tc := range []struct {
		threshold float64
		want      Verdict
	}{
		{p, Live},
		{math.Nextafter(p, 2), Spoof},
		{math.Nextafter(p, 0), Live},
	} {
		res := score(t, cache.get(t, Options{Threshold: tc.threshold}), img)
		if res.Verdict != tc.want || res.Face.Verdict != tc.want || res.Threshold != tc.threshold {
			t.Errorf("prob_real %v at threshold %v: verdict %s (face %s, threshold %v), want %s",
				res.ProbReal, tc.threshold, res.Verdict, res.Face.Verdict, res.Threshold, tc.want)
		}
	}
}

// TestDefaultThreshold: the zero Options decide at 0.55, the replaced API's documented value,
// and an image scoring between 0.5 and 0.55 is a spoof by default.
func TestDefaultThreshold(t *testing.T) {
	var cache scorerCache
	s := cache.get(t, Options{})
	if got := s.Options().Threshold; got != 0.55 {
		t.Fatalf("default threshold %v, want 0.55", got)
	}
	res := score(t, s, decodeDevImage(t, "image_T1.jpg"))
	if res.Threshold != 0.55 {
		t.Errorf("result threshold %v, want 0.55", res.Threshold)
	}
	for _, row := range readDevCSV(t, "dev_opencv_3net.csv") {
		if row.probReal > 0.51 && row.probReal < 0.54 {
			got := scoreFile(t, s, filepath.Join(fixtures.Path(t, "data", "dev"), row.file))
			if got.ProbReal > 0.5 && got.ProbReal < 0.55 {
				if got.Verdict != Spoof {
					t.Errorf("%s: prob_real %.4f at the default threshold: %s, want spoof", row.file, got.ProbReal, got.Verdict)
				}
				return
			}
		}
	}
	t.Fatal("no dev image scores between 0.5 and 0.55 to test the default threshold with")
}

// TestScoreIsMeanMargin recomputes Result.Score from the per-crop logits in the result: the
// mean over nets of the mean over crops of logit[live] − logsumexp(others).
func TestScoreIsMeanMargin(t *testing.T) {
	var cache scorerCache
	img := decodeDevImage(t, "image_F2.jpg")
	for _, crops := range []CropPolicy{CropsMulti, CropsSingle} {
		res := score(t, cache.get(t, Options{Crops: crops}), img)
		var want, prob float64
		for _, nr := range res.Face.Nets {
			var m float64
			if crops == CropsSingle {
				m = margin(nr.Logits, nr.LiveIndex)
			} else {
				for _, c := range nr.Crops {
					m += margin(c.Logits, nr.LiveIndex) / float64(len(nr.Crops))
				}
			}
			want += m / float64(len(res.Face.Nets))
			prob += nr.PLive / float64(len(res.Face.Nets))
		}
		if math.Abs(res.Score-want) > 1e-9 || res.Score != res.Face.Score {
			t.Errorf("%s: score %v (face %v), want %v", crops, res.Score, res.Face.Score, want)
		}
		if math.Abs(res.ProbReal-prob) > 1e-12 {
			t.Errorf("%s: prob_real %v, want the nets' mean %v", crops, res.ProbReal, prob)
		}
	}
}

// margin is the log-odds of class live written out from its definition.
func margin(logits []float64, live int) float64 {
	var others float64
	for i, l := range logits {
		if i != live {
			others += math.Exp(l)
		}
	}
	return logits[live] - math.Log(others)
}

// TestStrictAndFacePolicies runs the real scorer on T1 (one face that fails the 224 px size
// check) and on a generated image holding T1 twice, the second copy at half size.
func TestStrictAndFacePolicies(t *testing.T) {
	var cache scorerCache
	t1 := decodeDevImage(t, "image_T1.jpg")

	loose := score(t, cache.get(t, Options{}), t1)
	strict := score(t, cache.get(t, Options{Strict: true}), t1)
	if loose.Verdict != Live || strict.Verdict != Rejected || strict.ProbReal != loose.ProbReal {
		t.Errorf("T1 verdicts %s (default) and %s (strict), prob_real %v and %v; want live and rejected, same prob",
			loose.Verdict, strict.Verdict, loose.ProbReal, strict.ProbReal)
	}

	two := preprocess.NewImage(2*t1.Width, t1.Height)
	small, err := preprocess.Resize(t1, t1.Bounds(), t1.Width/2, t1.Height/2)
	if err != nil {
		t.Fatal(err)
	}
	for y := range t1.Height {
		copy(two.Pix[y*two.Stride():], t1.Pix[y*t1.Stride():(y+1)*t1.Stride()])
	}
	for y := range small.Height {
		copy(two.Pix[(y+t1.Height/4)*two.Stride()+3*t1.Width+3*t1.Width/4:], small.Pix[y*small.Stride():(y+1)*small.Stride()])
	}

	largest := score(t, cache.get(t, Options{Faces: FacesLargest}), two)
	if largest.FaceCount != 2 || largest.Face == nil || largest.Faces != nil || largest.Face.Box.X >= t1.Width {
		t.Fatalf("largest: %d faces, face %+v, faces %d: want the full-size copy on the left scored", largest.FaceCount, largest.Face, len(largest.Faces))
	}
	all := score(t, cache.get(t, Options{Faces: FacesAll}), two)
	if len(all.Faces) != 2 {
		t.Fatalf("all: %d faces listed, want 2", len(all.Faces))
	}
	for i, f := range all.Faces {
		if len(f.Nets) != 3 || f.Verdict == "" || f.ProbReal <= 0 {
			t.Errorf("all: face %d not scored: %+v", i, f)
		}
	}
	if all.Face.Box != largest.Face.Box || all.ProbReal != largest.ProbReal {
		t.Errorf("all: the result's face %+v (prob %v) is not the largest %+v (prob %v)", all.Face.Box, all.ProbReal, largest.Face.Box, largest.ProbReal)
	}
	reject := score(t, cache.get(t, Options{Faces: FacesRejectMultiple}), two)
	if reject.Verdict != Rejected || reject.FaceCount != 2 {
		t.Errorf("reject-multiple on two faces: verdict %s, %d faces; want rejected", reject.Verdict, reject.FaceCount)
	}
	if one := score(t, cache.get(t, Options{Faces: FacesRejectMultiple}), t1); one.Verdict != Live {
		t.Errorf("reject-multiple on one face: %s, want live", one.Verdict)
	}
}

// TestQualityLimits checks each §1.6 check at its limit (passes) and one step past it (fails),
// and the documented default limits.
func TestQualityLimits(t *testing.T) {
	q := DefaultQualityLimits()
	if q != (QualityLimits{MinFaceSide: 224, MinBorderMargin: 15, MinFaceArea: 0.20, MinPortrait: 1.0,
		MinBrightness: 40, MaxBrightness: 220, MinSharpness: 20, MaxFaces: 1, MinChroma: 8}) {
		t.Fatalf("default limits %+v", q)
	}
	// A 500×500 image with a 1-pixel checkerboard of the given two grey levels.
	grey := func(w, h int, a, b uint8) *preprocess.Image {
		img := preprocess.NewImage(w, h)
		for y := range h {
			for x := range w {
				v := a
				if (x+y)%2 == 1 {
					v = b
				}
				p := img.Pix[3*(y*w+x):]
				p[0], p[1], p[2] = v, v, v
			}
		}
		return img
	}
	// tinted is a flat image whose pixels are (120+d, 120, 120): chroma d everywhere.
	tinted := func(w, h int, d uint8) *preprocess.Image {
		img := grey(w, h, 120, 120)
		for i := 0; i < len(img.Pix); i += 3 {
			img.Pix[i] = 120 + d
		}
		return img
	}
	find := func(checks []QualityCheck, name string) QualityCheck {
		for _, c := range checks {
			if c.Name == name {
				return c
			}
		}
		t.Fatalf("no check %s", name)
		return QualityCheck{}
	}
	sharp := grey(500, 500, 100, 140)
	tests := []struct {
		name  string
		check string
		img   *preprocess.Image
		box   preprocess.Box
		faces int
		pass  bool
	}{
		{"side at 224", CheckFaceSize, sharp, preprocess.Box{X: 100, Y: 100, W: 300, H: 224}, 1, true},
		{"side 223", CheckFaceSize, sharp, preprocess.Box{X: 100, Y: 100, W: 223, H: 300}, 1, false},
		{"margin at 15", CheckBorderMargin, sharp, preprocess.Box{X: 15, Y: 100, W: 300, H: 300}, 1, true},
		{"margin 14", CheckBorderMargin, sharp, preprocess.Box{X: 100, Y: 100, W: 300, H: 386}, 1, false},
		{"area at 0.20", CheckFaceArea, sharp, preprocess.Box{X: 100, Y: 100, W: 250, H: 200}, 1, true},
		{"area below", CheckFaceArea, sharp, preprocess.Box{X: 100, Y: 100, W: 249, H: 200}, 1, false},
		{"portrait at 1.0", CheckPortrait, sharp, preprocess.Box{X: 100, Y: 100, W: 300, H: 300}, 1, true},
		{"landscape", CheckPortrait, grey(501, 500, 100, 140), preprocess.Box{X: 100, Y: 100, W: 300, H: 300}, 1, false},
		{"luma at 40", CheckDark, grey(500, 500, 40, 40), preprocess.Box{X: 100, Y: 100, W: 300, H: 300}, 1, true},
		{"luma 39", CheckDark, grey(500, 500, 39, 39), preprocess.Box{X: 100, Y: 100, W: 300, H: 300}, 1, false},
		{"luma at 220", CheckBright, grey(500, 500, 220, 220), preprocess.Box{X: 100, Y: 100, W: 300, H: 300}, 1, true},
		{"luma 221", CheckBright, grey(500, 500, 221, 221), preprocess.Box{X: 100, Y: 100, W: 300, H: 300}, 1, false},
		{"textured", CheckSharpness, sharp, preprocess.Box{X: 100, Y: 100, W: 300, H: 300}, 1, true},
		{"flat", CheckSharpness, grey(500, 500, 120, 120), preprocess.Box{X: 100, Y: 100, W: 300, H: 300}, 1, false},
		{"one face", CheckOneFace, sharp, preprocess.Box{X: 100, Y: 100, W: 300, H: 300}, 1, true},
		{"two faces", CheckOneFace, sharp, preprocess.Box{X: 100, Y: 100, W: 300, H: 300}, 2, false},
		{"grey", CheckColour, sharp, preprocess.Box{X: 100, Y: 100, W: 300, H: 300}, 1, false},
		{"chroma at 8", CheckColour, tinted(500, 500, 8), preprocess.Box{X: 100, Y: 100, W: 300, H: 300}, 1, true},
		{"chroma 7", CheckColour, tinted(500, 500, 7), preprocess.Box{X: 100, Y: 100, W: 300, H: 300}, 1, false},
	}
	for _, tc := range tests {
		c := find(q.Check(tc.img, tc.box, tc.faces), tc.check)
		if c.Passed != tc.pass {
			t.Errorf("%s: %s value %v limit %v passed %v, want %v", tc.name, c.Name, c.Value, c.Limit, c.Passed, tc.pass)
		}
	}
	// A sharpness exactly at the limit passes: set the limit to the measured value.
	box := preprocess.Box{X: 100, Y: 100, W: 300, H: 300}
	v := find(q.Check(sharp, box, 1), CheckSharpness).Value
	exact := q
	exact.MinSharpness = v
	if c := find(exact.Check(sharp, box, 1), CheckSharpness); !c.Passed {
		t.Errorf("sharpness %v at a limit of %v fails", c.Value, c.Limit)
	}
}

// TestGreyLiveFaceFailsColour: T1 made grey scores lower (the nets want colour) and its colour
// check says why: chroma 0, failed, and --strict rejects it while the colour photo passes it.
func TestGreyLiveFaceFailsColour(t *testing.T) {
	var cache scorerCache
	t1 := decodeDevImage(t, "image_T1.jpg")
	grey := preprocess.NewImage(t1.Width, t1.Height)
	for i := 0; i < len(t1.Pix); i += 3 {
		v := uint8((299*int(t1.Pix[i]) + 587*int(t1.Pix[i+1]) + 114*int(t1.Pix[i+2]) + 500) / 1000)
		grey.Pix[i], grey.Pix[i+1], grey.Pix[i+2] = v, v, v
	}
	colour := func(r Result) QualityCheck {
		for _, c := range r.Quality {
			if c.Name == CheckColour {
				return c
			}
		}
		t.Fatalf("no %s check in %+v", CheckColour, r.Quality)
		return QualityCheck{}
	}
	c := score(t, cache.get(t, Options{}), t1)
	g := score(t, cache.get(t, Options{}), grey)
	if cc, gc := colour(c), colour(g); !cc.Passed || gc.Passed || gc.Value != 0 {
		t.Errorf("colour check: colour photo %+v, grey photo %+v; want pass and fail at 0", cc, gc)
	}
	if g.ProbReal >= c.ProbReal {
		t.Errorf("grey prob_real %v not below the colour photo's %v", g.ProbReal, c.ProbReal)
	}
	if s := score(t, cache.get(t, Options{Strict: true}), grey); s.Verdict != Rejected {
		t.Errorf("strict on the grey photo: %s, want rejected", s.Verdict)
	}
}
