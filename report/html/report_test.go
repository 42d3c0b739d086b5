package html

import (
	"context"
	"errors"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/spoofsense/spoofsense/report/metrics"
)

func TestProbit(t *testing.T) {
	// Standard normal quantiles.
	for p, want := range map[float64]float64{0.5: 0, 0.05: -1.6448536, 0.01: -2.3263479, 0.975: 1.9599640, 0.001: -3.0902323} {
		if got := probit(p); math.Abs(got-want) > 1e-6 {
			t.Errorf("probit(%g) = %.7f, want %.7f", p, got, want)
		}
	}
}

func TestDETRangeAndTicks(t *testing.T) {
	tests := []struct {
		nBonaFide, nAttack int
		wantLo             float64
	}{
		{10, 20, 0.001},
		{661, 1172, 1.0 / 1172},
		{100000, 5000, 0.0001},
	}
	for _, tt := range tests {
		lo, hi := detRange(tt.nBonaFide, tt.nAttack)
		if math.Abs(lo-tt.wantLo) > 1e-15 || hi != 0.95 {
			t.Errorf("detRange(%d, %d) = %g, %g; want %g, 0.95", tt.nBonaFide, tt.nAttack, lo, hi, tt.wantLo)
		}
	}
	for p, want := range map[float64]string{0.001: "0.1%", 0.05: "5%", 0.4: "40%", 0.0001: "0.01%"} {
		if got := percentLabel(p); got != want {
			t.Errorf("percentLabel(%g) = %q, want %q", p, got, want)
		}
	}
}

// testPage is a small evaluation with two species.
func testPage(t *testing.T, imgDir string) Page {
	t.Helper()
	live := []float64{0.95, 0.9, 0.7, 0.4, 0.85}
	print := []float64{0.1, 0.6, 0.2}
	replay := []float64{0.3, 0.05}
	var samples []metrics.Sample
	for _, s := range live {
		samples = append(samples, metrics.Sample{Label: metrics.BonaFide, Score: s})
	}
	for _, s := range print {
		samples = append(samples, metrics.Sample{Label: metrics.Attack, Species: "print", Score: s})
	}
	for _, s := range replay {
		samples = append(samples, metrics.Sample{Label: metrics.Attack, Species: "replay", Score: s})
	}
	rep, err := metrics.Evaluate(samples, 0.55, metrics.Options{})
	if err != nil {
		t.Fatal(err)
	}
	img := filepath.Join(imgDir, "p.png")
	m := image.NewRGBA(image.Rect(0, 0, 400, 200))
	for i := range m.Pix {
		m.Pix[i] = 200
	}
	f, err := os.Create(img)
	if err != nil {
		t.Fatal(err)
	}
	if err := png.Encode(f, m); err != nil {
		t.Fatal(err)
	}
	f.Close()
	limit := 0.1
	return Page{
		Title:  "test <eval>",
		Report: rep,
		Scores: Scores{BonaFide: live, Attack: map[string][]float64{"print": print, "replay": replay}},
		Gates:  metrics.Gates{MaxAPCER: &limit}.Check(rep),
		Worst: []Example{
			{Name: "spoof/print/p.png", Path: img, Label: metrics.Attack, Species: "print", Score: 0.6},
			{Name: "live/gone.png", Path: filepath.Join(imgDir, "gone.png"), Label: metrics.BonaFide, Score: 0.4},
		},
		TargetAPCER: 0.05,
		Notes:       []string{"10 presentations"},
	}
}

func TestWrite(t *testing.T) {
	page := testPage(t, t.TempDir())
	dir := filepath.Join(t.TempDir(), "out")
	if err := Write(context.Background(), dir, page); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, IndexFile))
	if err != nil {
		t.Fatal(err)
	}
	html := string(b)
	refs := regexp.MustCompile(`(?i)\b(?:src|href)\s*=\s*"([^"]*)"`).FindAllStringSubmatch(html, -1)
	var got []string
	for _, m := range refs {
		got = append(got, m[1])
		if strings.Contains(m[1], ":") || strings.HasPrefix(m[1], "/") || strings.Contains(m[1], "..") {
			t.Errorf("non-local reference %q", m[1])
		}
		if _, err := os.Stat(filepath.Join(dir, filepath.FromSlash(m[1]))); err != nil {
			t.Errorf("reference %q: %v", m[1], err)
		}
	}
	want := []string{DETFile, ROCFile, "hist-bona-fide.svg", "hist-attack-1.svg", "hist-attack-2.svg", "thumbs/attack-001.jpg"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("references %q, want %q", got, want)
	}
	for _, s := range []string{"test &lt;eval&gt;", "FAIL", "(no thumbnail: open:", "live/gone.png", "APCER print", "ROC AUC"} {
		if !strings.Contains(html, s) {
			t.Errorf("index.html lacks %q", s)
		}
	}
	for _, s := range []string{"http://", "https://", "<script", "url(", "@import"} {
		if strings.Contains(html, s) {
			t.Errorf("index.html contains %q: it must work offline", s)
		}
	}
	det, err := os.ReadFile(filepath.Join(dir, DETFile))
	if err != nil {
		t.Fatal(err)
	}
	for _, tick := range []string{">0.1%<", ">5%<", ">40%<", ">EER "} {
		if !strings.Contains(string(det), tick) {
			t.Errorf("DET plot lacks the label %q", tick)
		}
	}
	th, err := os.Open(filepath.Join(dir, "thumbs", "attack-001.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	defer th.Close()
	cfg, format, err := image.DecodeConfig(th)
	if err != nil || format != "jpeg" || cfg.Width != thumbMaxSide || cfg.Height != thumbMaxSide/2 {
		t.Errorf("thumbnail: %v, %s %dx%d; want a %dx%d jpeg", err, format, cfg.Width, cfg.Height, thumbMaxSide, thumbMaxSide/2)
	}
}

func TestWriteWithoutCurve(t *testing.T) {
	page := testPage(t, t.TempDir())
	page.Report.Curve = nil
	page.Worst = nil
	dir := t.TempDir()
	if err := Write(context.Background(), dir, page); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, DETFile)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("DET plot written without a curve: %v", err)
	}
	b, err := os.ReadFile(filepath.Join(dir, IndexFile))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), DETFile) {
		t.Error("index.html refers to a DET plot that was not drawn")
	}
}

func TestWriteCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := Write(ctx, t.TempDir(), testPage(t, t.TempDir())); !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
}

func TestHistogramBins(t *testing.T) {
	tests := []struct {
		scores    []float64
		lo, hi    float64
		wantFirst float64 // weight of the first bin
		wantLast  float64 // weight of the last bin
		wantTotal float64
	}{
		{[]float64{0, 0.01, 0.5, 1, 1}, 0, 1, 2, 2, 5},
		{[]float64{-1, 0.5, 3}, -1, 3, 1, 1, 3},
		{nil, 0, 1, 0, 0, 0},
	}
	for _, tt := range tests {
		bins := scoreBins(tt.scores)
		if len(bins) != histBins || bins[0].Min != tt.lo || math.Abs(bins[histBins-1].Max-tt.hi) > 1e-12 {
			t.Errorf("%v: %d bins over %g..%g, want %d over %g..%g", tt.scores, len(bins), bins[0].Min, bins[len(bins)-1].Max, histBins, tt.lo, tt.hi)
			continue
		}
		total := 0.0
		for _, b := range bins {
			total += b.Weight
		}
		if bins[0].Weight != tt.wantFirst || bins[histBins-1].Weight != tt.wantLast || total != tt.wantTotal {
			t.Errorf("%v: first %g last %g total %g, want %g %g %g", tt.scores, bins[0].Weight, bins[histBins-1].Weight, total, tt.wantFirst, tt.wantLast, tt.wantTotal)
		}
	}
	if _, err := histPlot("x", []float64{0.2, 0.7}, 0.55, color.Black); err != nil {
		t.Fatal(err)
	}
}
