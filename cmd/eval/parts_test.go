package eval

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spoofsense/spoofsense/cmd/cmdutil/objstore/objstoretest"
	"github.com/spoofsense/spoofsense/cmd/cmdutil/shard"
	"github.com/spoofsense/spoofsense/report/dataset/datasettest"
	"github.com/spoofsense/spoofsense/scorer"
)

// savedScores scores smallSet in dir once and returns its results (File = the item's key) and
// eval's JSON report of them.
func savedScores(t *testing.T, dir string) ([]scorer.Result, string) {
	t.Helper()
	datasettest.WriteFiles(t, dir, smallSet)
	saved := filepath.Join(t.TempDir(), "all.ndjson")
	r := runEval(t, fakeFactory(&fakeScorer{}), []string{dir, "-o", "json", "--save-scores", saved}, nil)
	if r.code != 0 {
		t.Fatalf("scoring run: %d %v", r.code, r.err)
	}
	f, err := os.Open(saved)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var results []scorer.Result
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var res scorer.Result
		if err := json.Unmarshal(sc.Bytes(), &res); err != nil {
			t.Fatal(err)
		}
		results = append(results, res)
	}
	return results, r.out
}

// splitParts encodes results as n NDJSON parts, each result in the part of its key's shard, with
// File = prefix + key, leaving out the keys in drop and adding the keys in dup to part 0 too.
func splitParts(t *testing.T, results []scorer.Result, n int, prefix string, drop, dup map[string]bool) [][]byte {
	t.Helper()
	parts := make([][]byte, n)
	for _, res := range results {
		key := res.File
		if drop[key] {
			continue
		}
		res.File = prefix + key
		line, err := json.Marshal(res)
		if err != nil {
			t.Fatal(err)
		}
		k := shard.Of(key, uint64(n))
		parts[k] = append(append(parts[k], line...), '\n')
		if dup[key] && k != 0 {
			parts[0] = append(append(parts[0], line...), '\n')
		}
	}
	return parts
}

// metricsOf is eval's JSON report without what says where the scores came from.
func metricsOf(t *testing.T, out string) string {
	t.Helper()
	res := decodeResult(t, out)
	d := &res.Dataset
	d.Root, d.Scored, d.FromScores, d.ScoresFile = "", 0, 0, ""
	b, err := json.Marshal(res)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// Part files given as a glob are merged into one set of scores: the metrics are those of the
// one run, nothing is scored again; an image in two parts is refused naming both; an image in
// none is reported and scored.
func TestScoresFromParts(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "set")
	results, want := savedScores(t, dir)
	parts := t.TempDir()
	write := func(sub string, ps [][]byte) string {
		for i, p := range ps {
			name := filepath.Join(parts, sub, fmt.Sprintf("part-%04d.ndjson", i))
			if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(name, p, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		return filepath.Join(parts, sub, "part-*.ndjson")
	}
	abs, _ := filepath.Abs(dir)
	for _, tt := range []struct {
		name      string
		drop, dup map[string]bool
		prefix    string
		code      int
		scored    int32
		err, note string
	}{
		{name: "relative keys", prefix: ""},
		{name: "paths check printed", prefix: abs + "/"},
		{name: "file URLs check printed", prefix: "file://" + abs + "/"},
		{name: "duplicate", dup: map[string]bool{"spoof/print/p2.jpg": true}, code: 2,
			err: "spoof/print/p2.jpg has results in two score files: " + filepath.Join(parts, "duplicate", "part-0000.ndjson") + " and " + filepath.Join(parts, "duplicate", "part-000")},
		{name: "missing", drop: map[string]bool{"live/a.jpg": true, "spoof/replay/r1.jpg": true}, scored: 2,
			note: "2 of 11 images are in none of the 3 score files of " + filepath.Join(parts, "missing", "part-*.ndjson") + ": live/a.jpg, spoof/replay/r1.jpg"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			glob := write(strings.ReplaceAll(tt.name, " ", "-"), splitParts(t, results, 3, tt.prefix, tt.drop, tt.dup))
			fake := &fakeScorer{}
			r := runEval(t, fakeFactory(fake), []string{dir, "-o", "json", "--scores", glob}, nil)
			if r.code != tt.code {
				t.Fatalf("exit %d, want %d: %v\n%s", r.code, tt.code, r.err, r.errOut)
			}
			if tt.err != "" {
				if r.err == nil || !strings.Contains(r.err.Error(), tt.err) {
					t.Errorf("err = %v, want %q", r.err, tt.err)
				}
				return
			}
			if got := fake.calls.Load(); got != tt.scored {
				t.Errorf("scored %d images, want %d", got, tt.scored)
			}
			if !strings.Contains(r.errOut, tt.note) {
				t.Errorf("stderr %q, want %q", r.errOut, tt.note)
			}
			if got := metricsOf(t, r.out); got != metricsOf(t, want) {
				t.Errorf("metrics from parts:\n%s\nwant\n%s", got, metricsOf(t, want))
			}
		})
	}
	if r := runEval(t, fakeFactory(&fakeScorer{}), []string{dir, "--scores", filepath.Join(parts, "none-*.ndjson")}, nil); r.code != 2 ||
		!strings.Contains(r.err.Error(), "no file matches") {
		t.Errorf("a glob matching nothing: exit %d, %v", r.code, r.err)
	}
}

// A dataset laid out in a bucket prefix is evaluated from the part files of a prefix of the same
// (S3) server, with the same metrics as the local run; an image missing from every part is read
// from the bucket and scored.
func TestBucketDatasetAndParts(t *testing.T) {
	results, want := savedScores(t, filepath.Join(t.TempDir(), "set"))
	s := objstoretest.Start(t)
	s.Bucket(t, "kyc")
	for key, content := range smallSet {
		s.Put(t, "kyc", "dev/"+key, []byte(content))
	}
	s.Put(t, "kyc", "dev/manifest.csv", []byte("path,label\n"))
	for i, p := range splitParts(t, results, 3, "s3://kyc/dev/", map[string]bool{"live/b.jpg": true}, nil) {
		s.Put(t, "kyc", fmt.Sprintf("scores/part-%04d.ndjson", i), p)
	}
	s.Put(t, "kyc", "scores/part-0003.ndjson.partial/000001.ndjson", []byte("not read"))
	fake := &fakeScorer{}
	r := runEval(t, fakeFactory(fake), []string{s.BucketURL("kyc", "dev/"), "-o", "json", "--scores", s.BucketURL("kyc", "scores/")}, nil)
	if r.code != 0 {
		t.Fatalf("exit %d: %v\n%s", r.code, r.err, r.errOut)
	}
	if fake.calls.Load() != 1 || !strings.Contains(r.errOut, "1 of 11 images are in none of the 3 score files") {
		t.Errorf("scored %d, stderr %q; want live/b.jpg alone reported and scored", fake.calls.Load(), r.errOut)
	}
	if got := metricsOf(t, r.out); got != metricsOf(t, want) {
		t.Errorf("metrics:\n%s\nwant\n%s", got, metricsOf(t, want))
	}
	r = runEval(t, fakeFactory(fake), []string{s.BucketURL("kyc", "nope/")}, nil)
	if r.code != 2 || !strings.Contains(r.err.Error(), "dataset s3://kyc/nope/: no live/ or spoof/ folder") {
		t.Errorf("an empty prefix: exit %d, %v", r.code, r.err)
	}
}

// With no credentials in the AWS chain, a bucket dataset or a --scores prefix is one clear error
// and exit 4 (the run cannot be done), not a usage error.
func TestBucketNoCredentials(t *testing.T) {
	s := objstoretest.Start(t)
	s.Bucket(t, "kyc")
	dir := filepath.Join(t.TempDir(), "set")
	datasettest.WriteFiles(t, dir, smallSet)
	objstoretest.SetCredentials(t, "", "")
	for _, args := range [][]string{
		{s.BucketURL("kyc", "dev/")},
		{dir, "--scores", s.BucketURL("kyc", "scores/")},
	} {
		r := runEval(t, fakeFactory(&fakeScorer{}), args, nil)
		if r.code != 4 || r.err == nil || !strings.Contains(r.err.Error(), "open bucket s3://kyc/: no credentials") {
			t.Errorf("%v: exit %d, %v; want 4 and the missing credentials", args, r.code, r.err)
		}
	}
}
