package check

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/spoofsense/spoofsense/cmd/cmdutil"
	"github.com/spoofsense/spoofsense/cmd/cmdutil/objstore/objstoretest"
)

// A run killed with SIGKILL mid-way leaves committed checkpoints and no output; --resume scores
// only what they do not hold, and the output equals that of one uninterrupted run, row for row.
func TestResumeAfterSIGKILL(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "in")
	const n = 120
	for i := range n {
		writeImage(t, filepath.Join(in, seqName(i)), i)
	}
	out := filepath.Join(dir, "out", "part-0000.ndjson")
	args := []string{"--workers", "2", "--checkpoint-rows", "5", "--quiet", "--out", out, in}
	argv, _ := json.Marshal(args)
	child := exec.Command(os.Args[0], "-test.run=^TestResumeAfterSIGKILL$")
	child.Env = append(os.Environ(), childEnv+"="+string(argv), childDelayEnv+"=40ms")
	child.Stderr = os.Stderr
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	partial := out + ".partial"
	deadline := time.Now().Add(60 * time.Second)
	for len(checkpointFiles(partial)) < 2 {
		if time.Now().After(deadline) {
			child.Process.Kill()
			t.Fatal("the child committed no two checkpoints in 60s")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := child.Process.Kill(); err != nil { // SIGKILL
		t.Fatal(err)
	}
	child.Wait()
	if _, err := os.Stat(out); err == nil {
		t.Fatal("the killed run left an output that looks complete")
	}
	kept := len(checkpointFiles(partial)) * 5
	if kept >= n {
		t.Fatalf("the child finished (%d rows kept) before it was killed; the test needs a run cut short", kept)
	}

	ctx := context.Background()
	var calls atomic.Int32
	r := runCmd(t, ctx, &fakeScorer{calls: &calls}, nil, append([]string{"--resume"}, args...)...)
	if r.code != 0 {
		t.Fatalf("--resume: exit %d: %s", r.code, r.errOut)
	}
	if got := int(calls.Load()); got > n-kept {
		t.Errorf("--resume scored %d images; the %d checkpoints held %d of %d, so at most %d were left", got, kept/5, kept, n, n-kept)
	}
	resumed, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	whole := runCmd(t, ctx, &fakeScorer{}, nil, "-o", "ndjson", in)
	if string(resumed) != whole.out {
		t.Errorf("resumed output differs from one uninterrupted run:\n%s\nwant\n%s", resumed, whole.out)
	}
	if left := checkpointFiles(partial); len(left) != 0 {
		t.Errorf("checkpoints left after the output was composed: %v", left)
	}
}

func checkpointFiles(dir string) []string {
	m, _ := filepath.Glob(filepath.Join(dir, "*.ndjson"))
	return m
}

// An interrupted run (Ctrl-C, SIGTERM) commits what it scored, exits 130 and writes no output;
// --resume completes it into an object equal to one uninterrupted run's, and a --resume of the
// completed output has nothing left to do.
func TestResumeAfterInterruptS3(t *testing.T) {
	s := objstoretest.Start(t)
	s.Bucket(t, "kyc")
	putImages(t, s, "kyc", "in/", 20)
	in := s.BucketURL("kyc", "in/")
	out := s.BucketURL("kyc", "scores/part-0003.ndjson")
	ctx := context.Background()

	ictx, cancel := context.WithCancel(ctx)
	defer cancel()
	r := runCmd(t, ictx, &fakeScorer{cancelOn: "012.png", cancel: cancel}, nil,
		"--workers", "1", "--checkpoint-rows", "4", "--out", out, in)
	if r.code != cmdutil.ExitInterrupt {
		t.Fatalf("exit %d, want 130: %s", r.code, r.errOut)
	}
	if _, ok := s.Get(t, "kyc", "scores/part-0003.ndjson"); ok {
		t.Fatal("an interrupted run wrote the output")
	}
	if !strings.Contains(r.errOut, "12 rows kept in s3://kyc/scores/part-0003.ndjson.partial/") {
		t.Errorf("stderr %q does not say what was kept", r.errOut)
	}
	if keys := s.Keys(t, "kyc", "scores/"); len(keys) != 3 { // 4+4+4 rows
		t.Errorf("checkpoints %v, want 3 of 4 rows", keys)
	}

	var calls atomic.Int32
	r = runCmd(t, ctx, &fakeScorer{calls: &calls}, nil, "--resume", "--checkpoint-rows", "4", "--out", out, in)
	if r.code != 0 || calls.Load() != 8 || !strings.Contains(r.errOut, "resuming: 12 rows already in s3://kyc/scores/part-0003.ndjson.partial/") ||
		!strings.Contains(r.errOut, "20 images: ") {
		t.Fatalf("--resume: exit %d after scoring %d images (want 0 after 8, the summary of all 20): %s", r.code, calls.Load(), r.errOut)
	}
	got, _ := s.Get(t, "kyc", "scores/part-0003.ndjson")
	whole := runCmd(t, ctx, &fakeScorer{}, nil, "-o", "ndjson", in)
	if string(got) != whole.out {
		t.Errorf("resumed output:\n%s\nwant\n%s", got, whole.out)
	}
	if keys := s.Keys(t, "kyc", "scores/"); len(keys) != 1 {
		t.Errorf("left %v, want only the output", keys)
	}
	r = runCmd(t, ctx, &fakeScorer{calls: &calls}, nil, "--resume", "--out", out, in)
	if r.code != 0 || calls.Load() != 8 || !strings.Contains(r.errOut, "is complete: nothing left to score") {
		t.Errorf("--resume of a complete output: exit %d, %d more scored, stderr %q", r.code, calls.Load()-8, r.errOut)
	}
}
