package serve

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/spoofsense/spoofsense/models/fixtures"
	"github.com/spoofsense/spoofsense/scorer"
)

// The service on the real scorer and models (from ../shared): the sample selfies get the
// commercial answers, and /v1/check returns what the scorer itself returns for the file.
func TestRealScorer(t *testing.T) {
	modelsDir := fixtures.Path(t, "models")
	var (
		mu    sync.Mutex
		built = map[scorer.Options]*scorer.Scorer{}
	)
	newScorer := func(ctx context.Context, o scorer.Options) (ImageScorer, error) {
		o.ModelsDir = modelsDir
		mu.Lock()
		defer mu.Unlock()
		if s, ok := built[o]; ok {
			return s, nil
		}
		s, err := scorer.New(ctx, o)
		if err != nil {
			return nil, err
		}
		built[o] = s
		return s, nil
	}
	ts := newTestServer(t, func(c *Config, _ *fakeControl) { c.NewScorer = newScorer })

	tests := []struct {
		file     string
		wantPred string
	}{
		{"data/dev/live/image_T1.jpg", predReal},
		{"data/dev/spoof/image_F1.jpg", predSpoof},
		{"data/dev/spoof/image_F2.jpg", predSpoof},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			img, err := os.ReadFile(fixtures.Path(t, strings.Split(tt.file, "/")...))
			if err != nil {
				t.Fatal(err)
			}
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
