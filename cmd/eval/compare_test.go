package eval

import (
	"context"
	"encoding/json"
	"io"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spoofsense/spoofsense/cmd/cmdutil"
	"github.com/spoofsense/spoofsense/models/fixtures"
	"github.com/spoofsense/spoofsense/report/compare"
	"github.com/spoofsense/spoofsense/report/dataset/datasettest"
	"github.com/spoofsense/spoofsense/scorer"
)

// policyScorer scores like fakeScorer, with prob_real squared under the single-crop policy,
// and says which policy ran.
type policyScorer struct {
	fakeScorer
	crops scorer.CropPolicy
}

func (s *policyScorer) ScoreReader(ctx context.Context, r io.Reader, name string) (scorer.Result, error) {
	res, err := s.fakeScorer.ScoreReader(ctx, r, name)
	if err == nil {
		res.CropPolicy = string(s.crops)
		if s.crops == scorer.CropsSingle {
			res.ProbReal *= res.ProbReal
		}
	}
	return res, err
}

func decodeCompare(t *testing.T, out string) compare.Result {
	t.Helper()
	var res compare.Result
	dec := json.NewDecoder(strings.NewReader(out))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&res); err != nil {
		t.Fatalf("decode JSON output: %v\n%s", err, out)
	}
	return res
}

func TestCompareScoredAndFile(t *testing.T) {
	dir := t.TempDir()
	datasettest.WriteFiles(t, dir, smallSet)
	var loads []scorer.CropPolicy
	f := &cmdutil.Factory{NewScorer: func(_ context.Context, o scorer.Options) (cmdutil.ImageScorer, error) {
		loads = append(loads, o.Crops)
		return &policyScorer{crops: o.Crops}, nil
	}}
	saved := filepath.Join(t.TempDir(), "multi.ndjson")
	r := runEval(t, f, []string{dir, "-o", "json", "--compare", "crops=single,crops=multi", "--save-scores", "," + saved}, nil)
	if r.code != 0 {
		t.Fatalf("exit code %d: %v\n%s", r.code, r.err, r.errOut)
	}
	if len(loads) != 2 || loads[0] != scorer.CropsSingle || loads[1] != scorer.CropsMulti {
		t.Errorf("scorers loaded for %v, want single then multi", loads)
	}
	res := decodeCompare(t, r.out)
	a, b := res.Sides[0], res.Sides[1]
	if a.Name != "crops=single" || a.CropPolicy != "single" || a.Scored != len(smallSet) || b.CropPolicy != "multi" {
		t.Errorf("sides %+v / %+v", a, b)
	}
	// Squaring keeps the order, so the AUC is the same, 17/20 (TestScoreAndEvaluate); at 0.55
	// only 0.9² and 0.8² stay live: BPCER 2/4.
	if b.Report.AUC.Float64 != 17.0/20 || a.Report.AUC.Float64 != 17.0/20 {
		t.Errorf("AUC %v / %v, want 0.85 both", a.Report.AUC, b.Report.AUC)
	}
	if a.Report.BPCER.Value.Float64 != 0.5 || b.Report.BPCER.Value.Float64 != 0.25 {
		t.Errorf("BPCER %v / %v, want 0.5 / 0.25", a.Report.BPCER.Value, b.Report.BPCER.Value)
	}
	found := false
	for _, d := range res.Diffs {
		if d.Metric == "bpcer" {
			found = true
			if math.Abs(d.Delta.Float64-(-0.25)) > 1e-12 || d.Worse {
				t.Errorf("bpcer diff %+v, want B − A = −0.25, not worse", d)
			}
		}
	}
	if !found {
		t.Error("no bpcer diff")
	}

	// Side B's saved scores are a file side: nothing is scored, the same figures come back.
	loads = nil
	r2 := runEval(t, f, []string{dir, "-o", "json", "--compare", saved + "," + saved, "--group-by", "attack"}, nil)
	if r2.code != 0 {
		t.Fatalf("exit code %d: %v\n%s", r2.code, r2.err, r2.errOut)
	}
	if len(loads) != 0 {
		t.Errorf("file sides loaded a scorer %v", loads)
	}
	res2 := decodeCompare(t, r2.out)
	if got := res2.Sides[1]; got.FromScores != len(smallSet) || got.Scored != 0 || got.Report.BPCER != b.Report.BPCER || got.CropPolicy != "multi" {
		t.Errorf("file side %+v, want the scored side B's figures", got)
	}
	if len(res2.Groups) != 2 || res2.Groups[0].Value != "print" || res2.Groups[0].BonaFide != 5 || res2.Groups[0].Attack != 3 ||
		len(res2.Groups[0].Reports) != 2 || len(res2.Groups[0].Diffs) == 0 {
		t.Errorf("groups %+v, want print and replay, each with all 5 bona fide", res2.Groups)
	}

	// The table shows both columns and the change.
	r3 := runEval(t, f, []string{dir, "-o", "table", "--compare", "crops=single," + saved}, nil)
	if r3.code != 0 {
		t.Fatalf("table: exit code %d: %v", r3.code, r3.err)
	}
	for _, want := range []string{"A = crops=single", "B = " + saved, "50.00%", "25.00%", "-25.00 pt"} {
		if !strings.Contains(r3.out, want) {
			t.Errorf("table lacks %q:\n%s", want, r3.out)
		}
	}
}

func TestCompareUsageErrors(t *testing.T) {
	dir := t.TempDir()
	datasettest.WriteFiles(t, dir, smallSet)
	partial := writeScoreFile(t, []scorer.Result{okResult(filepath.Join(dir, "live/a.jpg"), 0.9)})
	tests := []struct {
		name    string
		args    []string
		wantErr string
	}{
		{"gate", []string{"--compare", "crops=single,crops=multi", "--max-apcer", "0.1"}, "--max-apcer"},
		{"baseline", []string{"--compare", "crops=single,crops=multi", "--baseline", "b.json"}, "--baseline"},
		{"scores", []string{"--compare", "crops=single,crops=multi", "--scores", partial}, "--scores"},
		{"bad side", []string{"--compare", "crops=three,crops=multi"}, "crops"},
		{"one save file", []string{"--compare", "crops=single,crops=multi", "--save-scores", "a.ndjson"}, "two files"},
		{"partial score file", []string{"--compare", partial + ",crops=multi"}, "have no result in"},
		{"missing score file", []string{"--compare", "nope.ndjson,crops=multi"}, "nope.ndjson"},
		{"unknown group column", []string{"--group-by", "source"}, "--manifest"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := runEval(t, fakeFactory(&fakeScorer{}), append([]string{dir, "-o", "json"}, tc.args...), nil)
			if r.code != cmdutil.ExitUsage || r.err == nil || !strings.Contains(r.err.Error(), tc.wantErr) {
				t.Errorf("exit %d, err %v: want usage error mentioning %q", r.code, r.err, tc.wantErr)
			}
		})
	}
}

func TestGroupByManifestColumn(t *testing.T) {
	dir := t.TempDir()
	datasettest.WriteFiles(t, dir, map[string]string{"a.jpg": "0.9", "b.jpg": "0.2", "c.jpg": "0.7", "d.jpg": "0.3", "e.jpg": "0.8",
		"m.csv": "path,label,attack,source\na.jpg,live,,lab\nb.jpg,spoof,print,lab\nc.jpg,live,,web\nd.jpg,spoof,replay,web\ne.jpg,spoof,replay,web\n"})
	r := runEval(t, fakeFactory(&fakeScorer{}), []string{"--manifest", filepath.Join(dir, "m.csv"), "-o", "json", "--group-by", "source"}, nil)
	if r.code != 0 {
		t.Fatalf("exit code %d: %v\n%s", r.code, r.err, r.errOut)
	}
	res := decodeResult(t, r.out)
	if len(res.Groups) != 2 {
		t.Fatalf("groups %+v, want lab and web", res.Groups)
	}
	lab, web := res.Groups[0], res.Groups[1]
	if lab.Value != "lab" || lab.BonaFide != 1 || lab.Attack != 1 || lab.Reports[0].AUC.Float64 != 1 {
		t.Errorf("lab group %+v", lab)
	}
	// web: live 0.7 against attacks 0.3 and 0.8: one of two pairs ordered right.
	if web.Value != "web" || web.BonaFide != 1 || web.Attack != 2 || web.Reports[0].AUC.Float64 != 0.5 || len(web.Diffs) != 0 {
		t.Errorf("web group %+v", web)
	}
	table := runEval(t, fakeFactory(&fakeScorer{}), []string{"--manifest", filepath.Join(dir, "m.csv"), "-o", "table", "--group-by", "source"}, nil)
	if !strings.Contains(table.out, "By source") || !strings.Contains(table.out, "0.5000") {
		t.Errorf("table lacks the groups:\n%s", table.out)
	}
}

// TestDevSetCompare puts the two OpenCV reference runs of ../shared/docs/REFERENCE.md §1.7 side by side:
// one crop per net (AUC 0.946, BPCER@APCER5% 0.286) against three (0.955, 0.224).
func TestDevSetCompare(t *testing.T) {
	devDir := fixtures.Path(t, "data", "dev")
	single, multi := devScoresFrom(t, "dev_opencv_rawbox.csv"), devScoresFrom(t, "dev_opencv_multicrop.csv")
	r := runEval(t, fakeFactory(&fakeScorer{}), []string{devDir, "-o", "json", "--compare", single + "," + multi}, nil)
	if r.code != 0 {
		t.Fatalf("exit code %d: %v\n%s", r.code, r.err, r.errOut)
	}
	res := decodeCompare(t, r.out)
	for k, want := range []struct{ auc, bpcer5 float64 }{{0.946, 0.286}, {0.955, 0.224}} {
		rep := res.Sides[k].Report
		if math.Abs(rep.AUC.Float64-want.auc) > 0.001 || math.Abs(rep.BPCERAtAPCER[1].BPCER.Float64-want.bpcer5) > 0.001 {
			t.Errorf("side %d: AUC %.4f, BPCER@APCER5%% %.4f; want %.3f, %.3f", k, rep.AUC.Float64, rep.BPCERAtAPCER[1].BPCER.Float64, want.auc, want.bpcer5)
		}
	}
	for _, d := range res.Diffs {
		if d.Metric == "auc" && !(d.Delta.Float64 > 0.008) {
			t.Errorf("AUC change %v, want about +0.009", d.Delta)
		}
	}
}
