package scorer

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"

	"github.com/spoofsense/spoofsense/models"
	"github.com/spoofsense/spoofsense/models/fixtures"
	"github.com/spoofsense/spoofsense/preprocess"
)

// goldenImage is one entry of ../shared/golden/pipeline/pipeline.json.
type goldenImage struct {
	File       string `json:"file"`
	Width      int    `json:"width"`
	Height     int    `json:"height"`
	RawBox     [4]int `json:"raw_box_xywh"`
	MappedBox  [4]int `json:"calibrated_box_xywh"`
	Detections []struct {
		Score float64 `json:"score"`
	} `json:"detections_after_nms"`
	Models map[string]map[string]struct {
		Logits  [3]float64 `json:"logits"`
		Softmax [3]float64 `json:"softmax"`
	} `json:"models"`
	ProbRealMapped float64 `json:"prob_real_calibrated"`
}

func loadGolden(t *testing.T) []goldenImage {
	t.Helper()
	b, err := os.ReadFile(fixtures.Path(t, "golden", "pipeline", "pipeline.json"))
	if err != nil {
		t.Fatal(err)
	}
	var g []goldenImage
	if err := json.Unmarshal(b, &g); err != nil {
		t.Fatalf("pipeline.json: %v", err)
	}
	if len(g) == 0 {
		t.Fatal("pipeline.json lists no images")
	}
	return g
}

// twoNets is the ensemble of PIPELINE §1.5–1.7, which pipeline.json and the dev CSVs but
// dev_opencv_3net.csv were made with.
var twoNets = []string{models.NameMiniFASNetV2, models.NameMiniFASNetV1SE}

// devImage finds a sample image of the dev set by file name (live/ or spoof/).
func devImage(t *testing.T, name string) string {
	t.Helper()
	dev := fixtures.Path(t, "data", "dev")
	for _, sub := range []string{"live", "spoof"} {
		p := filepath.Join(dev, sub, name)
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	t.Fatalf("%s not found under %s", name, dev)
	return ""
}

// scorerCache loads the models once per cache (loading verifies and plans four models) and
// hands out Scorers for other options through WithOptions, which shares them.
type scorerCache struct {
	mu   sync.Mutex
	base *Scorer
	m    map[string]*Scorer
}

func (c *scorerCache) get(t *testing.T, opts Options) *Scorer {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	opts.ModelsDir = fixtures.Path(t, "models")
	key := fmt.Sprintf("%+v", opts)
	if s, ok := c.m[key]; ok {
		return s
	}
	if c.base == nil {
		base, err := New(context.Background(), Options{ModelsDir: opts.ModelsDir})
		if err != nil {
			t.Fatalf("scorer.New: %v", err)
		}
		c.base, c.m = base, map[string]*Scorer{}
	}
	s, err := c.base.WithOptions(opts)
	if err != nil {
		t.Fatalf("WithOptions(%+v): %v", opts, err)
	}
	c.m[key] = s
	return s
}

func scoreFile(t *testing.T, s *Scorer, path string) Result {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	res, err := s.ScoreReader(context.Background(), f, path)
	if err != nil {
		t.Fatalf("score %s: %v", path, err)
	}
	return res
}

func boxNear(got preprocess.Box, want [4]int, tol int) bool {
	d := func(a, b int) int { return max(a-b, b-a) }
	return d(got.X, want[0]) <= tol && d(got.Y, want[1]) <= tol && d(got.W, want[2]) <= tol && d(got.H, want[3]) <= tol
}

// TestGoldenPipeline checks the three sample images against both references of PIPELINE §2.
// pipeline.json (what the tolerances are written against): raw and mapped boxes within
// 2 px, prob_real as below. The dev CSV of the same box option (dev_opencv_rawbox.csv,
// dev_opencv_mappedbox.csv): the box exactly and each net's softmax[1] within sampleTol. The two
// files disagree on the mapped box's integer rule by up to 1 px (pipeline.json mapped the
// truncated raw box, the CSV the unrounded one, see preprocess.MapBox); a one-pixel shift moves
// F2's V1SE softmax[1] from 0.044 to 0.006, so the per-net values are held to the file whose rule
// MapBox follows, the one that also covers the other 1,830 dev photos.
//
// pipeline.json's prob_real is held to sampleTol for the raw box and to PIPELINE §2's 0.02 for
// the mapped one, where its other integer rule moves F2's box a pixel (0.0035 against 0.0225).

func TestGoldenPipeline(t *testing.T) {
	var cache scorerCache
	csv := map[BoxMode]map[string]devRow{}
	for mode, file := range map[BoxMode]string{BoxRaw: "dev_opencv_rawbox.csv", BoxMapped: "dev_opencv_mappedbox.csv"} {
		csv[mode] = map[string]devRow{}
		for _, r := range readDevCSV(t, file) {
			csv[mode][filepath.Base(r.file)] = r
		}
	}
	for _, g := range loadGolden(t) {
		for _, mode := range []BoxMode{BoxRaw, BoxMapped} {
			t.Run(g.File+"/"+string(mode), func(t *testing.T) {
				row, ok := csv[mode][g.File]
				if !ok {
					t.Fatalf("%s is not in the %s dev CSV", g.File, mode)
				}
				s := cache.get(t, Options{Box: mode, Crops: CropsSingle, Nets: twoNets}) // pipeline.json is §1.5
				res := scoreFile(t, s, devImage(t, g.File))
				if res.Image.Width != g.Width || res.Image.Height != g.Height {
					t.Fatalf("image %d×%d, want %d×%d (EXIF orientation applied)", res.Image.Width, res.Image.Height, g.Width, g.Height)
				}
				if res.FaceCount != len(g.Detections) || res.Face == nil {
					t.Fatalf("faces = %d, want %d", res.FaceCount, len(g.Detections))
				}
				if !boxNear(res.Face.DetectorBox, g.RawBox, 2) {
					t.Errorf("raw box %+v, want %v", res.Face.DetectorBox, g.RawBox)
				}
				wantBox, key := g.RawBox, "raw"
				if mode == BoxMapped {
					wantBox, key = g.MappedBox, "calibrated"
				}
				if !boxNear(res.Face.Box, wantBox, 2) {
					t.Errorf("%s box %+v, want %v ± 2 px (pipeline.json)", mode, res.Face.Box, wantBox)
				}
				if csvBox := fixtures.CSVBox(t, row.columns); !boxNear(res.Face.Box, csvBox, 0) {
					t.Errorf("%s box %+v, want %v (dev CSV)", mode, res.Face.Box, csvBox)
				}
				want := (g.Models["v2"][key].Softmax[1] + g.Models["v1se"][key].Softmax[1]) / 2
				if mode == BoxMapped && math.Abs(want-g.ProbRealMapped) > 1e-6 {
					t.Fatalf("golden file inconsistent: %v vs %v", want, g.ProbRealMapped)
				}
				tol := sampleTol
				if mode == BoxMapped {
					tol = 0.02
				}
				if math.Abs(res.ProbReal-want) > tol {
					t.Errorf("prob_real = %.6f, want %.6f ± %g (pipeline.json)", res.ProbReal, want, tol)
				}
				for i, net := range []string{"v2", "v1se"} {
					w, err := strconv.ParseFloat(row.columns[net+"_p1"], 64)
					if err != nil {
						t.Fatalf("dev CSV column %s_p1: %v", net, err)
					}
					if got := res.Face.Nets[i].Softmax[1]; math.Abs(got-w) > sampleTol {
						t.Errorf("%s softmax[1] = %.6f, want %.6f ± %g (dev CSV)", net, got, w, sampleTol)
					}
				}
			})
		}
	}
}
