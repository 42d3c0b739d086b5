package serve

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/spoofsense/spoofsense/models/fixtures"
	"github.com/spoofsense/spoofsense/scorer"
)

// realScorers is a NewScorerFunc over the real models in ../shared/models: scorer.New, one
// Scorer per distinct set of options (by their printed form), loaded on first use.
func realScorers(t testing.TB) NewScorerFunc {
	t.Helper()
	modelsDir := fixtures.Path(t, "models")
	var (
		mu    sync.Mutex
		built = map[string]*scorer.Scorer{}
	)
	return func(ctx context.Context, o scorer.Options) (ImageScorer, error) {
		o.ModelsDir = modelsDir
		mu.Lock()
		defer mu.Unlock()
		key := fmt.Sprintf("%+v", o)
		if s, ok := built[key]; ok {
			return s, nil
		}
		s, err := scorer.New(ctx, o)
		if err != nil {
			return nil, err
		}
		built[key] = s
		return s, nil
	}
}

// newRealServer starts a warmed-up server on the real models; edit, when not nil, adjusts the
// config (its NewScorer may wrap the real one it finds there).
func newRealServer(t testing.TB, edit func(*Config)) *testServer {
	t.Helper()
	newScorer := realScorers(t)
	return newTestServer(t, func(c *Config, _ *fakeControl) {
		c.NewScorer = newScorer
		if edit != nil {
			edit(c)
		}
	})
}

// devSample is one of the sample selfies in ../shared/data/dev and the commercial answer's
// pred_idx it must get.
type devSample struct {
	file     string // relative to the shared directory
	img      []byte
	wantPred string
}

// devSamples reads the three sample selfies: T1 is live, F1 and F2 are presentation attacks.
func devSamples(t testing.TB) []devSample {
	t.Helper()
	samples := []devSample{
		{file: "data/dev/live/image_T1.jpg", wantPred: predReal},
		{file: "data/dev/spoof/image_F1.jpg", wantPred: predSpoof},
		{file: "data/dev/spoof/image_F2.jpg", wantPred: predSpoof},
	}
	for i := range samples {
		img, err := os.ReadFile(fixtures.Path(t, strings.Split(samples[i].file, "/")...))
		if err != nil {
			t.Fatal(err)
		}
		samples[i].img = img
	}
	return samples
}

// The service on the real scorer and models (from ../shared): the sample selfies get the
// commercial answers, and /v1/check returns what the scorer itself returns for the file.
func TestRealScorer(t *testing.T) {
	newScorer := realScorers(t)
	ts := newTestServer(t, func(c *Config, _ *fakeControl) { c.NewScorer = newScorer })

	for _, tt := range devSamples(t) {
		t.Run(tt.file, func(t *testing.T) {
			img := tt.img
			a := ts.send(t, http.MethodPost, "/antispoofing", "application/json", strings.NewReader(b64JSON(string(img))), nil)
			var got antispoofingResponse
			if err := json.Unmarshal(a.body, &got); err != nil || a.status != 200 {
				t.Fatalf("/antispoofing: %d %s (%v)", a.status, a.body, err)
			}
			if !got.Success || got.Message != msgSuccess || got.ModelOutput == nil || got.ModelOutput.PredIdx != tt.wantPred {
				t.Errorf("/antispoofing: %s, want success with pred_idx %s", a.body, tt.wantPred)
			}

			a = ts.send(t, http.MethodPost, "/v1/check?crops=multi", "image/jpeg", strings.NewReader(string(img)), nil)
			var res scorer.Result
			if err := json.Unmarshal(a.body, &res); err != nil || a.status != 200 {
				t.Fatalf("/v1/check: %d %s (%v)", a.status, a.body, err)
			}
			s, err := newScorer(context.Background(), scorer.Options{Threshold: scorer.DefaultThreshold,
				Faces: scorer.FacesLargest, Crops: scorer.CropsMulti, Box: scorer.BoxRaw})
			if err != nil {
				t.Fatal(err)
			}
			want, err := s.ScoreReader(context.Background(), strings.NewReader(string(img)), "")
			if err != nil {
				t.Fatal(err)
			}
			res.Timings, want.Timings = scorer.Timings{}, scorer.Timings{}
			gotJSON, _ := json.Marshal(res)
			wantJSON, _ := json.Marshal(want)
			if string(gotJSON) != string(wantJSON) {
				t.Errorf("/v1/check answer differs from the scorer's result:\n got %s\nwant %s", gotJSON, wantJSON)
			}
			if res.CropPolicy != "multi" {
				t.Errorf("crop_policy %q, want multi", res.CropPolicy)
			}
		})
	}
	a := ts.send(t, http.MethodPost, "/v1/check", "image/png", strings.NewReader(string(selfTestImage())), nil)
	if a.status != 200 || !strings.Contains(string(a.body), `"verdict":"no_face"`) {
		t.Errorf("the self-test image: %d %s, want no_face", a.status, a.body)
	}
	a = ts.send(t, http.MethodPost, "/v1/check", "image/jpeg", strings.NewReader("GIF89a but not really"), nil)
	if a.status != 422 || a.errorCode(t) != codeUnreadableImage {
		t.Errorf("an unreadable image: %d %s, want 422 unreadable_image", a.status, a.body)
	}
	a = ts.send(t, http.MethodPost, "/antispoofing", "application/json", strings.NewReader(b64JSON("%PDF-1.4 not an image")), nil)
	if string(a.body) != `{"success":false,"message":"Invalid image"}`+"\n" {
		t.Errorf("/antispoofing with a PDF: %s", a.body)
	}
}
