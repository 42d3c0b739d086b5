package check

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/metrics"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/spoofsense/spoofsense/cmd/cmdutil"
	"github.com/spoofsense/spoofsense/models/fixtures"
	"github.com/spoofsense/spoofsense/report"
	"github.com/spoofsense/spoofsense/scorer"
)

// BenchmarkCheckDir scores a directory of 1,000 small generated images with the fake scorer,
// so it measures the command's own overhead (walk, file I/O, worker pool, reordering, NDJSON
// encoding). It reports images/s and the peak live heap while running: the heap must not grow
// with the number of files.
func BenchmarkCheckDir(b *testing.B) {
	const n = 1000
	dir := b.TempDir()
	for i := range n {
		writeImage(b, filepath.Join(dir, fmt.Sprintf("%04d.png", i)), i)
	}
	benchCheckDir(b, dir, n, &fakeScorer{})
}

// benchCheckDir runs check over dir (n images) with the given scorer on 1 and 2 workers and
// reports images/s and the peak live heap.
func benchCheckDir(b *testing.B, dir string, n int, s cmdutil.DecodedScorer) {
	for _, workers := range []int{1, 2} {
		b.Run(fmt.Sprintf("workers=%d", workers), func(b *testing.B) {
			ios, _, _, _ := cmdutil.Test()
			ios.Out = io.Discard
			opts := &CheckOptions{
				IO: ios,
				LoadScorer: func(context.Context, scorer.Options) (cmdutil.DecodedScorer, error) {
					return s, nil
				},
				Paths:    []string{dir},
				Workers:  workers,
				Format:   report.NDJSON,
				Quiet:    true,
				ExitZero: true,
			}
			stop, peak := sampleHeap()
			runs := 0
			for b.Loop() {
				if err := checkRun(context.Background(), opts); err != nil {
					b.Fatal(err)
				}
				runs++
			}
			elapsed := b.Elapsed()
			stop()
			b.ReportMetric(float64(n*runs)/elapsed.Seconds(), "images/s")
			b.ReportMetric(float64(peak.Load())/(1<<20), "peak-heap-MiB")
		})
	}
}

// sampleHeap samples the live heap every millisecond until stop is called and keeps the peak.
func sampleHeap() (stop func(), peak *atomic.Uint64) {
	peak = new(atomic.Uint64)
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for {
			metrics.Read(s)
			if v := s[0].Value.Uint64(); v > peak.Load() {
				peak.Store(v)
			}
			select {
			case <-done:
				return
			case <-tick.C:
			}
		}
	})
	return func() { close(done); wg.Wait() }, peak
}

// BenchmarkCheckDirRealModels is the throughput figure: `check` over a directory of
// 1,000 copies of the dev set's sample photos (image_T1, F1, F2 in turn) with the real models
// and the default options, on 1 and 2 workers, reporting images/s and the peak live heap.
func BenchmarkCheckDirRealModels(b *testing.B) {
	const n = 1000
	dir := b.TempDir()
	var samples [][]byte
	for _, p := range [][]string{{"live", "image_T1.jpg"}, {"spoof", "image_F1.jpg"}, {"spoof", "image_F2.jpg"}} {
		data, err := os.ReadFile(fixtures.Path(b, append([]string{"data", "dev"}, p...)...))
		if err != nil {
			b.Fatal(err)
		}
		samples = append(samples, data)
	}
	for i := range n {
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("%04d.jpg", i)), samples[i%len(samples)], 0o644); err != nil {
			b.Fatal(err)
		}
	}
	modelsDir := fixtures.Path(b, "models")
	// One scorer for both runs: loading the models is not part of the throughput.
	s, err := scorer.New(context.Background(), scorer.Options{ModelsDir: modelsDir})
	if err != nil {
		b.Fatal(err)
	}
	benchCheckDir(b, dir, n, s)
}
