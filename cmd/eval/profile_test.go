package eval

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spoofsense/spoofsense/report/dataset/datasettest"
	"github.com/spoofsense/spoofsense/scorer"
	"github.com/spoofsense/spoofsense/scorer/profile"
)

// channelSet writes a manifest dataset of fake images (their content is their prob_real) with
// a source column: channel "low" scores everything 0.3 lower than channel "high", so one
// threshold cannot suit both; channel "few" has too few bona fide images for a threshold.
func channelSet(t *testing.T) (dir, manifest string) {
	t.Helper()
	dir = t.TempDir()
	files := map[string]string{}
	rows := []string{"path,label,attack,source"}
	add := func(source, label string, i int, p float64) {
		name := fmt.Sprintf("%s/%s%d.jpg", source, label, i)
		files[name] = fmt.Sprintf("%.4f", p)
		attack := "none"
		if label == "spoof" {
			attack = "print"
		}
		rows = append(rows, strings.Join([]string{name, label, attack, source}, ","))
	}
	for i := range 40 {
		add("high", "live", i, 0.6+0.01*float64(i))
		add("high", "spoof", i, 0.2+0.012*float64(i))
		add("low", "live", i, 0.3+0.01*float64(i))
		add("low", "spoof", i, 0.01*float64(i))
	}
	for i := range 5 {
		add("few", "live", i, 0.9)
		add("few", "spoof", i, 0.1)
	}
	datasettest.WriteFiles(t, dir, files)
	manifest = filepath.Join(dir, "manifest.csv")
	if err := os.WriteFile(manifest, []byte(strings.Join(rows, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir, manifest
}

func saveTestProfile(t *testing.T, manifest string) (string, result) {
	t.Helper()
	name := filepath.Join(t.TempDir(), "profile.json")
	r := runEval(t, fakeFactory(&fakeScorer{}), []string{"--manifest", manifest, "-o", "json",
		"--group-by", "source", "--target-bpcer", "0.05", "--save-profile", name}, nil)
	if r.code != 0 {
		t.Fatalf("eval --save-profile: exit %d: %v\n%s", r.code, r.err, r.errOut)
	}
	return name, r
}

func TestSaveProfile(t *testing.T) {
	_, manifest := channelSet(t)
	name, r := saveTestProfile(t, manifest)
	if !strings.Contains(r.errOut, "channel few falls back to the default threshold") {
		t.Errorf("stderr does not say that channel few falls back:\n%s", r.errOut)
	}
	p, err := profile.Read(name)
	if err != nil {
		t.Fatal(err)
	}
	// 40 live images 0.01 apart: BPCER ≤ 5% lets 2 fall below, so the threshold is the third.
	for ch, want := range map[string]float64{"high": 0.62, "low": 0.32} {
		e := p.Channels[ch]
		if e.Threshold == nil || *e.Threshold != want {
			t.Errorf("channel %s: threshold %v (%s), want %v", ch, e.Threshold, e.Reason, want)
		}
	}
	if few := p.Channels["few"]; few.Threshold != nil || few.Reason == "" || few.BonaFide != 5 {
		t.Errorf("channel few = %+v, want no threshold, a reason and 5 bona fide", few)
	}
	prov := p.Provenance
	if prov.GroupBy != "source" || prov.DatasetSize != 170 || len(prov.Models) != 4 || prov.CropPolicy != "multi" || prov.BoxMode != "raw" {
		t.Errorf("provenance = %+v", prov)
	}
	if _, err := time.Parse(time.RFC3339, prov.Created); err != nil {
		t.Errorf("created %q: %v", prov.Created, err)
	}
}

func TestEvalWithProfile(t *testing.T) {
	_, manifest := channelSet(t)
	name, _ := saveTestProfile(t, manifest)
	p, err := profile.Read(name)
	if err != nil {
		t.Fatal(err)
	}
	r := runEval(t, fakeFactory(&fakeScorer{}), []string{"--manifest", manifest, "-o", "json", "--profile", name, "--max-bpcer", "0.05"}, nil)
	if r.code != 0 {
		t.Fatalf("eval --profile: exit %d: %v\n%s", r.code, r.err, r.errOut)
	}
	res := decodeResult(t, r.out)
	if res.Profile == nil || len(res.Profile.Channels) != 3 || res.Profile.Column != "source" {
		t.Fatalf("profile result = %+v", res.Profile)
	}
	// The verdicts are the thresholds' own: count them from the fake scores.
	ds, err := loadManifest(manifest)
	if err != nil {
		t.Fatal(err)
	}
	var falseLive, falseSpoof int
	for _, it := range ds.Items {
		b, _ := os.ReadFile(it.Path)
		var score float64
		fmt.Sscan(string(b), &score)
		d, err := p.Resolve(it.Extra["source"])
		if err != nil {
			t.Fatal(err)
		}
		live := score >= d.Threshold
		if live && it.Species != "" {
			falseLive++
		}
		if !live && it.Species == "" {
			falseSpoof++
		}
	}
	if res.APCERPooled.Count != falseLive || res.BPCER.Count != falseSpoof {
		t.Errorf("pooled APCER %d, BPCER %d errors; the profile's thresholds make %d and %d",
			res.APCERPooled.Count, res.BPCER.Count, falseLive, falseSpoof)
	}
	for _, c := range res.Profile.Channels {
		d, _ := p.Resolve(c.Channel)
		if c.Threshold != d.Threshold || c.Fallback != d.Fallback || c.Report.Threshold != d.Threshold {
			t.Errorf("channel %s: threshold %v fallback %v, the profile says %+v", c.Channel, c.Threshold, c.Fallback, d)
		}
	}
	if len(res.Gates) != 1 || !res.Gates[0].Pass {
		t.Errorf("gates = %+v, want max-bpcer checked on the pooled decisions", res.Gates)
	}
	// Its output is a baseline for the next --profile run.
	base := filepath.Join(t.TempDir(), "base.json")
	if err := os.WriteFile(base, []byte(r.out), 0o644); err != nil {
		t.Fatal(err)
	}
	if r := runEval(t, fakeFactory(&fakeScorer{}), []string{"--manifest", manifest, "--profile", name, "--baseline", base}, nil); r.code != 0 {
		t.Errorf("eval --profile --baseline of an eval --profile report: exit %d: %v", r.code, r.err)
	}
}

func TestProfileRefused(t *testing.T) {
	_, manifest := channelSet(t)
	name, _ := saveTestProfile(t, manifest)
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	p, _ := profile.Parse(b)
	digest := p.Provenance.Models[1].SHA256
	other := []byte(digest)
	other[63] = 'a' // one hex digit (one byte of the text) changed
	if digest[63] == 'a' {
		other[63] = 'b'
	}
	changed := filepath.Join(t.TempDir(), "changed.json")
	if err := os.WriteFile(changed, []byte(strings.Replace(string(b), digest, string(other), 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"--manifest", manifest, "--profile", changed},
		{"--manifest", manifest, "--profile", name, "--crops", "single"},
	} {
		r := runEval(t, fakeFactory(&fakeScorer{}), args, nil)
		if r.code != 4 || r.err == nil {
			t.Errorf("%v: exit %d (%v), want 4", args, r.code, r.err)
			continue
		}
		if msg := r.err.Error(); !strings.Contains(msg, "profile "+args[3]) || strings.Count(msg, "\n") > 0 {
			t.Errorf("%v: error %q does not name the profile in one line", args, msg)
		}
	}
	r := runEval(t, fakeFactory(&fakeScorer{}), []string{"--manifest", manifest, "--profile", changed}, nil)
	if r.err == nil || !strings.Contains(r.err.Error(), string(other)) {
		t.Errorf("error %v does not name the changed digest", r.err)
	}
}

func TestProfileUnknownChannel(t *testing.T) {
	_, manifest := channelSet(t)
	name, _ := saveTestProfile(t, manifest)
	b, _ := os.ReadFile(manifest)
	if err := os.WriteFile(manifest, []byte(strings.Replace(string(b), "few/live0.jpg,live,none,few", "few/live0.jpg,live,none,phone", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	r := runEval(t, fakeFactory(&fakeScorer{}), []string{"--manifest", manifest, "--profile", name}, nil)
	if r.code != 2 || r.err == nil || !strings.Contains(r.err.Error(), `unknown channel "phone"`) {
		t.Errorf("exit %d (%v), want 2 naming the unknown channel", r.code, r.err)
	}
}

func TestProfileFlagErrors(t *testing.T) {
	_, manifest := channelSet(t)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--save-profile", "p.json", "--target-bpcer", "0.05"}, "needs --group-by"},
		{[]string{"--save-profile", "p.json", "--group-by", "source"}, "--target-bpcer X or --target-apcer X"},
		{[]string{"--save-profile", "p.json", "--group-by", "source", "--target-bpcer", "0.05", "--target-apcer", "0.1"}, "not both"},
		{[]string{"--save-profile", "p.json", "--group-by", "attack", "--target-bpcer", "0.05"}, "does not split"},
		{[]string{"--save-profile", "p.json", "--group-by", "source", "--target-bpcer", "1.5"}, "--target-bpcer must be"},
		{[]string{"--target-bpcer", "0.05"}, "needs --save-profile"},
		{[]string{"--profile", "p.json", "--threshold", "0.5"}, "does not apply"},
	} {
		r := runEval(t, nil, append([]string{"--manifest", manifest}, c.args...), func(*EvalOptions) error { return nil })
		if r.code != 2 || r.err == nil || !strings.Contains(r.err.Error(), c.want) {
			t.Errorf("%v: exit %d (%v), want 2 with %q", c.args, r.code, r.err, c.want)
		}
	}
	r := runEval(t, nil, []string{"--manifest", manifest, "--profile", filepath.Join(t.TempDir(), "none.json")}, nil)
	if r.code != 4 {
		t.Errorf("missing profile: exit %d (%v), want 4", r.code, r.err)
	}
}

// A profile saved from a score file records the settings the results name, not the flags'.
func TestSaveProfileFromScoreFileSettings(t *testing.T) {
	_, manifest := channelSet(t)
	ds, err := loadManifest(manifest)
	if err != nil {
		t.Fatal(err)
	}
	setup, err := profile.SetupOf(scorer.Options{Nets: []string{"MiniFASNetV2", "MiniFASNetV1SE"}})
	if err != nil {
		t.Fatal(err)
	}
	var versions []scorer.ModelVersion
	for _, m := range setup.Models {
		versions = append(versions, scorer.ModelVersion{Name: m.Name, SHA256: m.SHA256[:12]})
	}
	results := func(edit func(i int, r *scorer.Result)) string {
		var rs []scorer.Result
		for i, it := range ds.Items {
			b, _ := os.ReadFile(it.Path)
			var p float64
			fmt.Sscan(string(b), &p)
			r := okResult(it.Key, p)
			r.NetSet, r.CropPolicy, r.BoxMode, r.Models = setup.NetSet, "single", "mapped", versions
			if edit != nil {
				edit(i, &r)
			}
			rs = append(rs, r)
		}
		return writeScoreFile(t, rs)
	}
	scores := results(nil)
	name := filepath.Join(t.TempDir(), "p.json")
	r := runEval(t, fakeFactory(&fakeScorer{}), []string{"--manifest", manifest, "--scores", scores, "--group-by", "source",
		"--target-apcer", "0.1", "--save-profile", name}, nil)
	if r.code != 0 {
		t.Fatalf("exit %d: %v", r.code, r.err)
	}
	p, err := profile.Read(name)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Check(profile.Setup{Models: setup.Models, NetSet: setup.NetSet, CropPolicy: "single", BoxMode: "mapped"}); err != nil {
		t.Errorf("the profile does not record the results' settings: %v", err)
	}
	if p.OperatingPoint != (profile.OperatingPoint{Metric: profile.MetricAPCER, Target: 0.1}) {
		t.Errorf("operating point %+v", p.OperatingPoint)
	}
	// The same score file fits the profile; scoring afresh with the default settings does not.
	if r := runEval(t, fakeFactory(&fakeScorer{}), []string{"--manifest", manifest, "--scores", scores, "--profile", name}, nil); r.code != 0 {
		t.Errorf("eval --profile with the score file it was made from: exit %d: %v", r.code, r.err)
	}
	fake := &fakeScorer{}
	if r := runEval(t, fakeFactory(fake), []string{"--manifest", manifest, "--profile", name}, nil); r.code != 4 || !strings.Contains(r.err.Error(), "net set") || fake.calls.Load() != 0 {
		t.Errorf("eval --profile with other nets: exit %d (%v), %d images scored; want 4 before scoring", r.code, r.err, fake.calls.Load())
	}
	for _, c := range []struct {
		edit func(int, *scorer.Result)
		want string
	}{
		{func(i int, r *scorer.Result) {
			if i == 7 {
				r.CropPolicy = "multi"
			}
		}, "mix scorer settings"},
		{func(i int, r *scorer.Result) {
			r.Models = []scorer.ModelVersion{{Name: "MiniFASNetV2", SHA256: "000000000000"}}
		}, "not the shipped"},
	} {
		r := runEval(t, fakeFactory(&fakeScorer{}), []string{"--manifest", manifest, "--scores", results(c.edit), "--group-by", "source",
			"--target-bpcer", "0.05", "--save-profile", filepath.Join(t.TempDir(), "q.json")}, nil)
		if r.code != 2 || r.err == nil || !strings.Contains(r.err.Error(), c.want) {
			t.Errorf("exit %d (%v), want 2 with %q", r.code, r.err, c.want)
		}
	}
}
