package serve

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"io"
	"net"
	"net/http"
	"os"
	"runtime"
	"runtime/debug"
	rtmetrics "runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// floodBody is a JSON body of about size bytes: {"data": base64 of a fake live image}.
func floodBody(size int) []byte {
	raw := make([]byte, size*3/4-16)
	copy(raw, imgLive)
	for i := len(imgLive); i < len(raw); i++ {
		raw[i] = byte(i * 7)
	}
	return []byte(`{"data":"` + base64.StdEncoding.EncodeToString(raw) + `"}`)
}

// floodResult counts the answers of a flood.
type floodResult struct {
	ok, busy, busyNoRetry, other, failed int
	firstFailure                         error
}

// flood sends `clients` concurrent POST /antispoofing requests of body to addr, each on its own
// connection, and counts the answers. A failure is a client that got no answer (a reset, a
// broken pipe).
func flood(addr string, clients int, body []byte) floodResult {
	var (
		mu  sync.Mutex
		res floodResult
		wg  sync.WaitGroup
	)
	for range clients {
		wg.Go(func() {
			tr := &http.Transport{DisableKeepAlives: true}
			defer tr.CloseIdleConnections()
			client := &http.Client{Transport: tr, Timeout: 2 * time.Minute}
			resp, err := client.Post("http://"+addr+"/antispoofing", "application/json", bytes.NewReader(body))
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				res.failed++
				if res.firstFailure == nil {
					res.firstFailure = err
				}
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			switch {
			case resp.StatusCode == 200:
				res.ok++
			case resp.StatusCode == 503 && resp.Header.Get("Retry-After") != "":
				res.busy++
			case resp.StatusCode == 503:
				res.busyNoRetry++
			default:
				res.other++
			}
		})
	}
	wg.Wait()
	return res
}

// startFloodServer serves a warmed-up server with cfg on a loopback listener.
func startFloodServer(t testing.TB, cfg Config) (*Server, string) {
	t.Helper()
	fake := newFakeControl()
	cfg.NewScorer = fake.newScorer
	s, err := New(cfg)
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
	t.Cleanup(func() { hs.Close() })
	return s, ln.Addr().String()
}

// A flood larger than the server may buffer: every client gets an answer, 200 or 503 busy with
// Retry-After, none a reset or a broken pipe (the refused bodies are read and dropped), and the
// bytes held never pass the budget.
func TestFloodIsRefusedCleanly(t *testing.T) {
	const bodyLimit = 2 << 20
	s, addr := startFloodServer(t, Config{MaxInflight: 1, Queue: 2, MaxBodyBytes: bodyLimit})
	var peak atomic.Int64
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		for {
			select {
			case <-stop:
				return
			default:
			}
			if u := s.budget.inUse(); u > peak.Load() {
				peak.Store(u)
			}
			runtime.Gosched()
		}
	}()
	res := flood(addr, 40, floodBody(bodyLimit-1024))
	close(stop)
	<-sampled
	t.Logf("40 clients of 2 MiB, budget %d bytes: %+v; peak held %d bytes", s.budget.limit, res, peak.Load())
	if res.failed > 0 || res.other > 0 || res.busyNoRetry > 0 {
		t.Errorf("%+v: want every answer 200 or 503 with Retry-After (first failure: %v)", res, res.firstFailure)
	}
	if res.ok == 0 || res.busy == 0 {
		t.Errorf("%+v: want some scored and some refused", res)
	}
	if peak.Load() > s.budget.limit {
		t.Errorf("held %d bytes, over the budget of %d", peak.Load(), s.budget.limit)
	}
	if u := s.budget.inUse(); u != 0 {
		t.Errorf("%d bytes still held after every answer", u)
	}
}

// peakRSS returns the process's peak resident set (VmHWM) in bytes, or -1.
func peakRSS() int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return -1
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err == nil {
				return kb << 10
			}
		}
	}
	return -1
}

// resetPeakRSS starts VmHWM again from the current RSS (Linux: clear_refs 5).
func resetPeakRSS() error {
	return os.WriteFile("/proc/self/clear_refs", []byte("5"), 0)
}

// BenchmarkFloodMemory is issue 15's memory flood: 100 concurrent 10 MB JSON uploads to
// /antispoofing on a server with --max-inflight 2 and the default queue (64) and body limit,
// so the default budget (66 × 10 MiB) is the bound. It reports the peak RSS of the process
// (server and clients; the clients share one body) and the peak Go heap, in MiB.
//
//	go test -run '^$' -bench FloodMemory -benchtime 3x ./cmd/serve/
func BenchmarkFloodMemory(b *testing.B) {
	const clients = 100
	s, addr := startFloodServer(b, Config{MaxInflight: 2})
	body := floodBody(DefaultMaxBodyBytes - 64)
	// What serve does (unless GOMEMLIMIT is set): the bound is the runtime's soft limit. The
	// fake scorer decodes no pixels, so FLOOD_PIXELS=0 leaves their share out of the limit, as
	// the heaviest case for the collector.
	limit := s.MemoryLimit()
	if os.Getenv("FLOOD_PIXELS") == "0" {
		limit -= bytesPerPixel * s.cfg.MaxPixels
	}
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(limit))
	runtime.GC()
	var peakHeap atomic.Uint64
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		sample := []rtmetrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
		t := time.NewTicker(2 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
			}
			rtmetrics.Read(sample)
			if v := sample[0].Value.Uint64(); v > peakHeap.Load() {
				peakHeap.Store(v)
			}
		}
	}()
	if err := resetPeakRSS(); err != nil {
		b.Logf("peak RSS is not resettable here (%v): it includes the set-up", err)
	}
	b.ResetTimer()
	var total floodResult
	for range b.N {
		res := flood(addr, clients, body)
		total.ok += res.ok
		total.busy += res.busy
		total.failed += res.failed
		total.other += res.other + res.busyNoRetry
		if res.firstFailure != nil && total.firstFailure == nil {
			total.firstFailure = res.firstFailure
		}
	}
	b.StopTimer()
	close(stop)
	<-sampled
	b.ReportMetric(float64(peakRSS())/(1<<20), "peak-RSS-MiB")
	b.ReportMetric(float64(peakHeap.Load())/(1<<20), "peak-heap-MiB")
	b.ReportMetric(float64(s.budget.limit)/(1<<20), "budget-MiB")
	b.ReportMetric(float64(limit)/(1<<20), "limit-MiB")
	b.ReportMetric(float64(s.MemoryBound())/(1<<20), "bound-MiB")
	b.ReportMetric(float64(total.ok)/float64(b.N), "scored/op")
	b.ReportMetric(float64(total.busy)/float64(b.N), "refused-503/op")
	if total.failed > 0 || total.other > 0 {
		b.Errorf("%d clients got no answer, %d a wrong one (first failure: %v)", total.failed, total.other, total.firstFailure)
	}
}
