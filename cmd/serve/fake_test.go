package serve

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/spoofsense/spoofsense/preprocess"
	"github.com/spoofsense/spoofsense/scorer"
)

// Test images for the fake scorer: the leading bytes pick what it answers.
const (
	imgLive    = "LIVE image bytes"   // prob_real 0.97
	imgSpoof   = "SPOOF image bytes"  // prob_real 0.12
	imgEdge    = "EDGE image bytes"   // prob_real exactly 0.55: live by ≥, spoof by >
	imgNoFace  = "NOFACE image bytes" // no face
	imgBroken  = "BROKEN image bytes" // a decode error
	imgPanic   = "PANIC image bytes"  // the scorer panics
	imgSlow    = "SLOW image bytes"   // waits for fakeControl.release or the context
	pngMagic   = "\x89PNG"            // the self-test image
	probLive   = 0.97
	probSpoof  = 0.12
	probEdge   = 0.55
	fakeDigest = "0123456789ab"
)

var errFakeDecode = errors.New("fake: unknown image format")

// fakeControl builds fake scorers and lets a test coordinate with them.
type fakeControl struct {
	started   chan struct{} // one value per SLOW image entering the scorer
	cancelled chan struct{} // one value per SLOW image whose context ended
	release   chan struct{} // closed to let SLOW images finish

	loadGate chan struct{} // when not nil, building a scorer waits for it to close
	loadErr  error         // when set, building a scorer fails
	// selfTestErr, when set, makes the scorers self-testing ones whose SelfTest fails with it.
	selfTestErr error

	mu    sync.Mutex
	built []scorer.Options
}

func newFakeControl() *fakeControl {
	return &fakeControl{
		started:   make(chan struct{}, 4096),
		cancelled: make(chan struct{}, 4096),
		release:   make(chan struct{}),
	}
}

func (c *fakeControl) newScorer(ctx context.Context, opts scorer.Options) (ImageScorer, error) {
	if c.loadGate != nil {
		select {
		case <-c.loadGate:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	if c.loadErr != nil {
		return nil, c.loadErr
	}
	c.mu.Lock()
	c.built = append(c.built, opts)
	c.mu.Unlock()
	if c.selfTestErr != nil {
		return selfTestingFake{&fakeScorer{c: c, opts: opts}, c.selfTestErr}, nil
	}
	return &fakeScorer{c: c, opts: opts}, nil
}

// selfTestingFake is a fake scorer with a SelfTest (as *scorer.Scorer has) that fails.
type selfTestingFake struct {
	*fakeScorer
	err error
}

func (f selfTestingFake) SelfTest(context.Context) (scorer.Result, error) {
	return scorer.Result{}, f.err
}

func (c *fakeControl) builtOptions() []scorer.Options {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]scorer.Options(nil), c.built...)
}

// fakeScorer answers from the image's leading bytes; it follows the scorer's contract (threshold
// with ≥, no_face is not an error, decode failures are errors, the context ends long work).
type fakeScorer struct {
	c    *fakeControl
	opts scorer.Options
}

func (f *fakeScorer) ScoreReader(ctx context.Context, r io.Reader, name string) (scorer.Result, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return scorer.Result{}, err
	}
	res := scorer.Result{
		File: name, Status: scorer.StatusOK, Threshold: f.opts.Threshold,
		CropPolicy: string(f.opts.Crops), BoxMode: string(f.opts.Box),
		Image:   scorer.ImageInfo{Width: 480, Height: 640, Format: "fake", Orientation: 1, Bytes: int64(len(b))},
		Timings: scorer.Timings{Decode: 1, Detect: 2, Crop: 0.1, Nets: 3, Quality: 0.2, Total: 6.3},
		Models:  []scorer.ModelVersion{{Name: "fake", SHA256: fakeDigest}},
	}
	prob := 0.0
	switch s := string(b); {
	case strings.HasPrefix(s, "LIVE"):
		prob = probLive
	case strings.HasPrefix(s, "SPOOF"):
		prob = probSpoof
	case strings.HasPrefix(s, "EDGE"):
		prob = probEdge
	case strings.HasPrefix(s, "SLOW"):
		f.c.started <- struct{}{}
		select {
		case <-f.c.release:
			prob = probLive
		case <-ctx.Done():
			f.c.cancelled <- struct{}{}
			return scorer.Result{}, ctx.Err()
		}
	case strings.HasPrefix(s, "NOFACE"), strings.HasPrefix(s, pngMagic):
		res.Verdict = scorer.NoFace
		return res, nil
	case strings.HasPrefix(s, "PANIC"):
		panic("fake scorer: deliberate panic")
	default:
		return scorer.Result{}, &scorer.InputError{Name: name, Err: errFakeDecode}
	}
	verdict := scorer.Spoof
	if prob >= f.opts.Threshold {
		verdict = scorer.Live
	}
	face := scorer.Face{Box: preprocess.Box{X: 100, Y: 120, W: 240, H: 300}, Verdict: verdict, ProbReal: prob, DetectorScore: 0.99}
	res.Verdict, res.ProbReal, res.FaceCount, res.Face = verdict, prob, 1, &face
	if f.opts.Faces == scorer.FacesAll {
		res.FaceCount = 2
		res.Faces = []scorer.Face{face, {Verdict: scorer.Spoof, ProbReal: 0.5}}
	}
	return res, nil
}

// syncBuffer is a log sink safe for the server's goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// testServer is a Server on a loopback httptest listener with a fake scorer.
type testServer struct {
	*Server
	ts   *httptest.Server
	fake *fakeControl
	logs *syncBuffer
}

// newTestServer starts a warmed-up server; edit adjusts the config (and may set fake knobs).
func newTestServer(t testing.TB, edit func(*Config, *fakeControl)) *testServer {
	t.Helper()
	ts := startTestServer(t, edit)
	if err := ts.Warmup(context.Background()); err != nil {
		t.Fatalf("Warmup: %v", err)
	}
	return ts
}

// startTestServer starts a server without warming it up.
func startTestServer(t testing.TB, edit func(*Config, *fakeControl)) *testServer {
	t.Helper()
	fake := newFakeControl()
	logs := &syncBuffer{}
	cfg := Config{
		NewScorer: fake.newScorer,
		Logger:    slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Version:   "v-test",
	}
	if edit != nil {
		edit(&cfg, fake)
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	hts := httptest.NewServer(s.Handler())
	t.Cleanup(hts.Close)
	return &testServer{Server: s, ts: hts, fake: fake, logs: logs}
}

// answer is a response read in full.
type answer struct {
	status int
	header http.Header
	body   []byte
}

// errorCode returns the "error" field of a JSON error answer ("" if there is none).
func (a answer) errorCode(t testing.TB) string {
	t.Helper()
	var e errorBody
	if err := json.Unmarshal(a.body, &e); err != nil {
		t.Fatalf("error answer is not JSON: %v: %q", err, a.body)
	}
	if e.Message == "" && e.Error != "" {
		t.Errorf("error answer %q has no message", a.body)
	}
	return e.Error
}

// send makes a request to the test server and reads the whole answer.
func (ts *testServer) send(t testing.TB, method, path, contentType string, body io.Reader, hdr map[string]string) answer {
	t.Helper()
	req, err := http.NewRequest(method, ts.ts.URL+path, body)
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := ts.ts.Client().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: read answer: %v", method, path, err)
	}
	return answer{status: resp.StatusCode, header: resp.Header, body: b}
}

// b64JSON is the /antispoofing body for img.
func b64JSON(img string) string {
	return `{"data":"` + base64Std(img) + `"}`
}

func base64Std(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

// counterValue reads the value of counter name with the given label values from s's registry
// (-1 when there is no such series).
func counterValue(t testing.TB, s *Server, name string, labels map[string]string) float64 {
	t.Helper()
	mfs, err := s.metrics.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	series:
		for _, m := range mf.GetMetric() {
			if len(m.GetLabel()) != len(labels) {
				continue
			}
			for _, lp := range m.GetLabel() {
				if labels[lp.GetName()] != lp.GetValue() {
					continue series
				}
			}
			return m.GetCounter().GetValue()
		}
	}
	return -1
}
