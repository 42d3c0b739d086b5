package profile

import (
	"strings"
	"testing"

	"github.com/spoofsense/spoofsense/scorer"
)

// ramp returns n scores evenly spread over [lo, hi).
func ramp(n int, lo, hi float64) []float64 {
	out := make([]float64, n)
	for i := range out {
		out[i] = lo + (hi-lo)*float64(i)/float64(n)
	}
	return out
}

func learnTest(t *testing.T) *Profile {
	t.Helper()
	chans := map[string]Scores{
		"kiosk": {BonaFide: ramp(100, 0.5, 1), Attack: ramp(100, 0, 0.6)},
		"web":   {BonaFide: ramp(100, 0.2, 0.9), Attack: ramp(100, 0, 0.3)},
		"tiny":  {BonaFide: ramp(10, 0.5, 1), Attack: ramp(100, 0, 0.5)},
	}
	var all Scores
	for _, s := range chans {
		all.BonaFide = append(all.BonaFide, s.BonaFide...)
		all.Attack = append(all.Attack, s.Attack...)
	}
	p, err := Learn(OperatingPoint{Metric: MetricBPCER, Target: 0.05}, all, chans)
	if err != nil {
		t.Fatal(err)
	}
	setup, err := SetupOf(scorer.Options{})
	if err != nil {
		t.Fatal(err)
	}
	p.Provenance = Provenance{Setup: setup, GroupBy: "source", Dataset: "d", DatasetSize: 510, Created: "2026-12-01T00:00:00Z"}
	return p
}

func TestLearnBPCER(t *testing.T) {
	p := learnTest(t)
	k := p.Channels["kiosk"]
	if k.Threshold == nil {
		t.Fatalf("kiosk has no threshold: %s", k.Reason)
	}
	// 100 bona fide over [0.5, 1): BPCER ≤ 5% allows 5 below, so the highest such threshold
	// is the 6th score, 0.525.
	if got := *k.Threshold; got != 0.525 {
		t.Errorf("kiosk threshold = %v, want 0.525", got)
	}
	if k.BPCER.Count != 5 || k.BPCER.Total != 100 {
		t.Errorf("kiosk BPCER = %d/%d, want 5/100", k.BPCER.Count, k.BPCER.Total)
	}
	if w := *p.Channels["web"].Threshold; !(w > 0.22 && w < 0.24) {
		t.Errorf("web threshold = %v, want 0.235", w)
	}
	tiny := p.Channels["tiny"]
	if tiny.Threshold != nil || !strings.Contains(tiny.Reason, "10 scored bona fide") {
		t.Errorf("tiny = %+v, want no threshold and a reason about its 10 bona fide", tiny)
	}
	d, err := p.Resolve("tiny")
	if err != nil || !d.Fallback || d.Threshold != *p.Default.Threshold {
		t.Errorf("Resolve(tiny) = %+v, %v; want the default threshold as a fallback", d, err)
	}
	if d, err := p.Resolve("kiosk"); err != nil || d.Threshold != 0.525 || d.Fallback {
		t.Errorf("Resolve(kiosk) = %+v, %v", d, err)
	}
}

func TestLearnAPCER(t *testing.T) {
	s := Scores{BonaFide: ramp(100, 0.5, 1), Attack: ramp(100, 0, 0.6)}
	p, err := Learn(OperatingPoint{Metric: MetricAPCER, Target: 0.1}, s, nil)
	if err != nil {
		t.Fatal(err)
	}
	// 100 attacks over [0, 0.6): the top 10 start at 0.54, and the lowest curve threshold with
	// no more than those 10 at or above it is the bona fide score just below, 0.535.
	if got := *p.Default.Threshold; got < 0.5349 || got > 0.5351 {
		t.Errorf("threshold = %v, want 0.535", got)
	}
	if p.Default.APCER.Count != 10 {
		t.Errorf("APCER count = %d, want 10", p.Default.APCER.Count)
	}
}

func TestNeeded(t *testing.T) {
	for _, c := range []struct {
		target float64
		want   int
	}{{0.05, 20}, {0.01, 100}, {0.3, 20}, {0.001, 1000}} {
		if got := (OperatingPoint{Metric: MetricBPCER, Target: c.target}).Needed(); got != c.want {
			t.Errorf("Needed(%v) = %d, want %d", c.target, got, c.want)
		}
	}
}

func TestResolveUnknown(t *testing.T) {
	p := learnTest(t)
	if _, err := p.Resolve("phone"); err == nil || !strings.Contains(err.Error(), `unknown channel "phone"`) {
		t.Errorf("Resolve(phone) error = %v", err)
	}
	p.UnknownChannel = UnknownDefault
	if d, err := p.Resolve("phone"); err != nil || !d.Fallback {
		t.Errorf("Resolve(phone) with unknown_channel default = %+v, %v", d, err)
	}
	if d, err := p.Resolve(""); err != nil || d.Channel != DefaultChannel {
		t.Errorf("Resolve(\"\") = %+v, %v", d, err)
	}
}

func TestRoundTrip(t *testing.T) {
	p := learnTest(t)
	name := t.TempDir() + "/p.json"
	if err := p.Write(name); err != nil {
		t.Fatal(err)
	}
	q, err := Read(name)
	if err != nil {
		t.Fatal(err)
	}
	for _, ch := range []string{"kiosk", "web", "tiny", ""} {
		a, _ := p.Resolve(ch)
		b, _ := q.Resolve(ch)
		if a != b {
			t.Errorf("channel %q: %+v after reading, %+v before", ch, b, a)
		}
	}
}

func TestCheck(t *testing.T) {
	p := learnTest(t)
	setup, _ := SetupOf(scorer.Options{})
	if err := p.Check(setup); err != nil {
		t.Fatalf("Check of its own setup: %v", err)
	}
	single, _ := SetupOf(scorer.Options{Crops: scorer.CropsSingle})
	mapped, _ := SetupOf(scorer.Options{Box: scorer.BoxMapped})
	two, _ := SetupOf(scorer.Options{Nets: []string{"MiniFASNetV2", "MiniFASNetV1SE"}})
	changed, _ := SetupOf(scorer.Options{})
	d := []byte(changed.Models[1].SHA256)
	d[10] ^= 1
	changed.Models[1].SHA256 = string(d)
	for _, c := range []struct {
		name  string
		setup Setup
		want  string
	}{
		{"crops", single, "crop policy multi"},
		{"box", mapped, "box mode raw"},
		{"nets", two, "net set"},
		{"digest", changed, "sha256 " + setup.Models[1].SHA256},
	} {
		err := p.Check(c.setup)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: Check = %v, want an error with %q", c.name, err, c.want)
		}
	}
}

func TestParseErrors(t *testing.T) {
	good, _ := learnTest(t).Marshal()
	for _, c := range []struct{ old, new, want string }{
		{`"version": 1`, `"version": 0`, "version"},
		{`"metric": "bpcer"`, `"metric": "far"`, "operating_point.metric"},
		{`"unknown_channel": "error"`, `"unknown_channel": "maybe"`, "unknown_channel"},
		{`"crop_policy": "multi"`, `"crop_policy": ""`, "provenance.crop_policy"},
		{`"threshold": 0.525`, `"threshold": 1.5`, "channels.kiosk.threshold"},
	} {
		b := strings.Replace(string(good), c.old, c.new, 1)
		if b == string(good) {
			t.Fatalf("%q not in the profile", c.old)
		}
		if _, err := Parse([]byte(b)); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: Parse error = %v, want one naming %q", c.new, err, c.want)
		}
	}
	if _, err := Parse([]byte("{")); err == nil {
		t.Error("Parse of a broken file: no error")
	}
}
