package check

import (
	"bufio"
	"encoding/json"
	"errors"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/spoofsense/spoofsense/models/fixtures"
	"github.com/spoofsense/spoofsense/scorer"
)

// TestEndToEnd builds the spoofsense binary and runs `check` on sample images of the dev set
// with the shared models, comparing each result with the OpenCV reference run
// (golden/dev/dev_opencv_rawbox.csv: same box, same single-crop policy).
func TestEndToEnd(t *testing.T) {
	dev := fixtures.Path(t, "data", "dev")
	modelsDir := fixtures.Path(t, "models")
	golden := readGolden(t)

	bin := filepath.Join(t.TempDir(), "spoofsense")
	build := exec.Command("go", "build", "-o", bin, "github.com/spoofsense/spoofsense")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}

	samples := []string{"live/1.jpg", "live/10.jpg", "spoof/1.jpg", "spoof/10.jpg", "spoof/100.jpg"}
	args := []string{"check", "--models", modelsDir, "-o", "ndjson", "--workers", "2", "--crops", "single", "--box", "raw"}
	wantExit := 0
	for _, s := range samples {
		args = append(args, filepath.Join(dev, s))
		if golden[s].prob < scorer.DefaultThreshold {
			wantExit = 1
		}
	}
	cmd := exec.Command(bin, args...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	if code != wantExit {
		t.Errorf("exit %d, want %d\nstderr: %s", code, wantExit, stderr.String())
	}

	var i int
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	for ; sc.Scan(); i++ {
		var r scorer.Result
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("line %d: %v", i+1, err)
		}
		if i >= len(samples) {
			t.Fatalf("more rows than inputs: %s", sc.Text())
		}
		want := golden[samples[i]]
		if r.File != filepath.Join(dev, samples[i]) || r.Status != scorer.StatusOK || r.Face == nil {
			t.Errorf("row %d: %+v", i+1, r)
			continue
		}
		if math.Abs(r.ProbReal-want.prob) > 0.01 {
			t.Errorf("%s: prob_real %.4f, reference %.4f", samples[i], r.ProbReal, want.prob)
		}
		if b := r.Face.Box; abs(b.X-want.box.X) > 2 || abs(b.Y-want.box.Y) > 2 || abs(b.W-want.box.W) > 2 || abs(b.H-want.box.H) > 2 {
			t.Errorf("%s: box %+v, reference %+v", samples[i], b, want.box)
		}
	}
	if i != len(samples) {
		t.Errorf("%d rows for %d inputs", i, len(samples))
	}
	if !strings.Contains(stderr.String(), strconv.Itoa(len(samples))+" images:") {
		t.Errorf("no summary line: %q", stderr.String())
	}
}

type goldenRow struct {
	prob float64
	box  scorer.Box
}

func readGolden(t *testing.T) map[string]goldenRow {
	t.Helper()
	atoi := func(s string) int { v, _ := strconv.Atoi(s); return v }
	m := map[string]goldenRow{}
	for _, r := range fixtures.ReadCSV(t, "golden", "dev", "dev_opencv_rawbox.csv") {
		p, _ := strconv.ParseFloat(r["prob_real"], 64)
		m[r["file"]] = goldenRow{prob: p, box: scorer.Box{X: atoi(r["x"]), Y: atoi(r["y"]), W: atoi(r["w"]), H: atoi(r["h"])}}
	}
	return m
}

func abs(x int) int { return max(x, -x) }
