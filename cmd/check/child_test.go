package check

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/spoofsense/spoofsense/cmd/cmdutil"
	"github.com/spoofsense/spoofsense/cmd/cmdutil/objstore/objstoretest"
)

// childEnv carries the arguments (JSON) of a check run the test binary makes when it re-executes
// itself, childDelayEnv the fake scorer's longest time per image, and childPeakEnv a file to
// write the child's peak RSS to: TestResumeAfterSIGKILL kills such a child, BenchmarkBulkPeakRSS
// measures one.
const (
	childEnv      = "SPOOFSENSE_CHECK_CHILD_ARGS"
	childDelayEnv = "SPOOFSENSE_CHECK_CHILD_DELAY"
	childPeakEnv  = "SPOOFSENSE_CHECK_CHILD_PEAK"
)

func TestMain(m *testing.M) {
	if args := os.Getenv(childEnv); args != "" {
		code := runChild(args, os.Getenv(childDelayEnv))
		if name := os.Getenv(childPeakEnv); name != "" {
			// VmHWM, not the rusage of the wait: Linux carries the parent's peak RSS into the
			// child's ru_maxrss across the fork and exec.
			status, err := os.ReadFile("/proc/self/status")
			if err == nil {
				err = os.WriteFile(name, status, 0o644)
			}
			if err != nil {
				fmt.Fprintln(os.Stderr, err)
				code = 99
			}
		}
		os.Exit(code)
	}
	os.Exit(m.Run())
}

// runChild runs check with the fake scorer and returns its exit code.
func runChild(args, delay string) int {
	var argv []string
	if err := json.Unmarshal([]byte(args), &argv); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 99
	}
	fs := &fakeScorer{}
	if delay != "" {
		d, err := time.ParseDuration(delay)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 99
		}
		fs.maxDelay = d
	}
	ios, _, _, _ := cmdutil.Test()
	ios.ErrOut = os.Stderr
	f, _ := fakeFactory(ios, fs, nil)
	cmd := NewCmdCheck(f, nil)
	cmd.SetArgs(argv)
	cmd.SilenceUsage = true
	return cmdutil.ExitCode(cmd.ExecuteContext(context.Background()))
}

// BenchmarkBulkPeakRSS lists and scores n small objects of a loopback S3 server (gofakes3 in this
// process) with the fake scorer, in a child process writing its results to an object of the
// same server, and reports the child's peak RSS: it must not grow with n.
//
//	GOEXPERIMENT=simd go test -run '^$' -bench BulkPeakRSS -benchtime 1x ./cmd/check/
func BenchmarkBulkPeakRSS(b *testing.B) {
	for _, n := range []int{2000, 20000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			s := objstoretest.Start(b)
			s.Bucket(b, "kyc")
			for i := range n {
				s.Put(b, "kyc", fmt.Sprintf("in/%06d.png", i), encodeImage(b, 24, 16, i, false))
			}
			argv, _ := json.Marshal([]string{"--workers", "2", "--quiet", "--exit-zero",
				"--out", s.BucketURL("kyc", "out/part-0000.ndjson"), s.BucketURL("kyc", "in/")})
			status := filepath.Join(b.TempDir(), "status")
			var peak int64
			for b.Loop() {
				child := exec.Command(os.Args[0], "-test.run=^$")
				child.Env = append(os.Environ(), childEnv+"="+string(argv), childPeakEnv+"="+status)
				child.Stderr = os.Stderr
				if err := child.Run(); err != nil {
					b.Fatal(err)
				}
				peak = max(peak, vmHWM(b, status))
			}
			out, _ := s.Get(b, "kyc", "out/part-0000.ndjson")
			if rows := len(parseNDJSON(b, string(out))); rows != n {
				b.Fatalf("the output holds %d rows, want %d", rows, n)
			}
			b.ReportMetric(float64(peak)/1024, "peak-RSS-MiB")
		})
	}
}

// vmHWM is the VmHWM (peak RSS, KiB) of a /proc/PID/status copy.
func vmHWM(tb testing.TB, name string) int64 {
	tb.Helper()
	data, err := os.ReadFile(name)
	if err != nil {
		tb.Fatal(err)
	}
	for line := range strings.Lines(string(data)) {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kib, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			if err != nil {
				tb.Fatal(err)
			}
			return kib
		}
	}
	tb.Fatalf("no VmHWM in %s", name)
	return 0
}
