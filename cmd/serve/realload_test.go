package serve

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/jpeg"
	"io"
	"net"
	"net/http"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/spoofsense/spoofsense/scorer"
)

// realLoad is a load run over the sample selfies: request i sends sample i%3 as
// /antispoofing JSON, and every 200 answer must be, byte for byte, the answer the same sample
// got alone before the load (inference is deterministic, so concurrency must not change it).
type realLoad struct {
	samples []devSample
	bodies  []string // the JSON body of each sample
	want    [][]byte // the answer each sample got alone
}

// newRealLoad sends each sample once to ts and checks its pred_idx.
func newRealLoad(t testing.TB, ts *testServer, samples []devSample) *realLoad {
	t.Helper()
	l := &realLoad{samples: samples}
	for _, s := range l.samples {
		body := `{"data":"` + base64.StdEncoding.EncodeToString(s.img) + `"}`
		a := ts.send(t, http.MethodPost, "/antispoofing", "application/json", strings.NewReader(body), nil)
		var got antispoofingResponse
		if err := json.Unmarshal(a.body, &got); err != nil || a.status != http.StatusOK {
			t.Fatalf("%s alone: %d %s (%v)", s.file, a.status, a.body, err)
		}
		if !got.Success || got.ModelOutput == nil || got.ModelOutput.PredIdx != s.wantPred {
			t.Fatalf("%s alone: %s, want pred_idx %s", s.file, a.body, s.wantPred)
		}
		l.bodies = append(l.bodies, body)
		l.want = append(l.want, a.body)
	}
	return l
}

// spec is a run of n requests from concurrency clients over the samples. A 503 must be the
// deliberate one of a full queue; any other status fails the check.
func (l *realLoad) spec(n, concurrency int) loadSpec {
	return loadSpec{
		n: n, concurrency: concurrency,
		body: func(i int) string { return l.bodies[i%len(l.bodies)] },
		check: func(i, status int, body []byte) error {
			k := i % len(l.samples)
			switch status {
			case http.StatusOK:
				if !bytes.Equal(body, l.want[k]) {
					return fmt.Errorf("%s under load: %s, alone: %s", l.samples[k].file, body, l.want[k])
				}
			case http.StatusServiceUnavailable:
				var e errorBody
				if err := json.Unmarshal(body, &e); err != nil || e.Error != codeBusy {
					return fmt.Errorf("%s: 503 %s, want error %q", l.samples[k].file, body, codeBusy)
				}
			default:
				return fmt.Errorf("%s: status %d: %s", l.samples[k].file, status, body)
			}
			return nil
		},
	}
}

// realLoadRequests is the size of TestLoadRealModels, kept small because real inference takes
// tens of milliseconds per image on one core (and many times that under -race); the benchmark
// runs the big load.
func realLoadRequests() int {
	if raceEnabled {
		return 8
	}
	return 96
}

// A bounded load test on the real models: 32 clients send the sample selfies. When the queue
// holds every client, every answer is 200 and the answer the image gets alone; with a small
// queue the excess is refused with 503 and Retry-After, and nothing else fails.
func TestLoadRealModels(t *testing.T) {
	const concurrency = 32
	newScorer := realScorers(t)
	samples := devSamples(t)
	var load *realLoad
	tests := []struct {
		name      string
		inflight  int
		queue     int
		wantAllOK bool // the queue holds every client: a 503 is a bug
	}{
		{"queue holds every client", 2, concurrency, true},
		{"small queue refuses the excess", 2, 2, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := newTestServer(t, func(c *Config, _ *fakeControl) {
				c.NewScorer, c.MaxInflight, c.Queue = newScorer, tt.inflight, tt.queue
			})
			if load == nil { // the answers alone are the same on every server
				load = newRealLoad(t, ts, samples)
			}
			n := realLoadRequests()
			res := runLoadWith(t, ts, load.spec(n, concurrency))
			t.Logf("%d requests at concurrency %d, %d workers, queue %d: %v; p50 %v, p99 %v, %.1f req/s",
				n, concurrency, tt.inflight, tt.queue, res.statuses,
				res.quantile(0.5), res.quantile(0.99), float64(n)/res.elapsed.Seconds())
			total := 0
			for code, c := range res.statuses {
				total += c
				if code != http.StatusOK && (code != http.StatusServiceUnavailable || tt.wantAllOK) {
					t.Errorf("%d answers with status %d", c, code)
				}
			}
			if total != n || res.statuses[http.StatusOK] == 0 {
				t.Errorf("%d answers (%d ok), want %d with some ok", total, res.statuses[http.StatusOK], n)
			}
			if res.noRetry > 0 || res.badAnswers > 0 {
				t.Errorf("%d 503s without Retry-After, %d wrong answers", res.noRetry, res.badAnswers)
			}
		})
	}
}

// BenchmarkLoadRealModels is the service's throughput on the real models: 32 clients send
// the sample selfies to POST /antispoofing, b.N requests in all, with --max-inflight at the
// number of CPUs and a queue holding every client. Run it bounded, e.g.
//
//	go test -run '^$' -bench LoadRealModels -benchtime 2000x ./cmd/serve/
func BenchmarkLoadRealModels(b *testing.B) {
	const concurrency = 32
	ts := newRealServer(b, func(c *Config) { c.MaxInflight, c.Queue = runtime.NumCPU(), concurrency })
	load := newRealLoad(b, ts, devSamples(b))
	b.ResetTimer()
	res := runLoadWith(b, ts, load.spec(b.N, concurrency))
	b.StopTimer()
	b.ReportMetric(float64(res.quantile(0.5).Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(res.quantile(0.99).Microseconds())/1000, "p99-ms")
	b.ReportMetric(float64(b.N)/res.elapsed.Seconds(), "req/s")
	if bad := b.N - res.statuses[http.StatusOK]; bad > 0 || res.badAnswers > 0 {
		b.Errorf("%d answers not 200 (%v), %d wrong answers", bad, res.statuses, res.badAnswers)
	}
}

// commercialClient is a client of the commercial liveness API written only from its published
// contract (PIPELINE §4), sharing nothing with the server's code: it proves that a client
// written for that API works unchanged against spoofsense serve.
type commercialClient struct {
	baseURL string
	apiKey  string
	http    *http.Client
}

// commercialAnswer is the documented answer of POST /antispoofing.
type commercialAnswer struct {
	Success     bool   `json:"success"`
	Message     string `json:"message"`
	ModelOutput *struct {
		PredIdx  string  `json:"pred_idx"`
		ProbReal float64 `json:"prob_real"`
	} `json:"model_output"`
}

// antispoofing posts {"data": data} with the API key and decodes a 200 answer strictly: no
// field beyond the documented ones, nothing after the JSON value. Other statuses return a nil
// answer.
func (c *commercialClient) antispoofing(ctx context.Context, data string) (int, *commercialAnswer, error) {
	body, err := json.Marshal(map[string]string{"data": data})
	if err != nil {
		return 0, nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.baseURL+"/antispoofing", bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("x-api-key", c.apiKey)
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, resp.Body)
		return resp.StatusCode, nil, nil
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		return resp.StatusCode, nil, fmt.Errorf("answer Content-Type %q, want application/json", ct)
	}
	dec := json.NewDecoder(resp.Body)
	dec.DisallowUnknownFields()
	var ans commercialAnswer
	if err := dec.Decode(&ans); err != nil {
		return resp.StatusCode, nil, fmt.Errorf("decode answer: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return resp.StatusCode, nil, fmt.Errorf("data after the answer's JSON value (%v)", err)
	}
	return resp.StatusCode, &ans, nil
}

// flatJPEG is a uniform grey 640×480 JPEG: a valid photo with no face in it.
func flatJPEG(t testing.TB) []byte {
	t.Helper()
	img := image.NewGray(image.Rect(0, 0, 640, 480))
	for i := range img.Pix {
		img.Pix[i] = 128
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, nil); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// A client written for the commercial API, from its contract alone, works unchanged against
// the server on the real models: live, spoof, no face, invalid base64, an oversized body and
// the API key.
func TestCommercialClientWorksUnchanged(t *testing.T) {
	const apiKey = "commercial-client-key"
	ts := newRealServer(t, func(c *Config) { c.APIKeys = []string{apiKey} })
	samples := devSamples(t)
	b64 := base64.StdEncoding.EncodeToString
	const threshold = 0.55 // documented: real when prob_real > 0.55
	type want struct {
		status   int
		success  bool
		message  string
		pred     string // "" when there must be no model_output
		probLow  float64
		probHigh float64
	}
	live := want{200, true, "Process finished successfully", "real", threshold, 1}
	spoof := want{200, true, "Process finished successfully", "spoof", 0, threshold}
	tests := []struct {
		name   string
		apiKey string
		data   string
		want   want
	}{
		{"live " + samples[0].file, apiKey, b64(samples[0].img), live},
		{"spoof " + samples[1].file, apiKey, b64(samples[1].img), spoof},
		{"spoof " + samples[2].file, apiKey, b64(samples[2].img), spoof},
		{"no face in a flat grey photo", apiKey, b64(flatJPEG(t)), want{status: 200, message: "face not detected"}},
		{"invalid base64", apiKey, "this is not base64!", want{status: 200, message: "Invalid base64 string"}},
		{"body over 10 MiB", apiKey, strings.Repeat("A", 10485760), want{status: 413}},
		{"wrong API key", "not-the-key", b64(samples[0].img), want{status: 401}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &commercialClient{baseURL: ts.ts.URL, apiKey: tt.apiKey, http: &http.Client{Timeout: time.Minute}}
			status, ans, err := c.antispoofing(context.Background(), tt.data)
			if err != nil {
				t.Fatal(err)
			}
			if status != tt.want.status {
				t.Fatalf("status %d, want %d", status, tt.want.status)
			}
			if status != http.StatusOK {
				return
			}
			if ans.Success != tt.want.success || ans.Message != tt.want.message {
				t.Errorf("success %v, message %q; want %v, %q", ans.Success, ans.Message, tt.want.success, tt.want.message)
			}
			switch mo := ans.ModelOutput; {
			case tt.want.pred == "" && mo != nil:
				t.Errorf("model_output %+v, want none", *mo)
			case tt.want.pred == "":
			case mo == nil:
				t.Errorf("no model_output, want pred_idx %q", tt.want.pred)
			case mo.PredIdx != tt.want.pred:
				t.Errorf("pred_idx %q (prob_real %v), want %q", mo.PredIdx, mo.ProbReal, tt.want.pred)
			case mo.ProbReal < tt.want.probLow || mo.ProbReal > tt.want.probHigh ||
				(mo.PredIdx == "real") != (mo.ProbReal > threshold):
				t.Errorf("prob_real %v for pred_idx %q, want in [%v, %v] and real exactly when > %v",
					mo.ProbReal, mo.PredIdx, tt.want.probLow, tt.want.probHigh, threshold)
			}
		})
	}
}

// observedScorer wraps an ImageScorer and counts the calls that started, ended and ended
// cancelled; started also receives a value per call.
type observedScorer struct {
	ImageScorer
	started            chan struct{}
	running, cancelled *atomic.Int64
	otherErrs          *atomic.Int64
	// hold, while set, keeps each inference from starting until its request is cancelled,
	// so that a burst stays queued behind it however fast the models are.
	hold *atomic.Bool
}

func (o observedScorer) ScoreReader(ctx context.Context, r io.Reader, name string) (scorer.Result, error) {
	o.running.Add(1)
	defer o.running.Add(-1)
	select {
	case o.started <- struct{}{}:
	default:
	}
	var (
		res scorer.Result
		err error
	)
	if o.hold.Load() {
		<-ctx.Done()
		err = ctx.Err()
	} else {
		res, err = o.ImageScorer.ScoreReader(ctx, r, name)
	}
	switch {
	case errors.Is(err, context.Canceled):
		o.cancelled.Add(1)
	case err != nil:
		o.otherErrs.Add(1)
	}
	return res, err
}

// Clients that leave mid-inference or while queued, on the real models: the inference is
// cancelled, the server keeps answering correctly, every slot is released and no goroutine
// leaks.
func TestClientsDisconnectingRealModels(t *testing.T) {
	var running, cancelled, otherErrs atomic.Int64
	var hold atomic.Bool
	started := make(chan struct{}, 1)
	ts := newRealServer(t, func(c *Config) {
		inner := c.NewScorer
		c.MaxInflight, c.Queue = 1, 16
		c.NewScorer = func(ctx context.Context, o scorer.Options) (ImageScorer, error) {
			s, err := inner(ctx, o)
			if err != nil {
				return nil, err
			}
			return observedScorer{ImageScorer: s, started: started, running: &running,
				cancelled: &cancelled, otherErrs: &otherErrs, hold: &hold}, nil
		}
	})
	// The answer the live sample gets alone (the first request).
	load := newRealLoad(t, ts, devSamples(t)[:1])
	requests := len(load.samples)
	client := &http.Client{Transport: &http.Transport{}}
	checkServes := func() {
		t.Helper()
		for k, body := range load.bodies {
			resp, err := client.Post(ts.ts.URL+"/antispoofing", "application/json", strings.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			got, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil || resp.StatusCode != http.StatusOK || !bytes.Equal(got, load.want[k]) {
				t.Fatalf("%s: %d %s (%v), want %s", load.samples[k].file, resp.StatusCode, got, err, load.want[k])
			}
			requests++
		}
		client.CloseIdleConnections()
	}
	checkServes()
	<-started // drained: the warm-up and the requests above have run
	baseline := runtime.NumGoroutine()
	addr := ts.ts.Listener.Addr().String()
	send := func(body string) net.Conn {
		t.Helper()
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(conn, "POST /antispoofing HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", len(body), body)
		requests++
		return conn
	}
	rounds, burst := 4, 6
	if raceEnabled {
		rounds, burst = 2, 3
	}

	// Mid-inference: the client leaves once the scorer has the image.
	for i := range rounds {
		conn := send(load.bodies[i%len(load.bodies)])
		receive(t, "the inference to start", started)
		conn.Close()
		waitFor(t, "the inference to end", func() bool { return running.Load() == 0 })
	}
	if cancelled.Load() == 0 {
		t.Errorf("none of %d inferences was cancelled when its client left", rounds)
	}
	// A burst: one request runs, the others wait for the one worker; all the clients leave.
	hold.Store(true)
	conns := make([]net.Conn, burst)
	for i := range conns {
		conns[i] = send(load.bodies[i%len(load.bodies)])
	}
	receive(t, "the burst's first inference to start", started)
	waitFor(t, "the burst to be admitted", func() bool { return ts.adm.admitted() == burst })
	for _, conn := range conns {
		conn.Close()
	}
	waitFor(t, "every slot to be released", func() bool { return ts.adm.admitted() == 0 })
	hold.Store(false)

	checkServes()
	if n := otherErrs.Load(); n > 0 {
		t.Errorf("%d inferences failed with an error other than the cancellation", n)
	}
	settleGoroutines(t, baseline)
	var answered float64
	for _, code := range []string{"200", "499"} {
		answered += counterValue(t, ts.Server, "spoofsense_http_requests_total",
			map[string]string{"route": "/antispoofing", "method": "POST", "code": code})
	}
	if answered != float64(requests) {
		t.Errorf("metrics count %v requests answered 200 or closed by the client, want all %d", answered, requests)
	}
	t.Logf("%d requests; %d inferences cancelled by their client leaving", requests, cancelled.Load())
}
