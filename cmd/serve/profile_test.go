package serve

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/spoofsense/spoofsense/cmd/cmdutil"

	"github.com/spoofsense/spoofsense/scorer"
	"github.com/spoofsense/spoofsense/scorer/profile"
)

// testProfile is valid for the default scorer settings: default threshold 0.55, channel kiosk
// at 0.98 (the LIVE image, 0.97, is a spoof there), lax at 0.1 (the SPOOF image, 0.12, is live)
// and thin without a threshold of its own.
func testProfile(t testing.TB) *profile.Profile {
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
			"kiosk": {Threshold: th(0.98), OperatingPoint: op},
			"lax":   {Threshold: th(0.1), OperatingPoint: op},
			"thin":  {Reason: "too few", OperatingPoint: op},
		},
		Provenance: profile.Provenance{Setup: setup},
	}
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	return p
}

func profileServer(t *testing.T) *testServer {
	return newTestServer(t, func(c *Config, _ *fakeControl) {
		c.Profile, c.ProfileFile = testProfile(t), "cameras.json"
		c.APIKeys = []string{"k-kiosk", "k-lax", "k-plain"}
		c.KeyChannels = map[string]string{"k-kiosk": "kiosk", "k-lax": "lax"}
	})
}

func TestAntispoofingKeyChannel(t *testing.T) {
	ts := profileServer(t)
	for _, c := range []struct {
		key, img, pred, channel, threshold string
	}{
		{"k-kiosk", imgLive, predSpoof, "kiosk", "0.98"},
		{"k-lax", imgSpoof, predReal, "lax", "0.1"},
		{"k-plain", imgLive, predReal, "default", "0.55"},
		{"k-plain", imgSpoof, predSpoof, "default", "0.55"},
	} {
		a := ts.send(t, "POST", "/antispoofing", "application/json", strings.NewReader(b64JSON(c.img)), map[string]string{"x-api-key": c.key})
		if a.status != 200 {
			t.Fatalf("%s: status %d: %s", c.key, a.status, a.body)
		}
		var got antispoofingResponse
		if err := json.Unmarshal(a.body, &got); err != nil || got.ModelOutput == nil {
			t.Fatalf("%s: %v: %s", c.key, err, a.body)
		}
		if got.ModelOutput.PredIdx != c.pred {
			t.Errorf("key %s, image %q: pred_idx %s, want %s (channel %s)", c.key, c.img, got.ModelOutput.PredIdx, c.pred, c.channel)
		}
		if ch, th := a.header.Get("X-Spoofsense-Channel"), a.header.Get("X-Spoofsense-Threshold"); ch != c.channel || th != c.threshold {
			t.Errorf("key %s: headers say channel %q threshold %q, want %q %q", c.key, ch, th, c.channel, c.threshold)
		}
	}
}

func TestCheckChannel(t *testing.T) {
	ts := profileServer(t)
	for _, c := range []struct {
		query, key, img string
		verdict         scorer.Verdict
		channel         string
		threshold       float64
	}{
		{"?channel=lax", "k-plain", imgSpoof, scorer.Live, "lax", 0.1},
		{"?channel=kiosk", "k-lax", imgLive, scorer.Spoof, "kiosk", 0.98},
		{"", "k-kiosk", imgLive, scorer.Spoof, "kiosk", 0.98},
		{"", "k-plain", imgLive, scorer.Live, "default", 0.55},
		{"?channel=thin", "k-plain", imgLive, scorer.Live, "thin", 0.55},
		{"?threshold=0.99", "k-lax", imgLive, scorer.Spoof, "", 0.99},
	} {
		a := ts.send(t, "POST", "/v1/check"+c.query, "image/jpeg", strings.NewReader(c.img), map[string]string{"x-api-key": c.key})
		if a.status != 200 {
			t.Fatalf("%s %s: status %d: %s", c.query, c.key, a.status, a.body)
		}
		var res scorer.Result
		if err := json.Unmarshal(a.body, &res); err != nil {
			t.Fatal(err)
		}
		if res.Verdict != c.verdict || res.Channel != c.channel || res.Threshold != c.threshold {
			t.Errorf("%s with %s: verdict %s channel %q threshold %v, want %s %q %v", c.query, c.key, res.Verdict, res.Channel, res.Threshold, c.verdict, c.channel, c.threshold)
		}
	}
	if !strings.Contains(ts.logs.String(), `"channel":"lax"`) {
		t.Errorf("no request log line names the deciding channel:\n%s", ts.logs.String())
	}
	for _, q := range []string{"?channel=phone", "?channel=kiosk&threshold=0.5", "?crops=single", "?channel="} {
		a := ts.send(t, "POST", "/v1/check"+q, "image/jpeg", strings.NewReader(imgLive), map[string]string{"x-api-key": "k-plain"})
		if a.status != 400 || a.errorCode(t) != codeInvalidParameter {
			t.Errorf("%s: status %d %s, want 400 invalid parameter", q, a.status, a.body)
		}
	}
}

func TestCheckChannelWithoutProfile(t *testing.T) {
	ts := newTestServer(t, nil)
	a := ts.send(t, "POST", "/v1/check?channel=kiosk", "image/jpeg", strings.NewReader(imgLive), nil)
	if a.status != 400 || !strings.Contains(string(a.body), "no calibration profile") {
		t.Errorf("status %d %s, want 400 saying there is no profile", a.status, a.body)
	}
}

func TestProfileRefusedAtStart(t *testing.T) {
	fake := newFakeControl()
	changed := testProfile(t)
	d := []byte(changed.Provenance.Models[2].SHA256)
	d[5] = map[bool]byte{true: 'b', false: 'a'}[d[5] == 'a']
	changed.Provenance.Models[2].SHA256 = string(d)
	for _, c := range []struct {
		name string
		cfg  Config
		want string
	}{
		{"digest", Config{Profile: changed, ProfileFile: "p.json"}, "profile p.json: made with MiniFASNetV1SE sha256 " + string(d)},
		{"crops", Config{Profile: testProfile(t), ProfileFile: "p.json", Scorer: scorer.Options{Crops: scorer.CropsSingle}}, "crop policy multi"},
		{"key channel", Config{Profile: testProfile(t), ProfileFile: "p.json", APIKeys: []string{"k"}, KeyChannels: map[string]string{"k": "phone"}}, `unknown channel "phone"`},
		{"no profile", Config{APIKeys: []string{"k"}, KeyChannels: map[string]string{"k": "kiosk"}}, "no --profile"},
	} {
		c.cfg.NewScorer = fake.newScorer
		_, err := New(c.cfg)
		var perr *ProfileError
		if !errors.As(err, &perr) || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: New error %v, want one line naming %q", c.name, err, c.want)
		}
	}
}

func TestParseAPIKeyLines(t *testing.T) {
	got, err := ParseAPIKeyLines(strings.NewReader("# keys\nk1\nk2 channel=kiosk\n  k3   channel=web  \n"), "keys.txt")
	if err != nil {
		t.Fatal(err)
	}
	want := []APIKey{{"k1", ""}, {"k2", "kiosk"}, {"k3", "web"}}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("line %d: %v, want %v", i, got[i], want[i])
		}
	}
	for _, bad := range []string{"k1 kiosk\n", "k1 channel=\n", "k1 channel=a b\n"} {
		if _, err := ParseAPIKeyLines(strings.NewReader(bad), "keys.txt"); err == nil || !strings.Contains(err.Error(), "keys.txt:1") {
			t.Errorf("%q: error %v, want one naming keys.txt:1", bad, err)
		}
	}
	ks := newKeySet([]string{"k1", "k2"}, map[string]string{"k2": "kiosk"})
	if ch, ok := ks.lookup("k2"); !ok || ch != "kiosk" {
		t.Errorf("lookup(k2) = %q, %v", ch, ok)
	}
	if ch, ok := ks.lookup("k1"); !ok || ch != "" {
		t.Errorf("lookup(k1) = %q, %v", ch, ok)
	}
	if _, ok := ks.lookup("k3"); ok {
		t.Error("lookup(k3) allowed")
	}
}

func TestServeProfileRefusedExit4(t *testing.T) {
	dir := t.TempDir()
	p := testProfile(t)
	good := filepath.Join(dir, "good.json")
	if err := p.Write(good); err != nil {
		t.Fatal(err)
	}
	p.Provenance.Models[0].SHA256 = strings.Repeat("0", 64)
	bad := filepath.Join(dir, "bad.json")
	if err := p.Write(bad); err != nil {
		t.Fatal(err)
	}
	keys := filepath.Join(dir, "keys.txt")
	if err := os.WriteFile(keys, []byte("k1 channel=phone\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--profile", bad}, "profile " + bad + ": made with UltraFace-RFB-320 sha256 " + strings.Repeat("0", 64)},
		{[]string{"--profile", good, "--box", "mapped"}, "box mode raw"},
		{[]string{"--profile", good, "--api-keys-file", keys}, `unknown channel "phone"`},
		{[]string{"--profile", filepath.Join(dir, "none.json")}, "profile"},
	} {
		var built atomic.Int32
		ios, _, _, _ := cmdutil.Test()
		f := &cmdutil.Factory{IOStreams: ios, NewScorer: func(context.Context, scorer.Options) (cmdutil.ImageScorer, error) {
			built.Add(1)
			return nil, errors.New("no models in this test")
		}}
		cmd := NewCmdServe(f, nil)
		cmd.SetArgs(append([]string{"--addr", "127.0.0.1:0"}, c.args...))
		cmd.SetOut(io.Discard)
		cmd.SetErr(io.Discard)
		err := cmd.ExecuteContext(t.Context())
		if code := cmdutil.ExitCode(err); code != cmdutil.ExitCannotRun || !strings.Contains(err.Error(), c.want) || built.Load() != 0 {
			t.Errorf("%v: exit %d, err %v, %d scorers built; want 4 naming %q before loading models", c.args, code, err, built.Load(), c.want)
		}
	}
}
