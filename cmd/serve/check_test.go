package serve

import (
	"bytes"
	"encoding/json"
	"io"
	"math"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/spoofsense/spoofsense/scorer"
)

// multipartBody builds a multipart/form-data body with the given fields; the field "image" is
// sent as a file part.
func multipartBody(t testing.TB, fields map[string]string) (contentType string, body io.Reader) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for _, name := range []string{"note", "image"} { // a field before the image is skipped
		v, ok := fields[name]
		if !ok {
			continue
		}
		var w io.Writer
		var err error
		if name == "image" {
			w, err = mw.CreateFormFile(name, "selfie.jpg")
		} else {
			w, err = mw.CreateFormField(name)
		}
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.WriteString(w, v)
	}
	if err := mw.Close(); err != nil {
		t.Fatal(err)
	}
	return mw.FormDataContentType(), &buf
}

func TestCheck(t *testing.T) {
	ts := newTestServer(t, func(c *Config, _ *fakeControl) { c.MaxBodyBytes = 1 << 20 })
	mpLive, mpLiveBody := multipartBody(t, map[string]string{"note": "hello", "image": imgLive})
	mpNone, mpNoneBody := multipartBody(t, map[string]string{"note": "hello"})
	mpBig, mpBigBody := multipartBody(t, map[string]string{"image": imgLive + strings.Repeat("x", 1<<20)})
	tests := []struct {
		name        string
		query       string
		contentType string
		body        io.Reader
		wantStatus  int
		wantCode    string         // error code, for errors
		wantVerdict scorer.Verdict // for 200
		wantFile    string
		wantThresh  float64
		wantCrops   string
		wantFaces   int // len(Result.Faces)
	}{
		{name: "raw jpeg live", contentType: "image/jpeg", body: strings.NewReader(imgLive), wantStatus: 200, wantVerdict: scorer.Live, wantThresh: 0.55, wantCrops: "multi"},
		{name: "raw octet-stream spoof", contentType: "application/octet-stream", body: strings.NewReader(imgSpoof), wantStatus: 200, wantVerdict: scorer.Spoof, wantThresh: 0.55, wantCrops: "multi"},
		{name: "exactly the threshold is live (≥)", contentType: "image/png", body: strings.NewReader(imgEdge), wantStatus: 200, wantVerdict: scorer.Live, wantThresh: 0.55, wantCrops: "multi"},
		{name: "no face is a result", contentType: "image/jpeg", body: strings.NewReader(imgNoFace), wantStatus: 200, wantVerdict: scorer.NoFace, wantThresh: 0.55, wantCrops: "multi"},
		{name: "multipart", contentType: mpLive, body: mpLiveBody, wantStatus: 200, wantVerdict: scorer.Live, wantFile: "selfie.jpg", wantThresh: 0.55, wantCrops: "multi"},
		{name: "json base64", contentType: "application/json", body: strings.NewReader(b64JSON(imgSpoof)), wantStatus: 200, wantVerdict: scorer.Spoof, wantThresh: 0.55, wantCrops: "multi"},
		{name: "threshold raises the bar", query: "?threshold=0.98", contentType: "image/jpeg", body: strings.NewReader(imgLive), wantStatus: 200, wantVerdict: scorer.Spoof, wantThresh: 0.98, wantCrops: "multi"},
		{name: "threshold lowers the bar", query: "?threshold=0.1", contentType: "image/jpeg", body: strings.NewReader(imgSpoof), wantStatus: 200, wantVerdict: scorer.Live, wantThresh: 0.1, wantCrops: "multi"},
		{name: "threshold leaves no_face alone", query: "?threshold=0.01", contentType: "image/jpeg", body: strings.NewReader(imgNoFace), wantStatus: 200, wantVerdict: scorer.NoFace, wantThresh: 0.01, wantCrops: "multi"},
		{name: "crops and faces overrides", query: "?crops=multi&faces=all&box=mapped", contentType: "image/jpeg", body: strings.NewReader(imgLive), wantStatus: 200, wantVerdict: scorer.Live, wantThresh: 0.55, wantCrops: "multi", wantFaces: 2},
		{name: "bad threshold", query: "?threshold=1.5", contentType: "image/jpeg", body: strings.NewReader(imgLive), wantStatus: 400, wantCode: codeInvalidParameter},
		{name: "threshold not a number", query: "?threshold=high", contentType: "image/jpeg", body: strings.NewReader(imgLive), wantStatus: 400, wantCode: codeInvalidParameter},
		{name: "bad faces", query: "?faces=biggest", contentType: "image/jpeg", body: strings.NewReader(imgLive), wantStatus: 400, wantCode: codeInvalidParameter},
		{name: "bad nets", query: "?nets=MiniFASNetV3", contentType: "image/jpeg", body: strings.NewReader(imgLive), wantStatus: 400, wantCode: codeInvalidParameter},
		{name: "nets listed twice", query: "?nets=MiniFASNetV2,minifasnetv2", contentType: "image/jpeg", body: strings.NewReader(imgLive), wantStatus: 400, wantCode: codeInvalidParameter},
		{name: "bad crops", query: "?crops=many", contentType: "image/jpeg", body: strings.NewReader(imgLive), wantStatus: 400, wantCode: codeInvalidParameter},
		{name: "unknown parameter", query: "?treshold=0.5", contentType: "image/jpeg", body: strings.NewReader(imgLive), wantStatus: 400, wantCode: codeInvalidParameter},
		{name: "empty raw body", contentType: "image/jpeg", body: strings.NewReader(""), wantStatus: 400, wantCode: codeMissingImage},
		{name: "multipart without image", contentType: mpNone, body: mpNoneBody, wantStatus: 400, wantCode: codeMissingImage},
		{name: "json bad base64", contentType: "application/json", body: strings.NewReader(`{"data":"%%%"}`), wantStatus: 400, wantCode: codeInvalidBase64},
		{name: "json malformed", contentType: "application/json", body: strings.NewReader(`{`), wantStatus: 400, wantCode: codeMalformedJSON},
		{name: "json missing data", contentType: "application/json", body: strings.NewReader(`{}`), wantStatus: 400, wantCode: codeMissingData},
		{name: "unreadable image", contentType: "image/jpeg", body: strings.NewReader(imgBroken), wantStatus: 422, wantCode: codeUnreadableImage},
		{name: "text/plain", contentType: "text/plain", body: strings.NewReader(imgLive), wantStatus: 415, wantCode: codeUnsupportedMediaType},
		{name: "no content type", body: strings.NewReader(imgLive), wantStatus: 415, wantCode: codeUnsupportedMediaType},
		{name: "over the limit", contentType: "image/jpeg", body: strings.NewReader(imgLive + strings.Repeat("x", 1<<20)), wantStatus: 413, wantCode: codeBodyTooLarge},
		{name: "multipart over the limit", contentType: mpBig, body: io.MultiReader(mpBigBody), wantStatus: 413, wantCode: codeBodyTooLarge}, // chunked: found while reading
		{name: "scorer panic", contentType: "image/jpeg", body: strings.NewReader(imgPanic), wantStatus: 500, wantCode: codeInternal},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := ts.send(t, http.MethodPost, "/v1/check"+tt.query, tt.contentType, tt.body, nil)
			if a.status != tt.wantStatus {
				t.Fatalf("status %d, want %d; body %s", a.status, tt.wantStatus, a.body)
			}
			if tt.wantStatus != 200 {
				if got := a.errorCode(t); got != tt.wantCode {
					t.Errorf("error code %q, want %q", got, tt.wantCode)
				}
				return
			}
			var res scorer.Result
			dec := json.NewDecoder(bytes.NewReader(a.body))
			dec.DisallowUnknownFields() // the answer is exactly the scorer.Result schema
			if err := dec.Decode(&res); err != nil {
				t.Fatalf("answer is not a scorer.Result: %v: %s", err, a.body)
			}
			if res.Verdict != tt.wantVerdict || res.Status != scorer.StatusOK {
				t.Errorf("verdict %q status %q, want %q ok", res.Verdict, res.Status, tt.wantVerdict)
			}
			if res.File != tt.wantFile {
				t.Errorf("file %q, want %q", res.File, tt.wantFile)
			}
			if res.Threshold != tt.wantThresh {
				t.Errorf("threshold %v, want %v", res.Threshold, tt.wantThresh)
			}
			if res.CropPolicy != tt.wantCrops {
				t.Errorf("crop_policy %q, want %q", res.CropPolicy, tt.wantCrops)
			}
			if len(res.Faces) != tt.wantFaces {
				t.Errorf("%d faces, want %d", len(res.Faces), tt.wantFaces)
			}
			if res.Face != nil && res.Face.Verdict != res.Verdict {
				t.Errorf("face verdict %q disagrees with the image's %q", res.Face.Verdict, res.Verdict)
			}
		})
	}
}

func TestWithThresholdDecidesEveryFace(t *testing.T) {
	face := scorer.Face{Verdict: scorer.Live, ProbReal: 0.7}
	in := scorer.Result{Verdict: scorer.Live, ProbReal: 0.7, Threshold: 0.55, Face: &face,
		Faces: []scorer.Face{face, {Verdict: scorer.Spoof, ProbReal: 0.3}, {Verdict: scorer.Rejected, ProbReal: 0.9}}}
	out := withThreshold(in, 0.5)
	want := []scorer.Verdict{scorer.Live, scorer.Spoof, scorer.Rejected}
	for i, f := range out.Faces {
		if f.Verdict != want[i] {
			t.Errorf("at 0.5, face %d: %q, want %q", i, f.Verdict, want[i])
		}
	}
	out = withThreshold(in, 0.8)
	if out.Verdict != scorer.Spoof || out.Face.Verdict != scorer.Spoof || out.Faces[0].Verdict != scorer.Spoof || out.Threshold != 0.8 {
		t.Errorf("at 0.8: verdict %q, face %q, faces[0] %q, threshold %v; want spoof ×3, 0.8",
			out.Verdict, out.Face.Verdict, out.Faces[0].Verdict, out.Threshold)
	}
	if in.Face.Verdict != scorer.Live || in.Faces[0].Verdict != scorer.Live {
		t.Error("withThreshold changed its input")
	}
}

// Per-request options get a scorer of their own, built once and reused; the default options
// use the warmed-up scorer.
func TestCheckOverridesBuildScorersOnce(t *testing.T) {
	ts := newTestServer(t, func(c *Config, _ *fakeControl) { c.MaxScorers = 2 })
	for _, q := range []string{"", "?crops=single", "?crops=single&threshold=0.3", "?faces=all", "?crops=multi&faces=largest&box=raw", "?crops=single"} {
		if a := ts.send(t, http.MethodPost, "/v1/check"+q, "image/jpeg", strings.NewReader(imgLive), nil); a.status != 200 {
			t.Fatalf("%s: status %d: %s", q, a.status, a.body)
		}
	}
	built := ts.fake.builtOptions()
	var crops []string
	for _, o := range built {
		crops = append(crops, string(o.Crops)+"/"+string(o.Faces))
	}
	// Default (warm-up; multi-crop), crops=single, faces=all; nothing else.
	want := "multi/largest single/largest multi/all"
	if got := strings.Join(crops, " "); got != want {
		t.Errorf("built scorers %q, want %q", got, want)
	}
	if n := ts.scorers.size(); n != 2 {
		t.Errorf("%d override scorers held, want 2", n)
	}
	// A third override evicts the least recently used one (crops=single was used last).
	ts.send(t, http.MethodPost, "/v1/check?box=mapped", "image/jpeg", strings.NewReader(imgLive), nil)
	ts.send(t, http.MethodPost, "/v1/check?faces=all", "image/jpeg", strings.NewReader(imgLive), nil)
	if n := len(ts.fake.builtOptions()); n != 5 {
		t.Errorf("%d scorers built, want 5 (faces=all evicted and rebuilt)", n)
	}
	if n := ts.scorers.size(); n != 2 {
		t.Errorf("%d override scorers held, want 2", n)
	}
}

// TestCheckNets: nets= builds a scorer for that net set once, in manifest order whatever the
// spelling, and nets=all is the default scorer.
func TestCheckNets(t *testing.T) {
	ts := newTestServer(t, nil)
	for _, q := range []string{"?nets=MiniFASNetV2,MiniFASNetV1SE", "?nets=all", "?nets=minifasnetv1se,MiniFASNetV2", ""} {
		if a := ts.send(t, http.MethodPost, "/v1/check"+q, "image/jpeg", strings.NewReader(imgLive), nil); a.status != 200 {
			t.Fatalf("%s: status %d: %s", q, a.status, a.body)
		}
	}
	var got []string
	for _, o := range ts.fake.builtOptions() {
		got = append(got, strings.Join(o.Nets, "+"))
	}
	want := "MiniFASNetV2+MiniFASNetV1SE+MiniFASNetV2SE-128 MiniFASNetV2+MiniFASNetV1SE"
	if strings.Join(got, " ") != want {
		t.Errorf("built scorers for nets %q, want %q", strings.Join(got, " "), want)
	}
}

// A threshold that is not a usable probability (NaN, infinite, zero, subnormal, out of range) is
// a 400 naming the parameter, with the request id, before anything is scored: no verdict is
// counted, and a spoof can never be made live by threshold=0 or 1e-320.
func TestCheckRefusesHostileThresholds(t *testing.T) {
	ts := newTestServer(t, nil)
	for _, v := range []string{"NaN", "nan", "Inf", "-Inf", "0", "-0", "1e-320", "4.9e-324", "1e-400", "1e400", "-0.1", "1.0001", "0x1p-1074"} {
		a := ts.send(t, http.MethodPost, "/v1/check?threshold="+url.QueryEscape(v), "image/jpeg", strings.NewReader(imgSpoof), nil)
		if a.status != http.StatusBadRequest || a.errorCode(t) != codeInvalidParameter {
			t.Errorf("threshold=%s: status %d %s, want 400 invalid_parameter", v, a.status, a.body)
			continue
		}
		var e errorBody
		_ = json.Unmarshal(a.body, &e)
		if !strings.Contains(e.Message, "threshold") || e.RequestID == "" || e.RequestID != a.header.Get("X-Request-Id") {
			t.Errorf("threshold=%s: %s, want a message naming threshold and the request id", v, a.body)
		}
	}
	for _, verdict := range []string{"live", "spoof"} {
		if got := counterValue(t, ts.Server, "spoofsense_verdicts_total",
			map[string]string{"route": "/v1/check", "verdict": verdict}); got > 0 {
			t.Errorf("metrics count %v %s verdicts for refused requests", got, verdict)
		}
	}
	// The smallest accepted threshold still scores.
	if a := ts.send(t, http.MethodPost, "/v1/check?threshold=1e-300", "image/jpeg", strings.NewReader(imgSpoof), nil); a.status != 200 {
		t.Errorf("threshold=1e-300: %d %s, want 200", a.status, a.body)
	}
}

// An answer that cannot be encoded (a NaN from a broken scorer) is still a JSON 500 carrying
// the request id.
func TestUnencodableAnswerHasRequestID(t *testing.T) {
	rec := httptest.NewRecorder()
	rec.Header().Set("X-Request-Id", "rid-7")
	writeJSON(rec, http.StatusOK, map[string]float64{"prob_real": math.NaN()})
	var e errorBody
	if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil || rec.Code != 500 || e.Error != codeInternal || e.RequestID != "rid-7" {
		t.Errorf("%d %s (%v), want a JSON 500 internal with request_id rid-7", rec.Code, rec.Body, err)
	}
}
