package preprocess

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/spoofsense/spoofsense/models/fixtures"
)

// goldenSample is one entry of golden/pipeline/pipeline.json (the fields this package checks).
type goldenSample struct {
	File       string `json:"file"`
	Width      int    `json:"width"`
	Height     int    `json:"height"`
	Detections []struct {
		Score float64    `json:"score"`
		Box   [4]float32 `json:"box_norm_x1y1x2y2"`
	} `json:"detections_after_nms"`
	RawBox    [4]int `json:"raw_box_xywh"`
	MappedBox [4]int `json:"calibrated_box_xywh"`
}

// goldenImages maps each golden sample to its place in the dev set.
var goldenImages = map[string]string{
	"image_T1.jpg": "live/image_T1.jpg",
	"image_F1.jpg": "spoof/image_F1.jpg",
	"image_F2.jpg": "spoof/image_F2.jpg",
}

func loadGolden(t testing.TB) []goldenSample {
	t.Helper()
	b, err := os.ReadFile(fixtures.Path(t, "golden", "pipeline", "pipeline.json"))
	if err != nil {
		t.Fatal(err)
	}
	var samples []goldenSample
	if err := json.Unmarshal(b, &samples); err != nil {
		t.Fatalf("pipeline.json: %v", err)
	}
	if len(samples) != len(goldenImages) {
		t.Fatalf("pipeline.json has %d samples, want %d", len(samples), len(goldenImages))
	}
	return samples
}

func decodeDev(t testing.TB, file string) *Image {
	t.Helper()
	rel, ok := goldenImages[file]
	if !ok {
		t.Fatalf("no dev image for %s", file)
	}
	f, err := os.Open(fixtures.Path(t, "data", "dev", filepath.FromSlash(rel)))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := Decode(f, Limits{})
	if err != nil {
		t.Fatalf("%s: %v", rel, err)
	}
	return img
}

// meanAbsDiff returns the mean and maximum absolute difference of a and b, each first
// multiplied by scale.
func meanAbsDiff(a, b []float32, scale float64) (mean, maxDiff float64) {
	var sum float64
	for i := range a {
		d := math.Abs(float64(a[i])-float64(b[i])) * scale
		sum += d
		maxDiff = max(maxDiff, d)
	}
	return sum / float64(len(a)), maxDiff
}

func TestGoldenDecode(t *testing.T) {
	for _, g := range loadGolden(t) {
		img := decodeDev(t, g.File)
		if img.Width != g.Width || img.Height != g.Height || img.Orientation != 6 || img.Format != FormatJPEG {
			t.Errorf("%s: decoded %d×%d orientation %d format %q, want %d×%d orientation 6 jpeg",
				g.File, img.Width, img.Height, img.Orientation, img.Format, g.Width, g.Height)
		}
	}
}

// TestGoldenBoxes: RawBox gives pipeline.json's raw boxes exactly; MapBox gives
// dev_opencv_mappedbox.csv's mapped boxes exactly, and lies within 1 px of pipeline.json's, which
// mapped the truncated raw box rather than the unrounded one (see MapBox).
func TestGoldenBoxes(t *testing.T) {
	mappedCSV := map[string]Box{}
	for _, r := range fixtures.ReadCSV(t, "golden", "dev", "dev_opencv_mappedbox.csv") {
		if r["faces"] == "0" {
			continue // no box
		}
		b := fixtures.CSVBox(t, r)
		mappedCSV[r["file"]] = Box{b[0], b[1], b[2], b[3]}
	}
	for _, g := range loadGolden(t) {
		d := g.Detections[0].Box
		raw := RawBox(d[0], d[1], d[2], d[3], g.Width, g.Height)
		if want := (Box{g.RawBox[0], g.RawBox[1], g.RawBox[2], g.RawBox[3]}); raw != want {
			t.Errorf("%s: RawBox = %v, want %v", g.File, raw, want)
		}
		mapped := MapBox(d[0], d[1], d[2], d[3], g.Width, g.Height)
		if want, ok := mappedCSV[goldenImages[g.File]]; !ok || mapped != want {
			t.Errorf("%s: MapBox = %v, want %v (dev_opencv_mappedbox.csv)", g.File, mapped, want)
		}
		p := g.MappedBox
		if d := max(abs(mapped.X-p[0]), abs(mapped.Y-p[1]), abs(mapped.W-p[2]), abs(mapped.H-p[3])); d > 1 {
			t.Errorf("%s: MapBox = %v, %d px from pipeline.json's %v", g.File, mapped, d, p)
		}
	}
}

func abs(v int) int { return max(v, -v) }

func TestGoldenDetectorInput(t *testing.T) {
	for _, g := range loadGolden(t) {
		img := decodeDev(t, g.File)
		want := fixtures.ReadFloat32(t, "golden", "pipeline", g.File[:len(g.File)-4]+"_detector_input.f32")
		got, err := DetectorInput(img, detIn(), nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(want) {
			t.Fatalf("%s: %d values, golden has %d", g.File, len(got), len(want))
		}
		mean, maxDiff := meanAbsDiff(got, want, 128)
		t.Logf("%s detector input: mean abs diff %.4f, max %.0f (0..255 scale)", g.File, mean, maxDiff)
		if mean > 1.0 {
			t.Errorf("%s detector input: mean abs diff %.4f > 1.0", g.File, mean)
		}
	}
}

func TestGoldenCrops(t *testing.T) {
	nets := []struct {
		name  string
		scale float64
	}{{"v2", scaleV2()}, {"v1se", scaleV1SE()}}
	for _, g := range loadGolden(t) {
		img := decodeDev(t, g.File)
		// The crops were cut around pipeline.json's own boxes; this tests CropFace, not the box rule.
		boxes := []struct {
			name string
			box  Box
		}{
			{"raw", Box{g.RawBox[0], g.RawBox[1], g.RawBox[2], g.RawBox[3]}},
			{"calibrated", Box{g.MappedBox[0], g.MappedBox[1], g.MappedBox[2], g.MappedBox[3]}},
		}
		for _, n := range nets {
			for _, b := range boxes {
				file := g.File[:len(g.File)-4] + "_" + n.name + "_" + b.name + "_crop.f32"
				want := fixtures.ReadFloat32(t, "golden", "pipeline", file)
				got, _, err := CropFace(img, b.box, n.scale, cropIn(), nil)
				if err != nil {
					t.Fatalf("%s: %v", file, err)
				}
				if len(got) != len(want) {
					t.Fatalf("%s: %d values, golden has %d", file, len(got), len(want))
				}
				mean, maxDiff := meanAbsDiff(got, want, 1)
				t.Logf("%s: mean abs diff %.4f, max %.0f", file, mean, maxDiff)
				if mean > 1.0 {
					t.Errorf("%s: mean abs diff %.4f > 1.0", file, mean)
				}
			}
		}
	}
}

// TestGoldenSquareCrops checks SquareCrop (PIPELINE §1.8) against the OpenCV reference's
// 128×128 tensors of the sample images at the three expansions, cut around the boxes of
// golden/dev/dev_opencv_3net.csv. PIPELINE §2 allows a mean absolute difference of 1 on the
// 0..255 scale, since JPEG decoders differ slightly; this decoder is libjpeg-exact and the
// resamplers bit-exact, so the test asks for identical tensors, which is what holds.
func TestGoldenSquareCrops(t *testing.T) {
	boxes := map[string]Box{}
	for _, row := range fixtures.ReadCSV(t, "golden", "dev", "dev_opencv_3net.csv") {
		if b := row["x"]; b != "" {
			v := fixtures.CSVBox(t, row)
			boxes[row["file"]] = Box{v[0], v[1], v[2], v[3]}
		}
	}
	var sc SquareScratch
	for _, g := range loadGolden(t) {
		img := decodeDev(t, g.File)
		box, ok := boxes[goldenImages[g.File]]
		if !ok {
			t.Fatalf("%s: no box in dev_opencv_3net.csv", g.File)
		}
		for _, e := range []string{"1.50", "1.35", "1.20"} {
			f, _ := strconv.ParseFloat(e, 64)
			file := g.File[:len(g.File)-4] + "_fx_crop_e" + e + ".f32"
			want := fixtures.ReadFloat32(t, "golden", "pipeline", file)
			got, err := SquareCrop(img, box, f, squareIn(), nil, &sc)
			if err != nil {
				t.Fatalf("%s: %v", file, err)
			}
			if len(got) != len(want) {
				t.Fatalf("%s: %d values, golden has %d", file, len(got), len(want))
			}
			mean, maxDiff := meanAbsDiff(got, want, 255)
			if maxDiff > 0 {
				t.Errorf("%s: mean abs diff %.4f, max %.0f (0..255 scale); want identical tensors", file, mean, maxDiff)
			}
		}
	}
}
