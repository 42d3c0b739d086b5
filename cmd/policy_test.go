package cmd

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spoofsense/spoofsense/cmd/cmdutil"
	"github.com/spoofsense/spoofsense/cmd/eval"
	"github.com/spoofsense/spoofsense/cmd/serve"
	"github.com/spoofsense/spoofsense/scorer"
)

// policyProbs are the prob_real values of TestOnePolicyEverywhere's images: both sides of
// every threshold it tries, and exactly on them.
var policyProbs = []float64{0.05, 0.3, 0.5499, 0.55, 0.7, 0.9, 1}

// TestOnePolicyEverywhere drives one decision policy through check, eval, /v1/check and
// /antispoofing and checks that each gives the verdicts scorer.Policy gives: live when
// prob_real ≥ threshold, and on the commercial route when prob_real > threshold (the Above
// rule), so an image exactly at the threshold is live on /v1/check and not real there.
func TestOnePolicyEverywhere(t *testing.T) {
	dir := t.TempDir()
	type img struct {
		path string
		prob float64
		live bool // its label in eval's dataset
	}
	var imgs []img
	for _, label := range []string{"live", "spoof"} {
		if err := os.MkdirAll(filepath.Join(dir, label), 0o755); err != nil {
			t.Fatal(err)
		}
		for i, p := range policyProbs {
			data, p := probImage(t, p)
			path := filepath.Join(dir, label, fmt.Sprintf("%d.png", i))
			if err := os.WriteFile(path, data, 0o644); err != nil {
				t.Fatal(err)
			}
			imgs = append(imgs, img{path, p, label == "live"})
		}
	}
	for _, tt := range []struct {
		name string
		args []string // the flag, as check, eval and serve take it
		t    float64
	}{
		{"default", nil, scorer.DefaultThreshold},
		{"0.3", []string{"--threshold", "0.3"}, 0.3},
		{"0.7", []string{"--threshold", "0.7"}, 0.7},
		{"1", []string{"--threshold", "1"}, 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			atLeast := scorer.Policy{Threshold: tt.t, Rule: scorer.AtLeast}
			above := scorer.Policy{Threshold: tt.t, Rule: scorer.Above}

			// check
			args := append(append([]string{"check", "-o", "ndjson", "--exit-zero"}, tt.args...), dir)
			code, out, errOut := run(t, args...)
			if code != 0 {
				t.Fatalf("check: exit %d: %s", code, errOut)
			}
			got := map[string]scorer.Verdict{}
			for _, res := range ndjsonResults(t, out) {
				got[res.File] = res.Verdict
			}
			for _, im := range imgs {
				if want := atLeast.Decide(im.prob); got[im.path] != want {
					t.Errorf("check %s (prob_real %v): %s, want %s", im.path, im.prob, got[im.path], want)
				}
			}

			// eval: the confusion table counts the policy's decisions.
			code, out, errOut = run(t, append(append([]string{"eval", "-o", "json"}, tt.args...), dir)...)
			if code != 0 && code != 1 {
				t.Fatalf("eval: exit %d: %s", code, errOut)
			}
			var rep eval.Result
			if err := json.Unmarshal([]byte(out), &rep); err != nil {
				t.Fatal(err)
			}
			var liveBonaFide, liveAttack int
			for _, im := range imgs {
				if atLeast.Live(im.prob) {
					if im.live {
						liveBonaFide++
					} else {
						liveAttack++
					}
				}
			}
			if rep.Threshold != tt.t || rep.Counts.BonaFide.ClassifiedBonaFide != liveBonaFide || rep.Counts.Attack.ClassifiedBonaFide != liveAttack {
				t.Errorf("eval at %v: %d bona fide and %d attacks decided live; the policy decides %d and %d",
					rep.Threshold, rep.Counts.BonaFide.ClassifiedBonaFide, rep.Counts.Attack.ClassifiedBonaFide, liveBonaFide, liveAttack)
			}

			// serve, started at the threshold: /v1/check (and ?threshold= on a server at the
			// default) and /antispoofing.
			started := serveAt(t, tt.t)
			atDefault := serveAt(t, scorer.DefaultThreshold)
			for _, im := range imgs {
				data, err := os.ReadFile(im.path)
				if err != nil {
					t.Fatal(err)
				}
				want := atLeast.Decide(im.prob)
				for _, c := range []struct{ url, name string }{
					{started + "/v1/check", "/v1/check"},
					{atDefault + "/v1/check?threshold=" + fmt.Sprint(tt.t), "/v1/check?threshold="},
				} {
					var res scorer.Result
					if status := post(t, c.url, "application/octet-stream", string(data), &res); status != 200 || res.Verdict != want {
						t.Errorf("%s %s (prob_real %v): %d %s, want %s", c.name, im.path, im.prob, status, res.Verdict, want)
					}
				}
				var a struct {
					ModelOutput struct {
						PredIdx string `json:"pred_idx"`
					} `json:"model_output"`
				}
				body := `{"data":"` + base64.StdEncoding.EncodeToString(data) + `"}`
				wantPred := "spoof"
				if above.Live(im.prob) {
					wantPred = "real"
				}
				if status := post(t, started+"/antispoofing", "application/json", body, &a); status != 200 || a.ModelOutput.PredIdx != wantPred {
					t.Errorf("/antispoofing %s (prob_real %v): %d %q, want %q", im.path, im.prob, status, a.ModelOutput.PredIdx, wantPred)
				}
			}
		})
	}
}

// serveAt starts a server on the pixel scorer deciding at threshold t and returns its URL.
func serveAt(t *testing.T, threshold float64) string {
	t.Helper()
	return startServer(t, serve.Config{Scorer: scorer.Options{Threshold: threshold}})
}

// startServer starts a server of cfg on the pixel scorer, warmed up, and returns its URL.
func startServer(t *testing.T, cfg serve.Config) string {
	t.Helper()
	cfg.NewScorer = func(_ context.Context, opts scorer.Options) (cmdutil.ImageScorer, error) {
		return pixelScorer{opts}, nil
	}
	srv, err := serve.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Warmup(t.Context()); err != nil {
		t.Fatal(err)
	}
	hts := httptest.NewServer(srv.Handler())
	t.Cleanup(hts.Close)
	return hts.URL
}

// post sends body to url and decodes the JSON answer into v; it returns the status.
func post(t *testing.T, url, contentType, body string, v any) int {
	t.Helper()
	resp, err := http.Post(url, contentType, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v: %s", url, err, b)
	}
	return resp.StatusCode
}

// TestThresholdRefusedEverywhere: a threshold out of (0, 1] — zero, negative, NaN, over 1, a
// subnormal — is refused by check, eval and serve (exit 2, one line) and by /v1/check (400),
// and every message gives the same reason, the one scorer.ValidateThreshold gives.
func TestThresholdRefusedEverywhere(t *testing.T) {
	dir, data := twoImageDataset(t)
	url := serveAt(t, scorer.DefaultThreshold)
	for _, tt := range []struct {
		value  string
		reason string
	}{
		{"0", "want a number in (0, 1]"},
		{"-1", "want a number in (0, 1]"},
		{"1.5", "want a number in (0, 1]"},
		{"NaN", "want a number in (0, 1], not NaN or infinity"},
		{"1e-320", "want a number in (0, 1]; a subnormal threshold would call every face live"},
	} {
		t.Run(tt.value, func(t *testing.T) {
			_, err := scorer.ParseThreshold("threshold", tt.value)
			if err == nil || !strings.HasSuffix(err.Error(), ": "+tt.reason) {
				t.Fatalf("scorer.ParseThreshold(%q) = %v, want the reason %q", tt.value, err, tt.reason)
			}
			flag := "--threshold=" + tt.value
			for _, args := range [][]string{
				{"check", flag, filepath.Join(dir, "live", "a.png")},
				{"eval", flag, dir},
				{"serve", flag, "--addr", "127.0.0.1:0"},
			} {
				code, out, errOut := run(t, args...)
				line := strings.TrimSpace(errOut)
				if code != cmdutil.ExitUsage || out != "" || strings.Count(line, "\n") > 0 ||
					!strings.Contains(line, "--threshold "+tt.value+": "+tt.reason) {
					t.Errorf("%s %s: exit %d, stdout %q, stderr %q; want exit 2 and one line with %q",
						args[0], flag, code, out, errOut, "--threshold "+tt.value+": "+tt.reason)
				}
			}
			var body struct {
				Error   string `json:"error"`
				Message string `json:"message"`
			}
			status := post(t, url+"/v1/check?threshold="+tt.value, "application/octet-stream", string(data), &body)
			if want := fmt.Sprintf("threshold %q: %s", tt.value, tt.reason); status != 400 || body.Message != want {
				t.Errorf("/v1/check?threshold=%s: %d %+v, want 400 with the message %q", tt.value, status, body, want)
			}
		})
	}
}

// TestSettingsRefusedEverywhere: a face policy, crop policy or box mode that is not one gets
// scorer.ParseFaces/ParseCrops/ParseBox's one message from check, eval and serve (exit 2, one
// line) and from /v1/check (400), as a threshold does.
func TestSettingsRefusedEverywhere(t *testing.T) {
	dir, data := twoImageDataset(t)
	url := serveAt(t, scorer.DefaultThreshold)
	parsers := map[string]func(string) error{
		"faces": func(v string) error { _, err := scorer.ParseFaces(v); return err },
		"crops": func(v string) error { _, err := scorer.ParseCrops(v); return err },
		"box":   func(v string) error { _, err := scorer.ParseBox(v); return err },
	}
	for _, tt := range []struct {
		setting, value, want string
		commands             []string // eval has no --faces
	}{
		{"faces", "biggest", `faces "biggest": must be largest, all or reject-multiple`, []string{"check", "serve"}},
		{"crops", "triple", `crops "triple": must be single or multi`, []string{"check", "eval", "serve"}},
		{"box", "square", `box "square": must be raw or mapped`, []string{"check", "eval", "serve"}},
	} {
		t.Run(tt.setting, func(t *testing.T) {
			if err := parsers[tt.setting](tt.value); err == nil || err.Error() != tt.want {
				t.Fatalf("scorer's parser of %s(%q) = %v, want %q", tt.setting, tt.value, err, tt.want)
			}
			flag := "--" + tt.setting + "=" + tt.value
			for _, command := range tt.commands {
				args := map[string][]string{
					"check": {"check", flag, filepath.Join(dir, "live", "a.png")},
					"eval":  {"eval", flag, dir},
					"serve": {"serve", flag, "--addr", "127.0.0.1:0"},
				}[command]
				code, out, errOut := run(t, args...)
				line := strings.TrimSpace(errOut)
				if code != cmdutil.ExitUsage || out != "" || strings.Count(line, "\n") > 0 || !strings.Contains(line, "--"+tt.want) {
					t.Errorf("%s %s: exit %d, stdout %q, stderr %q; want exit 2 and one line with %q", command, flag, code, out, errOut, "--"+tt.want)
				}
			}
			var body struct {
				Message string `json:"message"`
			}
			status := post(t, url+"/v1/check?"+tt.setting+"="+tt.value, "application/octet-stream", string(data), &body)
			if status != 400 || body.Message != tt.want {
				t.Errorf("/v1/check?%s=%s: %d %q, want 400 with %q", tt.setting, tt.value, status, body.Message, tt.want)
			}
		})
	}
}

// twoImageDataset writes one image of prob_real 0.9 as live/a.png and spoof/b.png under a
// temporary directory: something for check and eval to read before they refuse a flag.
func twoImageDataset(t *testing.T) (dir string, data []byte) {
	t.Helper()
	dir = t.TempDir()
	data, _ = probImage(t, 0.9)
	for _, name := range []string{"live/a.png", "spoof/b.png"} {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir, data
}
