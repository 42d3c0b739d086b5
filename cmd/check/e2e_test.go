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

	"github.com/spoofsense/spoofsense/cmd/cmdutil"
	"github.com/spoofsense/spoofsense/models/fixtures"
	"github.com/spoofsense/spoofsense/preprocess"
	"github.com/spoofsense/spoofsense/preprocess/preprocesstest"
	"github.com/spoofsense/spoofsense/scorer"
)

// TestEndToEnd builds the spoofsense binary and runs `check` on sample images of the dev set
// with the shared models, comparing each result with the OpenCV reference run
// (golden/dev/dev_opencv_rawbox.csv: same box, same single-crop policy).
func TestEndToEnd(t *testing.T) {
	dev := fixtures.Path(t, "data", "dev")
	modelsDir := fixtures.Path(t, "models")
	golden := readGolden(t)

	bin := buildBinary(t)

	samples := []string{"live/1.jpg", "live/10.jpg", "spoof/1.jpg", "spoof/10.jpg", "spoof/100.jpg"}
	args := []string{"check", "--models", modelsDir, "-o", "ndjson", "--workers", "2", "--crops", "single", "--box", "raw", "--nets", "MiniFASNetV2,MiniFASNetV1SE"}
	wantExit := 0
	for _, s := range samples {
		args = append(args, filepath.Join(dev, s))
		if golden[s].prob < scorer.DefaultThreshold {
			wantExit = 1
		}
	}
	out, stderr, code := runBinary(t, bin, args...)
	if code != wantExit {
		t.Errorf("exit %d, want %d\nstderr: %s", code, wantExit, stderr)
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
	if !strings.Contains(stderr, strconv.Itoa(len(samples))+" images:") {
		t.Errorf("no summary line: %q", stderr)
	}
}

// TestEndToEndGeneratedInputs runs the binary on the folder of generated inputs a user can try
// (testdata/inputs): one row per file in name order, each with the verdict or the error
// preprocesstest.Inputs says, and exit 3 because some could not be read.
func TestEndToEndGeneratedInputs(t *testing.T) {
	bin := buildBinary(t)
	dir := filepath.Join("..", "..", filepath.FromSlash(preprocesstest.InputsDir))
	out, stderr, code := runBinary(t, bin, "check", "--models", fixtures.Path(t, "models"), "-o", "ndjson", "--workers", "2", dir)
	if code != cmdutil.ExitFileError {
		t.Errorf("exit %d, want 3\nstderr: %s", code, stderr)
	}
	inputs := preprocesstest.Inputs()
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != len(inputs) {
		t.Fatalf("%d rows for %d files:\n%s", len(lines), len(inputs), out)
	}
	for i, in := range inputs {
		var r scorer.Result
		if err := json.Unmarshal([]byte(lines[i]), &r); err != nil {
			t.Fatalf("row %d: %v", i+1, err)
		}
		switch {
		case r.File != filepath.Join(dir, in.Name):
			t.Errorf("row %d is %s, want %s", i+1, r.File, in.Name)
		case in.Verdict != "" && (r.Status != scorer.StatusOK || string(r.Verdict) != in.Verdict):
			t.Errorf("%s: status %s verdict %q error %q, want verdict %s", in.Name, r.Status, r.Verdict, r.Error, in.Verdict)
		case in.Error != "" && (r.Status != scorer.StatusError || !strings.Contains(r.Error, in.Error) || strings.Contains(r.Error, "\n")):
			t.Errorf("%s: status %s error %q, want one line saying %q", in.Name, r.Status, r.Error, in.Error)
		}
	}
}

// buildBinary builds spoofsense (without embedded models) into a temporary directory.
func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "spoofsense")
	build := exec.Command("go", "build", "-o", bin, "github.com/spoofsense/spoofsense")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// runBinary runs bin with args and returns its standard output, standard error and exit code.
func runBinary(t *testing.T, bin string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	var errBuf strings.Builder
	cmd.Stderr = &errBuf
	out, err := cmd.Output()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return string(out), errBuf.String(), code
}

type goldenRow struct {
	prob float64
	box  preprocess.Box
}

func readGolden(t *testing.T) map[string]goldenRow {
	t.Helper()
	m := map[string]goldenRow{}
	for _, r := range fixtures.ReadCSV(t, "golden", "dev", "dev_opencv_rawbox.csv") {
		if r["faces"] == "0" {
			continue // no box, no probability: not a sample this test scores
		}
		p, _ := strconv.ParseFloat(r["prob_real"], 64)
		b := fixtures.CSVBox(t, r)
		m[r["file"]] = goldenRow{prob: p, box: preprocess.Box{X: b[0], Y: b[1], W: b[2], H: b[3]}}
	}
	return m
}

func abs(x int) int { return max(x, -x) }
