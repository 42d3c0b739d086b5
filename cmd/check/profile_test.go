package check

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spoofsense/spoofsense/scorer"
	"github.com/spoofsense/spoofsense/scorer/profile"
)

// writeProfile writes a profile valid for the default scorer settings with a default threshold
// of 0.55, channel kiosk at 0.8 and channel web without a threshold of its own.
func writeProfile(t *testing.T, edit func(*profile.Profile)) string {
	t.Helper()
	setup, err := profile.SetupOf(scorer.Options{})
	if err != nil {
		t.Fatal(err)
	}
	th := func(x float64) *float64 { return &x }
	op := profile.OperatingPoint{Metric: profile.MetricBPCER, Target: 0.05}
	p := &profile.Profile{
		Version: profile.Version, OperatingPoint: op, UnknownChannel: profile.UnknownError,
		Default: profile.Entry{Threshold: th(0.55), OperatingPoint: op},
		Channels: map[string]profile.Entry{
			"kiosk": {Threshold: th(0.8), OperatingPoint: op},
			"web":   {Reason: "too few", OperatingPoint: op},
		},
		Provenance: profile.Provenance{Setup: setup, GroupBy: "source"},
	}
	if edit != nil {
		edit(p)
	}
	name := filepath.Join(t.TempDir(), "profile.json")
	if err := p.Write(name); err != nil {
		t.Fatal(err)
	}
	return name
}

func TestCheckProfileChannel(t *testing.T) {
	dir := t.TempDir()
	for i := range 12 {
		writeImage(t, filepath.Join(dir, "live"+string(rune('a'+i))+".png"), i)
	}
	name := writeProfile(t, nil)
	for _, c := range []struct {
		channel, want string
		threshold     float64
	}{{"kiosk", "kiosk", 0.8}, {"web", "web", 0.55}, {"", "default", 0.55}} {
		args := []string{"-o", "ndjson", "--profile", name, dir}
		if c.channel != "" {
			args = append(args, "--channel", c.channel)
		}
		r := runCmd(t, context.Background(), &fakeScorer{}, nil, args...)
		if r.code != 0 && r.code != 1 {
			t.Fatalf("channel %q: exit %d\n%s", c.channel, r.code, r.errOut)
		}
		lines := strings.Split(strings.TrimSpace(r.out), "\n")
		if len(lines) != 12 {
			t.Fatalf("channel %q: %d results, want 12", c.channel, len(lines))
		}
		spoofs := 0
		for _, l := range lines {
			var res scorer.Result
			if err := json.Unmarshal([]byte(l), &res); err != nil {
				t.Fatal(err)
			}
			if res.Channel != c.want || res.Threshold != c.threshold {
				t.Errorf("channel %q: result says channel %q threshold %v, want %q %v", c.channel, res.Channel, res.Threshold, c.want, c.threshold)
			}
			if want := res.ProbReal >= c.threshold; (res.Verdict == scorer.Live) != want {
				t.Errorf("channel %q: %s prob_real %v verdict %s at threshold %v", c.channel, res.File, res.ProbReal, res.Verdict, c.threshold)
			}
			if res.Verdict == scorer.Spoof {
				spoofs++
			}
		}
		if c.channel == "kiosk" && spoofs == 0 {
			t.Errorf("no image is a spoof at kiosk's threshold 0.8: the test shows nothing")
		}
	}
}

func TestCheckProfileRefused(t *testing.T) {
	dir := t.TempDir()
	writeImage(t, filepath.Join(dir, "a.png"), 1)
	changed := writeProfile(t, func(p *profile.Profile) {
		d := []byte(p.Provenance.Models[0].SHA256)
		d[0] = map[bool]byte{true: 'b', false: 'a'}[d[0] == 'a'] // one byte changed
		p.Provenance.Models[0].SHA256 = string(d)
	})
	good := writeProfile(t, nil)
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--profile", changed, dir}, 4, "profile " + changed + ": made with UltraFace-RFB-320 sha256"},
		{[]string{"--profile", good, "--crops", "single", dir}, 4, "crop policy multi"},
		{[]string{"--profile", good, "--channel", "phone", dir}, 2, `unknown channel "phone"`},
		{[]string{"--profile", good, "--threshold", "0.5", dir}, 2, "does not apply"},
		{[]string{"--channel", "kiosk", dir}, 2, "--channel needs --profile"},
		{[]string{"--profile", filepath.Join(t.TempDir(), "none.json"), dir}, 4, "profile"},
	} {
		r := runCmd(t, context.Background(), &fakeScorer{}, nil, c.args...)
		if r.code != c.code || !strings.Contains(r.errOut, c.want) || r.loads != 0 {
			t.Errorf("%v: exit %d, %d loads, stderr %q; want exit %d naming %q and no models loaded", c.args, r.code, r.loads, r.errOut, c.code, c.want)
		}
	}
}
