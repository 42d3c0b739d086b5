package serve

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// waitFor polls cond until it holds or a generous deadline passes.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// receive waits for one value on ch.
func receive(t testing.TB, what string, ch <-chan struct{}) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(10 * time.Second):
		t.Fatalf("timed out waiting for %s", what)
	}
}

// With one worker and a queue of one, a third request is refused at once with 503 and
// Retry-After, and the two admitted ones complete.
func TestQueueFull(t *testing.T) {
	ts := newTestServer(t, func(c *Config, _ *fakeControl) { c.MaxInflight, c.Queue = 1, 1 })
	var wg sync.WaitGroup
	statuses := make([]int, 2)
	for i := range 2 {
		wg.Go(func() {
			statuses[i] = ts.send(t, http.MethodPost, "/antispoofing", "application/json", strings.NewReader(b64JSON(imgSlow)), nil).status
		})
	}
	receive(t, "the first request to run", ts.fake.started)
	waitFor(t, "the second request to queue", func() bool { return ts.adm.admitted() == 2 })

	for _, path := range []string{"/antispoofing", "/v1/check"} {
		ct, body := "application/json", b64JSON(imgLive)
		a := ts.send(t, http.MethodPost, path, ct, strings.NewReader(body), nil)
		if a.status != http.StatusServiceUnavailable || a.errorCode(t) != codeBusy {
			t.Fatalf("%s when full: status %d %s, want 503 busy", path, a.status, a.body)
		}
		if a.header.Get("Retry-After") != "1" {
			t.Errorf("%s: Retry-After %q, want 1", path, a.header.Get("Retry-After"))
		}
	}
	// Probes still answer while the queue is full; readiness says the server is saturated.
	if a := ts.send(t, http.MethodGet, "/healthz", "", nil, nil); a.status != 200 {
		t.Errorf("healthz while full: %d", a.status)
	}
	if a := ts.send(t, http.MethodGet, "/readyz", "", nil, nil); a.status != 503 || a.errorCode(t) != codeBusy ||
		!strings.Contains(string(a.body), "saturated") {
		t.Errorf("readyz while full: %d %s, want 503 busy saying saturated", a.status, a.body)
	}
	close(ts.fake.release)
	wg.Wait()
	if !slices.Equal(statuses, []int{200, 200}) {
		t.Errorf("admitted requests answered %v, want 200 200", statuses)
	}
	if n := ts.adm.admitted(); n != 0 {
		t.Errorf("%d slots still held after the answers", n)
	}
	if a := ts.send(t, http.MethodGet, "/readyz", "", nil, nil); a.status != 200 {
		t.Errorf("readyz after the load: %d %s, want 200", a.status, a.body)
	}
}

func TestRequestTimeout(t *testing.T) {
	ts := newTestServer(t, func(c *Config, _ *fakeControl) { c.RequestTimeout = 50 * time.Millisecond })
	a := ts.send(t, http.MethodPost, "/v1/check", "image/jpeg", strings.NewReader(imgSlow), nil)
	if a.status != http.StatusServiceUnavailable || a.errorCode(t) != codeTimeout || a.header.Get("Retry-After") == "" {
		t.Fatalf("status %d %s (Retry-After %q), want 503 timeout with Retry-After", a.status, a.body, a.header.Get("Retry-After"))
	}
	receive(t, "the scorer to see the deadline", ts.fake.cancelled)
}

func TestReadiness(t *testing.T) {
	gate := make(chan struct{})
	ts := startTestServer(t, func(_ *Config, f *fakeControl) { f.loadGate = gate })
	warmed := make(chan error, 1)
	go func() { warmed <- ts.Warmup(context.Background()) }()

	if a := ts.send(t, http.MethodGet, "/readyz", "", nil, nil); a.status != 503 || a.errorCode(t) != codeNotReady {
		t.Errorf("readyz while loading: %d %s, want 503 not_ready", a.status, a.body)
	}
	if a := ts.send(t, http.MethodGet, "/healthz", "", nil, nil); a.status != 200 {
		t.Errorf("healthz while loading: %d, want 200", a.status)
	}
	a := ts.send(t, http.MethodPost, "/antispoofing", "application/json", strings.NewReader(b64JSON(imgLive)), nil)
	if a.status != 503 || a.errorCode(t) != codeNotReady || a.header.Get("Retry-After") == "" {
		t.Errorf("POST while loading: %d %s, want 503 not_ready with Retry-After", a.status, a.body)
	}
	close(gate)
	if err := <-warmed; err != nil {
		t.Fatalf("Warmup: %v", err)
	}
	if a := ts.send(t, http.MethodGet, "/readyz", "", nil, nil); a.status != 200 {
		t.Errorf("readyz after warm-up: %d %s", a.status, a.body)
	}
	if a := ts.send(t, http.MethodGet, "/version", "", nil, nil); !strings.Contains(string(a.body), `"version":"v-test"`) ||
		!strings.Contains(string(a.body), fakeDigest) {
		t.Errorf("version after warm-up: %s, want the version and the model digest", a.body)
	}
}

func TestWarmupFailure(t *testing.T) {
	ts := startTestServer(t, func(_ *Config, f *fakeControl) { f.loadErr = errors.New("model checksum mismatch") })
	err := ts.Warmup(context.Background())
	if err == nil || !strings.Contains(err.Error(), "model checksum mismatch") {
		t.Fatalf("Warmup error %v, want the load failure", err)
	}
	a := ts.send(t, http.MethodGet, "/readyz", "", nil, nil)
	if a.status != 503 || !strings.Contains(string(a.body), "model checksum mismatch") {
		t.Errorf("readyz: %d %s, want 503 naming the failure", a.status, a.body)
	}
}

// A scorer that loads but whose models do not run (its SelfTest fails) never reports ready: the
// warm-up prefers SelfTest, which runs every model, to scoring an image without a face.
func TestWarmupSelfTestFailure(t *testing.T) {
	ts := startTestServer(t, func(_ *Config, f *fakeControl) {
		f.selfTestErr = errors.New("MiniFASNetV2 answered softmax [NaN NaN NaN]")
	})
	err := ts.Warmup(context.Background())
	if err == nil || !strings.Contains(err.Error(), "MiniFASNetV2 answered softmax") {
		t.Fatalf("Warmup error %v, want the self-test failure", err)
	}
	if a := ts.send(t, http.MethodGet, "/readyz", "", nil, nil); a.status != 503 {
		t.Errorf("readyz: %d %s, want 503", a.status, a.body)
	}
}

func TestRequestIDAndLogs(t *testing.T) {
	ts := newTestServer(t, nil)
	img := imgLive + " 0123456789-secret-pixels"
	a := ts.send(t, http.MethodPost, "/antispoofing", "application/json", strings.NewReader(b64JSON(img)),
		map[string]string{"X-Request-Id": "client-id-42"})
	if got := a.header.Get("X-Request-Id"); got != "client-id-42" {
		t.Errorf("X-Request-Id %q, want the client's", got)
	}
	a2 := ts.send(t, http.MethodPost, "/antispoofing", "application/x-www-form-urlencoded", strings.NewReader("x"),
		map[string]string{"X-Request-Id": "bad id with spaces"})
	id := a2.header.Get("X-Request-Id")
	if id == "" || strings.Contains(id, " ") {
		t.Errorf("generated X-Request-Id %q, want a fresh token", id)
	}
	if !strings.Contains(string(a2.body), `"request_id":"`+id+`"`) {
		t.Errorf("error body %s does not carry the request id %s", a2.body, id)
	}
	logs := ts.logs.String()
	for _, want := range []string{`"request_id":"client-id-42"`, `"route":"/antispoofing"`, `"status":200`,
		`"verdict":"live"`, `"request_id":"` + id + `"`, `"error":"unsupported_media_type"`} {
		if !strings.Contains(logs, want) {
			t.Errorf("logs lack %s:\n%s", want, logs)
		}
	}
	for _, secret := range []string{base64Std(img), "secret-pixels"} {
		if strings.Contains(logs, secret) {
			t.Errorf("logs contain image bytes %q", secret)
		}
	}
}

func TestPanicIsLoggedWithStackButNotAnswered(t *testing.T) {
	ts := newTestServer(t, nil)
	a := ts.send(t, http.MethodPost, "/v1/check", "image/jpeg", strings.NewReader(imgPanic), nil)
	if a.status != 500 || strings.Contains(string(a.body), "panic") || strings.Contains(string(a.body), "goroutine") {
		t.Errorf("answer %d %s, want a bare 500", a.status, a.body)
	}
	if logs := ts.logs.String(); !strings.Contains(logs, "deliberate panic") || !strings.Contains(logs, "goroutine") {
		t.Errorf("log lacks the panic and its stack:\n%.2000s", logs)
	}
	// The server keeps serving, and the slot was released.
	if a := ts.send(t, http.MethodPost, "/v1/check", "image/jpeg", strings.NewReader(imgLive), nil); a.status != 200 {
		t.Errorf("after a panic: %d", a.status)
	}
	if n := ts.adm.admitted(); n != 0 {
		t.Errorf("%d slots held after a panic", n)
	}
}

func TestMetrics(t *testing.T) {
	ts := newTestServer(t, nil)
	ts.send(t, http.MethodPost, "/antispoofing", "application/json", strings.NewReader(b64JSON(imgLive)), nil)
	ts.send(t, http.MethodPost, "/antispoofing", "application/json", strings.NewReader(b64JSON(imgEdge)), nil)
	ts.send(t, http.MethodPost, "/v1/check", "image/jpeg", strings.NewReader(imgEdge), nil)
	ts.send(t, http.MethodPost, "/v1/check", "image/jpeg", strings.NewReader(imgNoFace), nil)
	ts.send(t, http.MethodPost, "/v1/check", "text/plain", strings.NewReader(imgNoFace), nil)
	ts.send(t, http.MethodGet, "/nowhere", "", nil, nil)
	a := ts.send(t, http.MethodGet, "/metrics", "", nil, nil)
	if a.status != 200 {
		t.Fatalf("metrics: %d", a.status)
	}
	text := string(a.body)
	for _, want := range []string{
		`spoofsense_http_requests_total{code="200",method="POST",route="/antispoofing"} 2`,
		`spoofsense_http_requests_total{code="200",method="POST",route="/v1/check"} 2`,
		`spoofsense_http_requests_total{code="415",method="POST",route="/v1/check"} 1`,
		`spoofsense_http_requests_total{code="404",method="GET",route="unmatched"} 1`,
		`spoofsense_verdicts_total{route="/antispoofing",verdict="live"} 1`,
		`spoofsense_verdicts_total{route="/antispoofing",verdict="spoof"} 1`, // 0.55 is not > 0.55
		`spoofsense_verdicts_total{route="/v1/check",verdict="live"} 1`,      // 0.55 ≥ 0.55
		`spoofsense_verdicts_total{route="/v1/check",verdict="no_face"} 1`,
		`spoofsense_stage_duration_seconds_count{stage="nets"} 4`,
		`spoofsense_stage_duration_seconds_sum{stage="total"} 0.0252`,
		`spoofsense_http_request_duration_seconds_count{route="/v1/check"} 3`,
		`spoofsense_http_requests_in_flight 1`, // this scrape
		`spoofsense_inference_admitted 0`,
		`go_goroutines `,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

// Two servers in one process keep separate metrics (no global registry).
func TestMetricsArePerServer(t *testing.T) {
	a := newTestServer(t, nil)
	b := newTestServer(t, nil)
	a.send(t, http.MethodPost, "/v1/check", "image/jpeg", strings.NewReader(imgLive), nil)
	body := string(b.send(t, http.MethodGet, "/metrics", "", nil, nil).body)
	if strings.Contains(body, `route="/v1/check"`) {
		t.Error("server b reports server a's request")
	}
}

// loadResult summarises a load run.
type loadResult struct {
	statuses map[int]int
	latency  []time.Duration // sorted
	elapsed  time.Duration
	noRetry  int // 503s without Retry-After
	// badAnswers counts answers that failed the run's check.
	badAnswers int
}

func (r loadResult) quantile(q float64) time.Duration {
	if len(r.latency) == 0 {
		return 0
	}
	return r.latency[min(len(r.latency)-1, int(q*float64(len(r.latency))))]
}

// runLoad sends n /antispoofing requests of a fake live image from `concurrency` goroutines.
func runLoad(t testing.TB, ts *testServer, n, concurrency int) loadResult {
	t.Helper()
	body := b64JSON(imgLive + strings.Repeat("\x00", 30<<10)) // a ~40 KB selfie-sized body
	return runLoadWith(t, ts, loadSpec{n: n, concurrency: concurrency, body: func(int) string { return body }})
}

// loadSpec describes a load run on POST /antispoofing.
type loadSpec struct {
	n, concurrency int
	// body is the JSON body of request i.
	body func(i int) string
	// check, when not nil, is called (from the client goroutines) with every answer to
	// request i and reports what is wrong with it.
	check func(i, status int, body []byte) error
}

// runLoadWith sends spec.n requests from spec.concurrency goroutines, each taking the next
// request as soon as it has read the previous answer. Failed checks count in badAnswers, and
// the first few are reported with t.Errorf.
func runLoadWith(t testing.TB, ts *testServer, spec loadSpec) loadResult {
	t.Helper()
	tr := &http.Transport{MaxIdleConnsPerHost: spec.concurrency, MaxConnsPerHost: spec.concurrency}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 2 * time.Minute}
	var (
		mu  sync.Mutex
		res = loadResult{statuses: map[int]int{}}
		wg  sync.WaitGroup
	)
	jobs := make(chan int)
	start := time.Now()
	for range spec.concurrency {
		wg.Go(func() {
			for i := range jobs {
				t0 := time.Now()
				resp, err := client.Post(ts.ts.URL+"/antispoofing", "application/json", strings.NewReader(spec.body(i)))
				if err != nil {
					t.Errorf("request %d: %v", i, err)
					continue
				}
				body, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				d := time.Since(t0)
				if err != nil {
					t.Errorf("request %d: read answer: %v", i, err)
				}
				var bad error
				if err == nil && spec.check != nil {
					bad = spec.check(i, resp.StatusCode, body)
				}
				mu.Lock()
				res.statuses[resp.StatusCode]++
				res.latency = append(res.latency, d)
				if resp.StatusCode == 503 && resp.Header.Get("Retry-After") == "" {
					res.noRetry++
				}
				if bad != nil {
					if res.badAnswers++; res.badAnswers <= 3 {
						t.Errorf("request %d: %v", i, bad)
					}
				}
				mu.Unlock()
			}
		})
	}
	for i := range spec.n {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	res.elapsed = time.Since(start)
	slices.Sort(res.latency)
	return res
}

// A bounded load test: 2,000 requests (400 with -short or -race) at concurrency 32 over a small
// queue. Every answer is 200 or a deliberate 503 busy with Retry-After; the metrics count every
// request.
func TestLoad(t *testing.T) {
	n := 2000
	if testing.Short() || raceEnabled {
		n = 400
	}
	ts := newTestServer(t, func(c *Config, _ *fakeControl) { c.MaxInflight, c.Queue = 2, 8 })
	res := runLoad(t, ts, n, 32)
	t.Logf("%d requests at concurrency 32: %v; p50 %v, p99 %v, %.0f req/s", n, res.statuses,
		res.quantile(0.5), res.quantile(0.99), float64(n)/res.elapsed.Seconds())
	total := 0
	for code, c := range res.statuses {
		total += c
		if code != 200 && code != 503 {
			t.Errorf("%d answers with status %d", c, code)
		}
	}
	if total != n || res.statuses[200] == 0 {
		t.Errorf("%d answers (%d ok), want %d with some ok", total, res.statuses[200], n)
	}
	if res.noRetry > 0 {
		t.Errorf("%d 503s without Retry-After", res.noRetry)
	}
	var counted float64
	for code, c := range res.statuses {
		got := counterValue(t, ts.Server, "spoofsense_http_requests_total",
			map[string]string{"route": "/antispoofing", "method": "POST", "code": fmt.Sprint(code)})
		if got != float64(c) {
			t.Errorf("metrics count %v answers with %d, the clients saw %d", got, code, c)
		}
		counted += got
	}
	if counted != float64(n) {
		t.Errorf("metrics count %v requests, want %d", counted, n)
	}
}

func BenchmarkAntispoofing(b *testing.B) {
	ts := newTestServer(b, func(c *Config, _ *fakeControl) { c.MaxInflight, c.Queue = runtime.NumCPU(), 64 })
	b.ResetTimer()
	res := runLoad(b, ts, b.N, 32)
	b.StopTimer()
	b.ReportMetric(float64(res.quantile(0.5).Microseconds()), "p50-µs")
	b.ReportMetric(float64(res.quantile(0.99).Microseconds()), "p99-µs")
	b.ReportMetric(float64(b.N)/res.elapsed.Seconds(), "req/s")
	if bad := b.N - res.statuses[200]; bad > 0 {
		b.Errorf("%d answers not 200: %v", bad, res.statuses)
	}
}

// settleGoroutines waits until the goroutine count is at most want.
func settleGoroutines(t *testing.T, want int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		n := runtime.NumGoroutine()
		if n <= want {
			return
		}
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("%d goroutines, want at most %d:\n%s", n, want, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Clients that vanish mid-upload or mid-inference neither stop the server nor leak goroutines,
// and their inference is cancelled.
func TestClientsDisconnecting(t *testing.T) {
	ts := newTestServer(t, nil)
	client := &http.Client{Transport: &http.Transport{}}
	check := func() {
		t.Helper()
		resp, err := client.Post(ts.ts.URL+"/v1/check", "image/jpeg", strings.NewReader(imgLive))
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("status %d", resp.StatusCode)
		}
		client.CloseIdleConnections()
	}
	check()
	baseline := runtime.NumGoroutine()
	addr := ts.ts.Listener.Addr().String()

	// Mid-upload: headers promise a megabyte, a kilobyte arrives, the connection closes.
	for range 20 {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(conn, "POST /v1/check HTTP/1.1\r\nHost: x\r\nContent-Type: image/jpeg\r\nContent-Length: 1048576\r\n\r\n%s", imgLive+strings.Repeat("x", 1024))
		conn.Close()
	}
	// Mid-inference: the whole request is sent, the client leaves while the scorer runs.
	for range 5 {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(conn, "POST /v1/check HTTP/1.1\r\nHost: x\r\nContent-Type: image/jpeg\r\nContent-Length: %d\r\n\r\n%s", len(imgSlow), imgSlow)
		receive(t, "the slow inference to start", ts.fake.started)
		conn.Close()
		receive(t, "the inference to be cancelled", ts.fake.cancelled)
	}
	check()
	waitFor(t, "every slot to be released", func() bool { return ts.adm.admitted() == 0 })
	settleGoroutines(t, baseline)
	if got := counterValue(t, ts.Server, "spoofsense_http_requests_total",
		map[string]string{"route": "/v1/check", "method": "POST", "code": "499"}); got != 5 {
		t.Errorf("metrics count %v client-closed requests, want 5", got)
	}
}

// On shutdown, requests in flight complete with 200 and new connections are refused.
func TestGracefulShutdown(t *testing.T) {
	fake := newFakeControl()
	s, err := New(Config{NewScorer: fake.newScorer, ShutdownTimeout: 10 * time.Second, MaxInflight: 4})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + ln.Addr().String()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	served := make(chan error, 1)
	go func() { served <- s.Serve(ctx, ln) }()
	waitFor(t, "readiness", s.Ready)

	const inFlight = 3
	statuses := make(chan int, inFlight)
	for range inFlight {
		go func() {
			resp, err := http.Post(url+"/v1/check", "image/jpeg", strings.NewReader(imgSlow))
			if err != nil {
				t.Errorf("in-flight request: %v", err)
				statuses <- 0
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			statuses <- resp.StatusCode
		}()
	}
	for range inFlight {
		receive(t, "the in-flight requests to start", fake.started)
	}
	cancel() // what SIGTERM does through the root command's context
	waitFor(t, "new connections to be refused", func() bool {
		c, err := net.DialTimeout("tcp", ln.Addr().String(), time.Second)
		if err == nil {
			c.Close()
		}
		return err != nil
	})
	select {
	case err := <-served:
		t.Fatalf("Serve returned %v with requests in flight", err)
	default:
	}
	close(fake.release)
	for range inFlight {
		if st := <-statuses; st != 200 {
			t.Errorf("in-flight request answered %d, want 200", st)
		}
	}
	select {
	case err := <-served:
		if err != nil {
			t.Errorf("Serve: %v, want nil after a graceful shutdown", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return")
	}
}

// With a drain delay, the stop signal fails /readyz at once while the server goes on answering
// (closing each connection after its answer) until the delay ends; then the port closes and Serve
// returns nil. An orchestrator's readiness probe so takes the instance out of rotation before any
// connection is refused.
func TestDrainDelay(t *testing.T) {
	fake := newFakeControl()
	close(fake.release)
	const delay = 2 * time.Second
	s, err := New(Config{NewScorer: fake.newScorer, DrainDelay: delay})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + ln.Addr().String()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	served := make(chan error, 1)
	go func() { served <- s.Serve(ctx, ln) }()
	waitFor(t, "readiness", s.Ready)
	get := func(path string) (int, string) {
		resp, err := http.Get(url + path)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if st, body := get("/readyz"); st != 200 {
		t.Fatalf("readyz before the stop: %d %s", st, body)
	}

	stopped := time.Now()
	cancel()
	waitFor(t, "readyz to fail", func() bool { st, _ := get("/readyz"); return st == 503 })
	if st, body := get("/readyz"); !strings.Contains(body, codeNotReady) || !strings.Contains(body, "shutting down") {
		t.Errorf("readyz while draining: %d %s, want 503 not_ready saying it is shutting down", st, body)
	}
	resp, err := http.Post(url+"/antispoofing", "application/json", strings.NewReader(b64JSON(imgLive)))
	if err != nil {
		t.Fatalf("POST while draining: %v, want an answer", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), `"success":true`) {
		t.Errorf("POST while draining: %d %s, want 200 success", resp.StatusCode, body)
	}
	if !resp.Close {
		t.Error("an answer while draining keeps its connection open, want Connection: close")
	}
	if time.Since(stopped) >= delay {
		t.Fatalf("the checks took longer than the drain delay (%s): raise it", delay)
	}
	select {
	case err := <-served:
		t.Fatalf("Serve returned %v before the drain delay ended", err)
	default:
	}
	select {
	case err := <-served:
		if err != nil {
			t.Errorf("Serve: %v, want nil", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return after the drain delay")
	}
	if d := time.Since(stopped); d < delay {
		t.Errorf("Serve returned %s after the stop, before the drain delay of %s", d, delay)
	}
	if c, err := net.DialTimeout("tcp", ln.Addr().String(), time.Second); err == nil {
		c.Close()
		t.Error("the port still accepts after Serve returned")
	}
}

func TestShutdownTimeout(t *testing.T) {
	fake := newFakeControl()
	s, err := New(Config{NewScorer: fake.newScorer, ShutdownTimeout: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- s.Serve(ctx, ln) }()
	waitFor(t, "readiness", s.Ready)
	go func() {
		resp, err := http.Post("http://"+ln.Addr().String()+"/v1/check", "image/jpeg", strings.NewReader(imgSlow))
		if err == nil {
			resp.Body.Close()
		}
	}()
	receive(t, "the request to start", fake.started)
	cancel()
	if err := <-served; err == nil || !strings.Contains(err.Error(), "still running") {
		t.Errorf("Serve: %v, want a shutdown timeout error", err)
	}
	close(fake.release)
}

func TestServeFailsWhenWarmupFails(t *testing.T) {
	fake := newFakeControl()
	fake.loadErr = errors.New("no models here")
	s, err := New(Config{NewScorer: fake.newScorer})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Serve(context.Background(), ln); err == nil || !strings.Contains(err.Error(), "no models here") {
		t.Errorf("Serve: %v, want the warm-up failure", err)
	}
}

// Slow clients are cut off by the read timeouts: one that never finishes its headers and one
// that trickles its body. Neither holds a slot afterwards, and the server keeps answering.
func TestSlowClientsAreCut(t *testing.T) {
	fake := newFakeControl()
	s, err := New(Config{NewScorer: fake.newScorer, ReadTimeout: 300 * time.Millisecond, MaxInflight: 1, Queue: -1})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Warmup(context.Background()); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := s.httpServer(context.Background())
	go func() { _ = hs.Serve(ln) }()
	defer hs.Close()
	addr := ln.Addr().String()

	for name, send := range map[string]string{
		"headers never end": "POST /antispoofing HTTP/1.1\r\nHost: x\r\nContent-Type: applica",
		"body trickles":     "POST /antispoofing HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{\"data\":\"",
	} {
		t.Run(name, func(t *testing.T) {
			conn, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			if _, err := io.WriteString(conn, send); err != nil {
				t.Fatal(err)
			}
			// Keep trickling a byte now and then; the server must still cut the connection.
			start := time.Now()
			cut := make(chan struct{})
			go func() {
				_, _ = io.Copy(io.Discard, conn) // returns when the server closes the connection
				close(cut)
			}()
			for done := false; !done; {
				select {
				case <-cut:
					done = true
				case <-time.After(50 * time.Millisecond):
					_, _ = conn.Write([]byte("A"))
					if time.Since(start) > 10*time.Second {
						t.Fatal("the server did not cut the slow client")
					}
				}
			}
			waitFor(t, "the slot to be released", func() bool { return s.adm.admitted() == 0 })
		})
	}
	// The only slot is free: a normal request is served.
	resp, err := http.Post("http://"+addr+"/antispoofing", "application/json", strings.NewReader(b64JSON(imgLive)))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("after the slow clients: %d", resp.StatusCode)
	}
}

// gaugeValue reads the gauge name (without labels) from s's registry (-1 when absent).
func gaugeValue(t testing.TB, s *Server, name string) float64 {
	t.Helper()
	mfs, err := s.metrics.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name && len(mf.GetMetric()) == 1 {
			return mf.GetMetric()[0].GetGauge().GetValue()
		}
	}
	return -1
}

// Slow uploads hold no admission slot. 200 connections send the headers of a POST with
// Content-Length 5 MB and a few bytes of body, then nothing (as 66 such did to take the scoring
// routes down, when the slot was taken before the body was read); a default server
// (--max-inflight 2, --queue 64) still scores a normal client on both routes, while every slow
// upload is still being read.
func TestSlowUploadsDoNotBlockScoring(t *testing.T) {
	const slow = 200
	fake := newFakeControl()
	s, err := New(Config{NewScorer: fake.newScorer, MaxInflight: 2})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Warmup(context.Background()); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := s.httpServer(context.Background())
	go func() { _ = hs.Serve(ln) }()
	defer hs.Close()
	addr := ln.Addr().String()

	conns := make([]net.Conn, 0, slow)
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for i := range slow {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatalf("slow connection %d: %v", i, err)
		}
		conns = append(conns, c)
		req := "POST /v1/check HTTP/1.1\r\nHost: x\r\nContent-Type: image/jpeg\r\nContent-Length: 5000000\r\n\r\nLIVE"
		if i%2 == 1 {
			req = "POST /antispoofing HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 5000000\r\n\r\n{\"data\":\"TElWRS"
		}
		if _, err := io.WriteString(c, req); err != nil {
			t.Fatal(err)
		}
	}
	// Every slow request is in its handler, reading its body (none was answered 503).
	waitFor(t, fmt.Sprintf("%d slow requests to be in flight", slow), func() bool {
		return gaugeValue(t, s, "spoofsense_http_requests_in_flight") >= slow
	})
	client := &http.Client{Timeout: 30 * time.Second}
	for _, tc := range []struct{ path, ct, body string }{
		{"/v1/check", "image/jpeg", imgLive},
		{"/antispoofing", "application/json", b64JSON(imgLive)},
	} {
		start := time.Now()
		resp, err := client.Post("http://"+addr+tc.path, tc.ct, strings.NewReader(tc.body))
		if err != nil {
			t.Fatalf("%s beside %d slow uploads: %v", tc.path, slow, err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		d := time.Since(start)
		t.Logf("%s beside %d slow uploads: %d in %v", tc.path, slow, resp.StatusCode, d)
		if resp.StatusCode != 200 {
			t.Errorf("%s beside %d slow uploads: %d %s, want 200", tc.path, slow, resp.StatusCode, body)
		}
		// The bar is a second; the deadline here is generous for a loaded machine, and
		// the status above is what today's failure would show.
		if d > 10*time.Second {
			t.Errorf("%s took %v beside the slow uploads", tc.path, d)
		}
	}
	if n := gaugeValue(t, s, "spoofsense_http_requests_in_flight"); n < slow {
		t.Errorf("%v requests in flight after the normal ones, want the %d slow uploads still being read", n, slow)
	}
	if n := s.adm.admitted(); n != 0 {
		t.Errorf("%d admission slots held by uploads that have not finished", n)
	}
}
