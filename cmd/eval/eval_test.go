package eval

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spoofsense/spoofsense/cmd/cmdutil"
	"github.com/spoofsense/spoofsense/models/fixtures"
	"github.com/spoofsense/spoofsense/report/dataset/datasettest"
	"github.com/spoofsense/spoofsense/report/metrics"
	"github.com/spoofsense/spoofsense/scorer"
)

// result is what one command run produced.
type result struct {
	code        int
	err         error
	out, errOut string
}

// runEval executes `spoofsense eval <args>` over a root with the global --models flag, mapping
// errors to exit codes as cmd.Run does. f may be nil.
func runEval(t *testing.T, f *cmdutil.Factory, args []string, runF func(*EvalOptions) error) result {
	t.Helper()
	ios, _, out, errOut := cmdutil.Test()
	if f == nil {
		f = &cmdutil.Factory{}
	}
	f.IOStreams = ios
	root := &cobra.Command{Use: "spoofsense", SilenceUsage: true, SilenceErrors: true}
	root.SetOut(ios.Out)
	root.SetErr(ios.ErrOut)
	root.PersistentFlags().StringVar(&f.ModelsDir, "models", "", "model directory")
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error {
		return &cmdutil.ExitError{Code: cmdutil.ExitUsage, Err: err}
	})
	root.AddCommand(NewCmdEval(f, runF))
	root.SetArgs(append([]string{"eval"}, args...))
	err := root.ExecuteContext(context.Background())
	code := cmdutil.ExitCode(err)
	var ee *cmdutil.ExitError
	if err != nil && !errors.As(err, &ee) {
		code = cmdutil.ExitUsage // cobra's own argument errors, as in cmd.Run
	}
	return result{code: code, err: err, out: out.String(), errOut: errOut.String()}
}

// fakeScorer reads an image "file" whose content is its prob_real, "noface" or "broken".
type fakeScorer struct{ calls atomic.Int32 }

func (s *fakeScorer) ScoreReader(_ context.Context, r io.Reader, name string) (scorer.Result, error) {
	s.calls.Add(1)
	b, err := io.ReadAll(r)
	if err != nil {
		return scorer.Result{}, err
	}
	switch content := strings.TrimSpace(string(b)); content {
	case "noface":
		return scorer.Result{File: name, Status: scorer.StatusOK, Verdict: scorer.NoFace}, nil
	case "broken":
		return scorer.Result{}, errors.New("decode: not an image")
	default:
		p, err := strconv.ParseFloat(content, 64)
		if err != nil {
			return scorer.Result{}, fmt.Errorf("decode: %w", err)
		}
		v := scorer.Spoof
		if p >= 0.55 {
			v = scorer.Live
		}
		return scorer.Result{File: name, Status: scorer.StatusOK, Verdict: v, ProbReal: p, FaceCount: 1}, nil
	}
}

// fakeFactory returns a factory whose scorer is s.
func fakeFactory(s *fakeScorer) *cmdutil.Factory {
	return &cmdutil.Factory{NewScorer: func(context.Context, scorer.Options) (cmdutil.ImageScorer, error) {
		return s, nil
	}}
}

// smallSet is a dataset of "images" holding their scores: 4 live, 3 print, 2 replay attacks,
// one live image without a face and one unreadable attack.
var smallSet = map[string]string{
	"live/a.jpg": "0.9", "live/b.jpg": "0.8", "live/c.jpg": "0.6", "live/d.jpg": "0.3", "live/nf.jpg": "noface",
	"spoof/print/p1.jpg": "0.1", "spoof/print/p2.jpg": "0.2", "spoof/print/p3.jpg": "0.7",
	"spoof/replay/r1.jpg": "0.05", "spoof/replay/r2.jpg": "0.4", "spoof/replay/bad.jpg": "broken",
}

// decodeResult parses eval's JSON output.
func decodeResult(t *testing.T, out string) Result {
	t.Helper()
	var res Result
	dec := json.NewDecoder(strings.NewReader(out))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&res); err != nil {
		t.Fatalf("decode JSON output: %v\n%s", err, out)
	}
	return res
}

func TestFlagsReachOptions(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantErr  string
		check    func(t *testing.T, o *EvalOptions)
	}{
		{name: "defaults", args: []string{dir}, check: func(t *testing.T, o *EvalOptions) {
			if o.Dir != dir || o.Threshold != 0.55 || o.TargetAPCER != 0.05 || o.Tolerance != 0.01 ||
				o.Format != JSON || o.Gates != (metrics.Gates{}) || o.Scorer.Threshold != 0.55 || o.Scorer.Box != scorer.BoxRaw {
				t.Errorf("options = %+v", o)
			}
		}},
		{name: "gates and baseline", args: []string{dir, "--max-apcer", "0.1", "--min-auc", "0", "--baseline", "b.json", "--tolerance", "0.02", "-o", "table"},
			check: func(t *testing.T, o *EvalOptions) {
				if o.Gates.MaxAPCER == nil || *o.Gates.MaxAPCER != 0.1 || o.Gates.MinAUC == nil || *o.Gates.MinAUC != 0 ||
					o.Gates.MaxBPCER != nil || o.Gates.MaxACER != nil || o.Baseline != "b.json" || o.Tolerance != 0.02 || o.Format != Table {
					t.Errorf("options = %+v, gates %+v", o, o.Gates)
				}
			}},
		{name: "manifest", args: []string{"--manifest", "m.csv", "--crops", "multi", "--box", "mapped", "--threshold", "0.7"},
			check: func(t *testing.T, o *EvalOptions) {
				if o.Manifest != "m.csv" || o.Dir != "" || o.Scorer.Crops != scorer.CropsMulti || o.Scorer.Box != scorer.BoxMapped || o.Scorer.Threshold != 0.7 {
					t.Errorf("options = %+v", o)
				}
			}},
		{name: "no dataset", args: nil, wantCode: 2, wantErr: "no dataset"},
		{name: "dir and manifest", args: []string{dir, "--manifest", "m.csv"}, wantCode: 2, wantErr: "not both"},
		{name: "two dirs", args: []string{dir, dir}, wantCode: 2},
		{name: "bad threshold", args: []string{dir, "--threshold", "0"}, wantCode: 2, wantErr: "--threshold"},
		{name: "subnormal threshold", args: []string{dir, "--threshold", "1e-320"}, wantCode: 2, wantErr: "--threshold"},
		{name: "NaN threshold", args: []string{dir, "--threshold", "NaN"}, wantCode: 2, wantErr: "--threshold"},
		{name: "bad target", args: []string{dir, "--target-apcer", "1"}, wantCode: 2, wantErr: "--target-apcer"},
		{name: "bad nets", args: []string{dir, "--nets", "MiniFASNetV2,UltraFace-RFB-320"}, wantCode: 2, wantErr: "--nets"},
		{name: "bad gate", args: []string{dir, "--max-bpcer", "1.5"}, wantCode: 2, wantErr: "--max-bpcer"},
		{name: "tolerance without baseline", args: []string{dir, "--tolerance", "0.1"}, wantCode: 2, wantErr: "--baseline"},
		{name: "bad format", args: []string{dir, "-o", "csv"}, wantCode: 2, wantErr: "--output"},
		{name: "bad box", args: []string{dir, "--box", "square"}, wantCode: 2, wantErr: "--box"},
		{name: "bad workers", args: []string{dir, "--workers", "0"}, wantCode: 2, wantErr: "--workers"},
		{name: "unknown flag", args: []string{dir, "--nope"}, wantCode: 2, wantErr: "unknown flag"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got *EvalOptions
			r := runEval(t, nil, tt.args, func(o *EvalOptions) error { got = o; return nil })
			if r.code != tt.wantCode {
				t.Fatalf("exit code %d, want %d (err %v)", r.code, tt.wantCode, r.err)
			}
			if tt.wantErr != "" && (r.err == nil || !strings.Contains(r.err.Error(), tt.wantErr)) {
				t.Errorf("err = %v, want it to mention %q", r.err, tt.wantErr)
			}
			if tt.check != nil {
				if got == nil {
					t.Fatal("run func not called")
				}
				tt.check(t, got)
			}
		})
	}
}

func TestScoreAndEvaluate(t *testing.T) {
	dir := t.TempDir()
	datasettest.WriteFiles(t, dir, smallSet)
	fake := &fakeScorer{}
	saved := filepath.Join(t.TempDir(), "scores.ndjson")
	r := runEval(t, fakeFactory(fake), []string{dir, "-o", "json", "--workers", "3", "--save-scores", saved}, nil)
	if r.code != 0 {
		t.Fatalf("exit code %d: %v\n%s", r.code, r.err, r.errOut)
	}
	if n := fake.calls.Load(); n != int32(len(smallSet)) {
		t.Errorf("scorer called %d times, want %d", n, len(smallSet))
	}
	res := decodeResult(t, r.out)
	// Live: 0.9 0.8 0.6 accepted, 0.3 rejected, one no face. Print: 0.7 accepted of 3.
	// Replay: none of 2 accepted, one unreadable.
	checks := []struct {
		name      string
		got, want float64
	}{
		{"bpcer", res.BPCER.Value.Float64, 0.25},
		{"apcer (worst: print)", res.APCER.Value.Float64, 1.0 / 3},
		{"apcer pooled", res.APCERPooled.Value.Float64, 1.0 / 5},
		{"acer", res.ACER.Float64, (0.25 + 1.0/3) / 2},
		{"bpnrr", res.BPNRR.Value.Float64, 1.0 / 5},
		{"apnrr", res.APNRR.Value.Float64, 1.0 / 6},
		{"replay apcer", res.Species["replay"].APCER.Value.Float64, 0},
		// AUC: pairs (live, attack) with live > attack: 0.9,0.8 beat all 5; 0.6 beats 4; 0.3 beats 3.
		{"auc", res.AUC.Float64, (5 + 5 + 4 + 3) / 20.0},
	}
	for _, c := range checks {
		if math.Abs(c.got-c.want) > 1e-12 {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
	if res.APCERSpecies != "print" || res.Counts.Attack.Unreadable != 1 || res.Counts.BonaFide.NoFace != 1 {
		t.Errorf("apcer species %q, counts %+v", res.APCERSpecies, res.Counts)
	}
	if res.Dataset.Scored != len(smallSet) || res.Dataset.FromScores != 0 || !res.Passed || len(res.Gates) != 0 {
		t.Errorf("dataset %+v, passed %v, gates %v", res.Dataset, res.Passed, res.Gates)
	}
	if res.Recommended == nil || res.Recommended.Target != 0.05 {
		t.Errorf("recommended = %+v, want the point for APCER 5%%", res.Recommended)
	}

	// The saved scores re-evaluate to the same report without scoring, from another directory.
	t.Chdir(t.TempDir())
	fake2 := &fakeScorer{}
	r2 := runEval(t, fakeFactory(fake2), []string{dir, "-o", "json", "--scores", saved}, nil)
	if r2.code != 0 {
		t.Fatalf("re-evaluation: exit code %d: %v", r2.code, r2.err)
	}
	if n := fake2.calls.Load(); n != 0 {
		t.Errorf("re-evaluation scored %d images, want 0", n)
	}
	res2 := decodeResult(t, r2.out)
	a, _ := json.Marshal(res.Report)
	b, _ := json.Marshal(res2.Report)
	if string(a) != string(b) {
		t.Errorf("re-evaluated report differs:\n%s\n%s", a, b)
	}
	if res2.Dataset.FromScores != len(smallSet) || res2.Dataset.Scored != 0 {
		t.Errorf("re-evaluation dataset info %+v", res2.Dataset)
	}
}

// writeScoreFile writes results as NDJSON and returns the file name.
func writeScoreFile(t *testing.T, results []scorer.Result) string {
	t.Helper()
	var b strings.Builder
	for _, r := range results {
		line, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		b.Write(line)
		b.WriteByte('\n')
	}
	name := filepath.Join(t.TempDir(), "scores.ndjson")
	if err := os.WriteFile(name, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return name
}

// okResult is a scored result for a file.
func okResult(file string, p float64) scorer.Result {
	v := scorer.Spoof
	if p >= 0.55 {
		v = scorer.Live
	}
	return scorer.Result{File: file, Status: scorer.StatusOK, Verdict: v, ProbReal: p, FaceCount: 1}
}

func TestScoresFileMatching(t *testing.T) {
	dir := t.TempDir()
	datasettest.WriteFiles(t, dir, map[string]string{"live/a.jpg": "0.9", "live/b.jpg": "0.2", "spoof/x.jpg": "0.3", "spoof/y.jpg": "0.8"})
	abs, err := filepath.Abs(dir)
	if err != nil {
		t.Fatal(err)
	}
	// check run elsewhere: absolute paths, a path relative to the root, a check-style path
	// relative to the working directory, and a result for a file outside the dataset.
	t.Chdir(filepath.Dir(abs))
	fromCwd := filepath.Join(filepath.Base(abs), "spoof", "x.jpg")
	scores := writeScoreFile(t, []scorer.Result{
		okResult(filepath.Join(abs, "live", "a.jpg"), 0.9),
		okResult("live/b.jpg", 0.2),
		okResult(fromCwd, 0.3),
		okResult("elsewhere/z.jpg", 0.5),
	})
	fake := &fakeScorer{}
	r := runEval(t, fakeFactory(fake), []string{filepath.Base(abs), "-o", "json", "--scores", scores}, nil)
	if r.code != 0 {
		t.Fatalf("exit code %d: %v", r.code, r.err)
	}
	res := decodeResult(t, r.out)
	if n := fake.calls.Load(); n != 1 || res.Dataset.FromScores != 3 || res.Dataset.Scored != 1 {
		t.Errorf("scored %d (info %+v), want only spoof/y.jpg scored", n, res.Dataset)
	}
	for _, want := range []string{"1 results in " + scores + " are for files outside the dataset", "1 of 4 images have no result"} {
		if !strings.Contains(r.errOut, want) {
			t.Errorf("stderr %q lacks %q", r.errOut, want)
		}
	}
	if res.APCERPooled.Count != 1 || res.BPCER.Count != 1 {
		t.Errorf("apcer pooled %+v, bpcer %+v", res.APCERPooled, res.BPCER)
	}
}

func TestScoresFileProblems(t *testing.T) {
	dir := t.TempDir()
	datasettest.WriteFiles(t, dir, map[string]string{"live/a.jpg": "0.9", "spoof/x.jpg": "0.3"})
	tests := []struct {
		name    string
		content string
		want    string
	}{
		{"not json", "{\"file\":\"live/a.jpg\",\"status\":\"ok\",\"verdict\":\"live\"}\nnonsense\n", "scores.ndjson:2: not a JSON result"},
		{"duplicate", "{\"file\":\"live/a.jpg\",\"status\":\"ok\",\"verdict\":\"live\",\"prob_real\":0.9}\n\n{\"file\":\"./live/a.jpg\",\"status\":\"ok\",\"verdict\":\"live\",\"prob_real\":0.9}\n", "scores.ndjson:3: second result for live/a.jpg (first on line 1)"},
		{"bad verdict", "{\"file\":\"live/a.jpg\",\"status\":\"ok\",\"verdict\":\"maybe\"}\n", `scores.ndjson:1: live/a.jpg: unknown verdict "maybe"`},
		{"json document", "{\"results\":[],\"summary\":{}}\n", "check -o json"},
		{"non-finite score", "{\"file\":\"live/a.jpg\",\"status\":\"ok\",\"verdict\":\"live\",\"prob_real\":1e999}\n", "scores.ndjson"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			name := filepath.Join(t.TempDir(), "scores.ndjson")
			if err := os.WriteFile(name, []byte(tt.content), 0o644); err != nil {
				t.Fatal(err)
			}
			fake := &fakeScorer{}
			r := runEval(t, fakeFactory(fake), []string{dir, "--scores", name}, nil)
			if r.code != cmdutil.ExitUsage {
				t.Fatalf("exit code %d, want 2 (err %v)", r.code, r.err)
			}
			if !strings.Contains(r.err.Error(), tt.want) {
				t.Errorf("err = %q, want it to contain %q", r.err, tt.want)
			}
			if n := fake.calls.Load(); n != 0 {
				t.Errorf("scored %d images before failing", n)
			}
		})
	}
}

func TestDatasetErrorsAreUsageErrors(t *testing.T) {
	dir := t.TempDir()
	datasettest.WriteFiles(t, dir, map[string]string{"live/a.jpg": "0.9", "m.csv": "path,label\nlive/a.jpg,live\nlive/b.jpg,live\nlive/a.jpg,spoof\n"})
	r := runEval(t, fakeFactory(&fakeScorer{}), []string{"--manifest", filepath.Join(dir, "m.csv")}, nil)
	if r.code != cmdutil.ExitUsage {
		t.Fatalf("exit code %d, want 2", r.code)
	}
	for _, want := range []string{"2 problems", "m.csv:3: live/b.jpg: no such file", "m.csv:4: duplicate path live/a.jpg (first on line 2)"} {
		if !strings.Contains(r.err.Error(), want) {
			t.Errorf("error %q lacks %q", r.err, want)
		}
	}
	r = runEval(t, fakeFactory(&fakeScorer{}), []string{filepath.Join(dir, "live")}, nil)
	if r.code != cmdutil.ExitUsage || !strings.Contains(r.err.Error(), "no live/ or spoof/ folder") {
		t.Errorf("dir without layout: code %d, err %v", r.code, r.err)
	}
}

func TestScorerFailure(t *testing.T) {
	dir := t.TempDir()
	datasettest.WriteFiles(t, dir, map[string]string{"live/a.jpg": "0.9"})
	f := &cmdutil.Factory{NewScorer: func(context.Context, scorer.Options) (cmdutil.ImageScorer, error) {
		return nil, errors.New("model file missing")
	}}
	r := runEval(t, f, []string{dir}, nil)
	// Exit 4, not 1: in CI a broken installation must not read as a failed gate.
	if r.code != cmdutil.ExitCannotRun || !strings.Contains(r.err.Error(), "load models: model file missing") {
		t.Errorf("code %d, err %v; want 4 and the load error", r.code, r.err)
	}
}

// junitDoc is the part of a JUnit file CI systems read.
type junitDoc struct {
	XMLName  xml.Name `xml:"testsuites"`
	Tests    int      `xml:"tests,attr"`
	Failures int      `xml:"failures,attr"`
	Suites   []struct {
		Name     string `xml:"name,attr"`
		Tests    int    `xml:"tests,attr"`
		Failures int    `xml:"failures,attr"`
		Cases    []struct {
			Name      string `xml:"name,attr"`
			ClassName string `xml:"classname,attr"`
			Failure   *struct {
				Message string `xml:"message,attr"`
			} `xml:"failure"`
			Skipped *struct{} `xml:"skipped"`
		} `xml:"testcase"`
	} `xml:"testsuite"`
}

func readJUnit(t *testing.T, name string) junitDoc {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	var doc junitDoc
	if err := xml.Unmarshal(b, &doc); err != nil {
		t.Fatalf("parse JUnit: %v\n%s", err, b)
	}
	return doc
}

func TestGatesExitCodesAndJUnit(t *testing.T) {
	dir := t.TempDir()
	datasettest.WriteFiles(t, dir, smallSet)
	saved := filepath.Join(t.TempDir(), "scores.ndjson")
	if r := runEval(t, fakeFactory(&fakeScorer{}), []string{dir, "--save-scores", saved}, nil); r.code != 0 {
		t.Fatalf("scoring run: %d %v", r.code, r.err)
	}
	// The set's metrics: APCER 1/3, BPCER 0.25, ACER 0.2917, AUC 0.85.
	tests := []struct {
		name       string
		gates      []string
		wantCode   int
		wantFailed []string // names of the failing test cases
		wantCases  int
	}{
		{"no gates", nil, 0, nil, 0},
		{"all hold", []string{"--max-apcer", "0.34", "--max-bpcer", "0.25", "--max-acer", "0.3", "--min-auc", "0.85"}, 0, nil, 4},
		{"apcer fails", []string{"--max-apcer", "0.3", "--min-auc", "0.8"}, 1, []string{"max_apcer"}, 2},
		{"two fail", []string{"--max-bpcer", "0.2", "--min-auc", "0.9"}, 1, []string{"max_bpcer", "min_auc"}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			junit := filepath.Join(t.TempDir(), "eval.xml")
			args := append([]string{dir, "--scores", saved, "-o", "table", "--junit", junit}, tt.gates...)
			r := runEval(t, fakeFactory(&fakeScorer{}), args, nil)
			if r.code != tt.wantCode {
				t.Fatalf("exit code %d, want %d (err %v)\n%s", r.code, tt.wantCode, r.err, r.out)
			}
			doc := readJUnit(t, junit)
			if len(doc.Suites) != 1 || doc.Suites[0].Tests != tt.wantCases || len(doc.Suites[0].Cases) != tt.wantCases ||
				doc.Failures != len(tt.wantFailed) || doc.Suites[0].Failures != len(tt.wantFailed) {
				t.Fatalf("JUnit %+v, want %d cases and %d failures", doc, tt.wantCases, len(tt.wantFailed))
			}
			var failed []string
			for _, c := range doc.Suites[0].Cases {
				if c.Failure != nil {
					failed = append(failed, c.Name)
				}
			}
			if !slices.Equal(failed, tt.wantFailed) {
				t.Errorf("failed cases %q, want %q", failed, tt.wantFailed)
			}
			for _, name := range tt.wantFailed {
				if !regexp.MustCompile(`(?m)^│ ` + name + ` .*FAIL`).MatchString(r.out) {
					t.Errorf("table does not mark %s as failed:\n%s", name, r.out)
				}
				if !strings.Contains(r.err.Error(), name) {
					t.Errorf("error %q does not name %s", r.err, name)
				}
			}
			if tt.wantCode == 0 && tt.wantCases > 0 && !strings.Contains(r.out, "PASS: every gate held") {
				t.Errorf("table lacks the PASS line:\n%s", r.out)
			}
		})
	}
}

func TestBaseline(t *testing.T) {
	dir := t.TempDir()
	datasettest.WriteFiles(t, dir, smallSet)
	fake := &fakeScorer{}
	r := runEval(t, fakeFactory(fake), []string{dir, "-o", "json"}, nil)
	if r.code != 0 {
		t.Fatal(r.err)
	}
	baseline := filepath.Join(t.TempDir(), "baseline.json")
	if err := os.WriteFile(baseline, []byte(r.out), 0o644); err != nil {
		t.Fatal(err)
	}
	// The same data holds against its own baseline.
	r = runEval(t, fakeFactory(fake), []string{dir, "-o", "json", "--baseline", baseline}, nil)
	if r.code != 0 {
		t.Fatalf("same data: exit code %d (%v)", r.code, r.err)
	}
	res := decodeResult(t, r.out)
	if res.Baseline == nil || len(res.Baseline.Diffs) == 0 || len(res.Baseline.Regressions) != 0 || !res.Passed {
		t.Fatalf("baseline result %+v", res.Baseline)
	}

	// One live image scored lower: BPCER rises from 1/4 to 2/4.
	datasettest.WriteFiles(t, dir, map[string]string{"live/c.jpg": "0.5"})
	junit := filepath.Join(t.TempDir(), "eval.xml")
	r = runEval(t, fakeFactory(fake), []string{dir, "-o", "json", "--baseline", baseline, "--junit", junit}, nil)
	if r.code != cmdutil.ExitFail {
		t.Fatalf("worse data: exit code %d, want 1 (%v)", r.code, r.err)
	}
	res = decodeResult(t, r.out)
	if !slices.Contains(res.Baseline.Regressions, "bpcer") || res.Passed {
		t.Errorf("regressions %q, passed %v; want bpcer among them", res.Baseline.Regressions, res.Passed)
	}
	if !strings.Contains(r.err.Error(), "baseline") || !strings.Contains(r.err.Error(), "bpcer") {
		t.Errorf("error %q does not name the baseline regression", r.err)
	}
	doc := readJUnit(t, junit)
	var failed []string
	for _, c := range doc.Suites[0].Cases {
		if c.Failure != nil {
			failed = append(failed, c.ClassName+"/"+c.Name)
		}
	}
	if !slices.Contains(failed, "spoofsense.eval.baseline/bpcer") {
		t.Errorf("JUnit failures %q lack the bpcer regression", failed)
	}

	// A generous tolerance lets it pass.
	if r = runEval(t, fakeFactory(fake), []string{dir, "--baseline", baseline, "--tolerance", "0.5"}, nil); r.code != 0 {
		t.Errorf("tolerance 0.5: exit code %d (%v)", r.code, r.err)
	}

	for _, tc := range []struct {
		name, content string
		args          []string
		want          string
	}{
		{"other threshold", "", []string{"--threshold", "0.6"}, "pass --threshold 0.55"},
		{"not a report", `{"results": []}`, nil, "not an eval -o json report"},
		{"not json", `nonsense`, nil, "not an eval -o json report"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			name := baseline
			if tc.content != "" {
				name = filepath.Join(t.TempDir(), "b.json")
				if err := os.WriteFile(name, []byte(tc.content), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			calls := fake.calls.Load()
			r := runEval(t, fakeFactory(fake), append([]string{dir, "--baseline", name}, tc.args...), nil)
			if r.code != cmdutil.ExitUsage || !strings.Contains(r.err.Error(), tc.want) {
				t.Errorf("code %d, err %v; want 2 and %q", r.code, r.err, tc.want)
			}
			if fake.calls.Load() != calls {
				t.Error("images were scored before the baseline was checked")
			}
		})
	}
}

// writePNG writes a small solid PNG image.
func writePNG(t *testing.T, name string, c color.Color) {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 40, 30))
	for y := range 30 {
		for x := range 40 {
			img.Set(x, y, c)
		}
	}
	f, err := os.Create(name)
	if err != nil {
		t.Fatal(err)
	}
	if err := png.Encode(f, img); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// localRefs matches the src and href attributes of an HTML page.
var localRefs = regexp.MustCompile(`(?i)\b(?:src|href)\s*=\s*"([^"]*)"`)

// checkReportDir checks that dir holds an index.html whose references are all relative links to
// files in dir, that it has the DET and ROC plots and a histogram per class, and returns the
// references.
func checkReportDir(t *testing.T, dir string, wantHists int) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "index.html"))
	if err != nil {
		t.Fatal(err)
	}
	page := string(b)
	for _, bad := range []string{"http://", "https://", "<script", "@import", "url("} {
		if strings.Contains(strings.ToLower(page), bad) {
			t.Errorf("index.html contains %q", bad)
		}
	}
	var refs []string
	for _, m := range localRefs.FindAllStringSubmatch(page, -1) {
		ref := m[1]
		refs = append(refs, ref)
		if strings.HasPrefix(ref, "/") || strings.Contains(ref, ":") || strings.Contains(ref, "..") || strings.HasPrefix(ref, "//") {
			t.Errorf("reference %q is not a relative link inside the report", ref)
			continue
		}
		if _, err := os.Stat(filepath.Join(dir, filepath.FromSlash(ref))); err != nil {
			t.Errorf("reference %q: %v", ref, err)
		}
	}
	for _, want := range []string{"det.svg", "roc.svg"} {
		if !slices.Contains(refs, want) {
			t.Errorf("index.html does not show %s; refs %q", want, refs)
		}
	}
	hists := 0
	for _, ref := range refs {
		if strings.HasPrefix(ref, "hist-") && strings.HasSuffix(ref, ".svg") {
			hists++
		}
		if strings.HasSuffix(ref, ".svg") {
			svg, err := os.ReadFile(filepath.Join(dir, ref))
			if err != nil {
				continue
			}
			if regexp.MustCompile(`(?i)href\s*=\s*"(https?:)?//`).Match(svg) {
				t.Errorf("%s links outside the report", ref)
			}
		}
	}
	if hists != wantHists {
		t.Errorf("%d histograms, want %d", hists, wantHists)
	}
	return refs
}

func TestHTMLReport(t *testing.T) {
	dir := t.TempDir()
	datasettest.WriteFiles(t, dir, map[string]string{"live/b.png": "", "live/c.png": "", "spoof/print/p.png": "", "spoof/replay/r.png": ""})
	writePNG(t, filepath.Join(dir, "live", "b.png"), color.RGBA{200, 0, 0, 255})
	writePNG(t, filepath.Join(dir, "live", "c.png"), color.RGBA{0, 200, 0, 255})
	writePNG(t, filepath.Join(dir, "spoof", "print", "p.png"), color.RGBA{0, 0, 200, 255})
	writePNG(t, filepath.Join(dir, "spoof", "replay", "r.png"), color.Gray{128})
	scores := writeScoreFile(t, []scorer.Result{
		okResult("live/b.png", 0.9), okResult("live/c.png", 0.3), // c is a rejected bona fide
		okResult("spoof/print/p.png", 0.8), okResult("spoof/replay/r.png", 0.1), // p is an accepted attack
	})
	out := filepath.Join(t.TempDir(), "report")
	r := runEval(t, fakeFactory(&fakeScorer{}), []string{dir, "--scores", scores, "--report", out}, nil)
	if r.code != 0 {
		t.Fatalf("exit code %d: %v", r.code, r.err)
	}
	refs := checkReportDir(t, out, 3)
	var thumbs []string
	for _, ref := range refs {
		if strings.HasPrefix(ref, "thumbs/") {
			thumbs = append(thumbs, ref)
		}
	}
	if len(thumbs) != 2 {
		t.Fatalf("thumbnails %q, want the accepted attack and the rejected bona fide", thumbs)
	}
	for _, th := range thumbs {
		f, err := os.Open(filepath.Join(out, th))
		if err != nil {
			t.Fatal(err)
		}
		cfg, format, err := image.DecodeConfig(f)
		f.Close()
		if err != nil || format != "jpeg" || cfg.Width != 40 || cfg.Height != 30 {
			t.Errorf("thumbnail %s: %v %s %dx%d", th, err, format, cfg.Width, cfg.Height)
		}
	}
	page, err := os.ReadFile(filepath.Join(out, "index.html"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"spoof/print/p.png", "live/c.png", "APCER", "BPCER", "ROC AUC"} {
		if !strings.Contains(string(page), want) {
			t.Errorf("index.html lacks %q", want)
		}
	}
}

// devScores turns the reference results of the dev set (golden/dev/dev_opencv_rawbox.csv, paths
// relative to data/dev) into a score file: faces=0 is a no_face verdict.
func devScores(t *testing.T) string {
	t.Helper()
	return devScoresFrom(t, "dev_opencv_rawbox.csv")
}

// devScoresFrom turns one golden/dev CSV into a score file.
func devScoresFrom(t *testing.T, name string) string {
	t.Helper()
	var results []scorer.Result
	for _, row := range fixtures.ReadCSV(t, "golden", "dev", name) {
		faces, err := strconv.Atoi(row["faces"])
		if err != nil {
			t.Fatalf("faces %q: %v", row["faces"], err)
		}
		if faces == 0 {
			results = append(results, scorer.Result{File: row["file"], Status: scorer.StatusOK, Verdict: scorer.NoFace})
			continue
		}
		p, err := strconv.ParseFloat(row["prob_real"], 64)
		if err != nil {
			t.Fatalf("prob_real %q: %v", row["prob_real"], err)
		}
		results = append(results, okResult(row["file"], p))
	}
	return writeScoreFile(t, results)
}

// TestDevSetEndToEnd evaluates the shared dev set from the OpenCV reference scores: it must
// reproduce the figures of ../shared/docs/REFERENCE.md §1.7 (AUC 0.946, EER 0.126, BPCER@APCER5% 0.286,
// pooled APCER 0.137 and BPCER 0.117 at 0.55), walked as a directory and read from its manifest.
func TestDevSetEndToEnd(t *testing.T) {
	devDir := fixtures.Path(t, "data", "dev")
	scores := devScores(t)
	report := filepath.Join(t.TempDir(), "report")
	fake := &fakeScorer{}
	walked := runEval(t, fakeFactory(fake), []string{devDir, "--scores", scores, "-o", "json", "--report", report, "--min-auc", "0.94"}, nil)
	if walked.code != 0 {
		t.Fatalf("exit code %d: %v\n%s", walked.code, walked.err, walked.errOut)
	}
	if fake.calls.Load() != 0 {
		t.Errorf("%d images scored; the score file covers the set", fake.calls.Load())
	}
	res := decodeResult(t, walked.out)
	for _, c := range []struct {
		name      string
		got, want float64
	}{
		{"AUC", res.AUC.Float64, 0.946},
		{"EER", res.EER.Float64, 0.126},
		{"BPCER@APCER=5%", res.BPCERAtAPCER[1].BPCER.Float64, 0.286},
		{"pooled APCER", res.APCERPooled.Value.Float64, 0.137},
		{"BPCER", res.BPCER.Value.Float64, 0.117},
	} {
		if math.Abs(c.got-c.want) > 0.001 {
			t.Errorf("%s = %.4f, want %.3f ± 0.001", c.name, c.got, c.want)
		}
	}
	if res.Dataset.Presentations != 1833 || res.Dataset.FromScores != 1833 || res.Counts.Attack.NoFace+res.Counts.BonaFide.NoFace != 8 {
		t.Errorf("dataset %+v, counts %+v", res.Dataset, res.Counts)
	}
	if !slices.Equal(res.Dataset.Species, []string{"print", "replay", "unknown"}) {
		t.Errorf("species %q", res.Dataset.Species)
	}
	checkReportDir(t, report, 4)

	manifest := runEval(t, fakeFactory(fake), []string{"--manifest", filepath.Join(devDir, "manifest.csv"), "--scores", scores, "-o", "json"}, nil)
	if manifest.code != 0 {
		t.Fatalf("manifest: exit code %d: %v", manifest.code, manifest.err)
	}
	a, _ := json.Marshal(res.Report)
	b, _ := json.Marshal(decodeResult(t, manifest.out).Report)
	if string(a) != string(b) {
		t.Error("the manifest and the walked directory give different reports")
	}
}

// The recommended threshold for --target-apcer meets a --max-apcer gate at the same target when
// eval decides there, where the pooled BPCER@APCER point does not: at 0.6 print's p3 (0.7) is one
// of five scored attacks (pooled APCER 20%) but one of three prints (33%).
func TestRecommendedThresholdMeetsTheGate(t *testing.T) {
	dir := t.TempDir()
	datasettest.WriteFiles(t, dir, smallSet)
	r := runEval(t, fakeFactory(&fakeScorer{}), []string{dir, "-o", "json", "--target-apcer", "0.2"}, nil)
	res := decodeResult(t, r.out)
	rec := res.Recommended
	if rec == nil || !rec.Threshold.Valid || rec.Threshold.Float64 != 0.8 || rec.APCERSpecies == "" {
		t.Fatalf("recommended %+v, want the worst-case point at 0.8", rec)
	}
	var pooled *metrics.OperatingPoint
	for k, op := range res.BPCERAtAPCER {
		if op.Target == 0.2 {
			pooled = &res.BPCERAtAPCER[k]
		}
	}
	if pooled == nil || pooled.Threshold.Float64 != 0.6 {
		t.Fatalf("pooled points %+v, want BPCER@APCER=20%% at 0.6", res.BPCERAtAPCER)
	}
	for _, tt := range []struct {
		threshold float64
		want      int
	}{{rec.Threshold.Float64, cmdutil.ExitOK}, {pooled.Threshold.Float64, cmdutil.ExitFail}} {
		threshold := strconv.FormatFloat(tt.threshold, 'g', -1, 64)
		r = runEval(t, fakeFactory(&fakeScorer{}), []string{dir, "-o", "json", "--threshold", threshold, "--max-apcer", "0.2"}, nil)
		if r.code != tt.want {
			t.Errorf("--threshold %s --max-apcer 0.2: exit %d (%v), want %d", threshold, r.code, r.err, tt.want)
		}
	}
}
