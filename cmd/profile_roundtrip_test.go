package cmd

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spoofsense/spoofsense/cmd/cmdutil"
	"github.com/spoofsense/spoofsense/cmd/eval"
	"github.com/spoofsense/spoofsense/cmd/serve"
	"github.com/spoofsense/spoofsense/scorer"
	"github.com/spoofsense/spoofsense/scorer/profile"
)

// run runs spoofsense args with the text scorer and returns the exit code, stdout and stderr.
func run(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	ios, _, out, errOut := cmdutil.Test()
	f := &cmdutil.Factory{IOStreams: ios, Version: "v-test",
		NewScorer: func(_ context.Context, opts scorer.Options) (cmdutil.ImageScorer, error) {
			return pixelScorer{opts}, nil
		}}
	code := Run(t.Context(), f, args)
	return code, out.String(), errOut.String()
}

type rtImage struct {
	path, channel string
	score         float64
	live          bool
}

// TestProfileRoundTrip: a profile written by eval, read by check, eval and serve, gives the
// verdicts of the thresholds it holds; changed by one byte of a model digest, all three refuse
// it; a key bound to a channel gets that channel's threshold on /antispoofing.
func TestProfileRoundTrip(t *testing.T) {
	dir := t.TempDir()
	var images []rtImage
	rows := []string{"path,label,source"}
	for _, ch := range []struct {
		name  string
		shift float64
	}{{"kiosk", 0.3}, {"web", 0}} {
		for i := range 40 {
			for _, live := range []bool{true, false} {
				p := ch.shift + 0.005*float64(i)
				label := "spoof"
				if live {
					p += 0.35
					label = "live"
				}
				name := fmt.Sprintf("%s-%s-%d.png", ch.name, label, i)
				data, score := probImage(t, p)
				if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
					t.Fatal(err)
				}
				images = append(images, rtImage{filepath.Join(dir, name), ch.name, score, live})
				rows = append(rows, name+","+label+","+ch.name)
			}
		}
	}
	manifest := filepath.Join(dir, "manifest.csv")
	if err := os.WriteFile(manifest, []byte(strings.Join(rows, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	prof := filepath.Join(dir, "profile.json")
	if code, _, errOut := run(t, "eval", "--manifest", manifest, "--group-by", "source", "--target-bpcer", "0.05", "--save-profile", prof, "-o", "json"); code != 0 {
		t.Fatalf("eval --save-profile: exit %d: %s", code, errOut)
	}
	p, err := profile.Read(prof)
	if err != nil {
		t.Fatal(err)
	}
	thr := map[string]float64{}
	for _, ch := range []string{"kiosk", "web"} {
		d, err := p.Resolve(ch)
		if err != nil || d.Fallback {
			t.Fatalf("channel %s: %+v, %v", ch, d, err)
		}
		thr[ch] = d.Threshold
	}
	if thr["kiosk"] == thr["web"] {
		t.Fatalf("kiosk and web got the same threshold %v: the test would show nothing", thr["kiosk"])
	}

	// check: every verdict is the channel threshold's.
	for _, ch := range []string{"kiosk", "web"} {
		args := []string{"check", "--profile", prof, "--channel", ch, "-o", "ndjson", "--exit-zero"}
		want := map[string]rtImage{}
		for _, im := range images {
			args = append(args, im.path)
			want[im.path] = im
		}
		code, out, errOut := run(t, args...)
		if code != 0 {
			t.Fatalf("check --channel %s: exit %d: %s", ch, code, errOut)
		}
		for _, res := range ndjsonResults(t, out) {
			im := want[res.File]
			if live := res.Verdict == scorer.Live; live != (im.score >= thr[ch]) || res.Channel != ch || res.Threshold != thr[ch] {
				t.Errorf("check --channel %s %s: verdict %s channel %q threshold %v; profile threshold %v, score %v",
					ch, res.File, res.Verdict, res.Channel, res.Threshold, thr[ch], im.score)
			}
		}
	}

	// eval --profile: the pooled errors are the channel thresholds' decisions.
	code, out, errOut := run(t, "eval", "--manifest", manifest, "--profile", prof, "-o", "json")
	if code != 0 {
		t.Fatalf("eval --profile: exit %d: %s", code, errOut)
	}
	var res eval.Result
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatal(err)
	}
	var falseLive, falseSpoof int
	for _, im := range images {
		live := im.score >= thr[im.channel]
		falseLive += boolInt(live && !im.live)
		falseSpoof += boolInt(!live && im.live)
	}
	if res.APCERPooled.Count != falseLive || res.BPCER.Count != falseSpoof {
		t.Errorf("eval --profile: %d false live, %d false spoof; the thresholds make %d and %d", res.APCERPooled.Count, res.BPCER.Count, falseLive, falseSpoof)
	}

	// serve: /v1/check?channel= and a key bound to web on /antispoofing.
	url := startServer(t, serve.Config{
		Profile: p, ProfileFile: prof,
		APIKeys: []string{"k-web", "k-any"}, KeyChannels: map[string]string{"k-web": "web"},
	})
	post := func(path, key, contentType, body string) (*http.Response, []byte) {
		req, _ := http.NewRequest("POST", url+path, strings.NewReader(body))
		req.Header.Set("Content-Type", contentType)
		req.Header.Set("x-api-key", key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, b
	}
	for _, im := range images {
		data, _ := os.ReadFile(im.path)
		resp, b := post("/v1/check?channel="+im.channel, "k-any", "application/octet-stream", string(data))
		var r scorer.Result
		if err := json.Unmarshal(b, &r); err != nil || resp.StatusCode != 200 {
			t.Fatalf("/v1/check: %d %s", resp.StatusCode, b)
		}
		if (r.Verdict == scorer.Live) != (im.score >= thr[im.channel]) || r.Channel != im.channel {
			t.Errorf("/v1/check?channel=%s %s: verdict %s channel %q; threshold %v, score %v", im.channel, im.path, r.Verdict, r.Channel, thr[im.channel], im.score)
		}
		if im.channel != "web" {
			continue
		}
		resp, b = post("/antispoofing", "k-web", "application/json", `{"data":"`+base64.StdEncoding.EncodeToString(data)+`"}`)
		var a struct {
			ModelOutput struct {
				PredIdx string `json:"pred_idx"`
			} `json:"model_output"`
		}
		if err := json.Unmarshal(b, &a); err != nil || resp.StatusCode != 200 {
			t.Fatalf("/antispoofing: %d %s", resp.StatusCode, b)
		}
		// The commercial contract decides real when prob_real > threshold.
		real := a.ModelOutput.PredIdx == "real"
		if real != (im.score > thr["web"]) || resp.Header.Get("X-Spoofsense-Channel") != "web" {
			t.Errorf("/antispoofing with the web key, %s: pred_idx %s, channel header %q; web threshold %v, score %v",
				im.path, a.ModelOutput.PredIdx, resp.Header.Get("X-Spoofsense-Channel"), thr["web"], im.score)
		}
	}

	// One byte of a model digest changed: eval, check and serve refuse the profile (exit 4).
	b, _ := os.ReadFile(prof)
	digest := p.Provenance.Models[1].SHA256
	other := []byte(digest)
	other[30] = map[bool]byte{true: 'b', false: 'a'}[other[30] == 'a']
	bad := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(bad, []byte(strings.Replace(string(b), digest, string(other), 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"eval", "--manifest", manifest, "--profile", bad},
		{"check", "--profile", bad, "--channel", "web", images[0].path},
		{"serve", "--profile", bad, "--addr", "127.0.0.1:0"},
	} {
		code, _, errOut := run(t, args...)
		if code != 4 || !strings.Contains(errOut, "sha256 "+string(other)) || strings.Count(strings.TrimSpace(errOut), "\n") > 0 {
			t.Errorf("%s: exit %d, stderr %q; want 4 and one line naming the changed digest", args[0], code, errOut)
		}
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
