package check

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/spoofsense/spoofsense/cmd/cmdutil/objstore/objstoretest"
	"github.com/spoofsense/spoofsense/scorer"
)

// putImages stores n small images as bucket/prefix000.png … and returns their names (URLs
// without the query) and bytes.
func putImages(t *testing.T, s *objstoretest.Server, bucket, prefix string, n int) ([]string, map[string][]byte) {
	t.Helper()
	var names []string
	data := map[string][]byte{}
	for i := range n {
		key := fmt.Sprintf("%s%03d.png", prefix, i)
		b := encodeImage(t, 20+i%5, 12+i%3, i, false)
		s.Put(t, bucket, key, b)
		name := "s3://" + bucket + "/" + key
		names = append(names, name)
		data[name] = b
	}
	return names, data
}

// A prefix of a real S3 server (gofakes3 on loopback, the gocloud s3blob client) is listed page
// by page and its images scored in key order; an object that is not an image, one whose body is
// cut mid-read, a missing key and a missing bucket are error rows, and the others are scored.
func TestCheckS3(t *testing.T) {
	s := objstoretest.Start(t)
	s.Bucket(t, "kyc")
	names, data := putImages(t, s, "kyc", "selfies/", 9)
	s.Put(t, "kyc", "selfies/readme.txt", []byte("not an image, not listed"))
	s.Put(t, "kyc", "selfies/.cache/x.png", encodeImage(t, 8, 8, 1, false))
	s.Put(t, "kyc", "selfies/broken.jpg", []byte("this is text, not a JPEG"))
	cut := encodeImage(t, 64, 64, 99, false)
	s.Put(t, "kyc", "selfies/cut-mid-read.png", cut)

	ctx := context.Background()
	for _, tt := range []struct {
		name   string
		args   []string
		files  []string
		errors map[string]string // file → part of its error
		code   int
		lists  int64 // at least this many listing requests
	}{
		{
			name: "prefix in pages",
			args: []string{"--page-size", "3", s.BucketURL("kyc", "selfies/")},
			// Keys in the bucket's byte order: digits before letters.
			files: append(append([]string{}, names...), "s3://kyc/selfies/broken.jpg", "s3://kyc/selfies/cut-mid-read.png"),
			errors: map[string]string{
				"s3://kyc/selfies/broken.jpg":       "decode s3://kyc/selfies/broken.jpg",
				"s3://kyc/selfies/cut-mid-read.png": "unexpected EOF",
			},
			code: 3, lists: 4,
		},
		{
			name:  "a key without the slash is a prefix when no object has it",
			args:  []string{"--include", "00[0-2].png", s.BucketURL("kyc", "selfies")},
			files: names[:3],
			code:  0,
		},
		{
			name:  "one key",
			args:  []string{s.BucketURL("kyc", "selfies/004.png")},
			files: names[4:5],
		},
		{
			name:   "missing key",
			args:   []string{s.BucketURL("kyc", "selfies/nope.png"), s.BucketURL("kyc", "selfies/001.png")},
			files:  []string{"s3://kyc/selfies/nope.png", names[1]},
			errors: map[string]string{"s3://kyc/selfies/nope.png": "s3://kyc/selfies/nope.png: no such object or prefix"},
			code:   3,
		},
		{
			name:   "missing bucket",
			args:   []string{s.BucketURL("no-such-bucket", "x/")},
			files:  []string{"s3://no-such-bucket/x/"},
			errors: map[string]string{"s3://no-such-bucket/x/": "list s3://no-such-bucket/x/: bucket not found"},
			code:   3,
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			before := s.Lists()
			r := runCmd(t, ctx, &fakeScorer{}, nil, append([]string{"-o", "ndjson", "--workers", "3"}, tt.args...)...)
			if r.code != tt.code {
				t.Fatalf("exit %d, want %d; stderr:\n%s", r.code, tt.code, r.errOut)
			}
			got := parseNDJSON(t, r.out)
			if !slices.Equal(files(got), tt.files) {
				t.Fatalf("rows %v\nwant %v", files(got), tt.files)
			}
			for _, row := range got {
				if want, ok := tt.errors[row.File]; ok {
					if row.Status != scorer.StatusError || !strings.Contains(row.Error, want) {
						t.Errorf("%s: status %s error %q, want an error with %q", row.File, row.Status, row.Error, want)
					}
					continue
				}
				if row.Status != scorer.StatusOK || row.ProbReal != fakeProbOf(t, data[row.File], row.File) {
					t.Errorf("%s: %+v, want the fake's score of its bytes", row.File, row)
				}
			}
			if n := s.Lists() - before; n < tt.lists {
				t.Errorf("%d listing requests, want at least %d", n, tt.lists)
			}
		})
	}
}

// With no credentials anywhere in the AWS chain the run is one clear error and exit 4, not an
// error row per object.
func TestCheckS3NoCredentials(t *testing.T) {
	s := objstoretest.Start(t)
	s.Bucket(t, "kyc")
	putImages(t, s, "kyc", "p/", 2)
	objstoretest.SetCredentials(t, "", "")
	r := runCmd(t, context.Background(), &fakeScorer{}, nil, "-o", "ndjson", s.BucketURL("kyc", "p/"))
	if r.code != 4 || r.out != "" {
		t.Fatalf("exit %d, out %q; want 4 and no rows", r.code, r.out)
	}
	if lines := strings.Split(strings.TrimSpace(r.errOut), "\n"); len(lines) != 1 ||
		!strings.HasPrefix(lines[0], "spoofsense: open bucket s3://kyc/: no credentials (set AWS_ACCESS_KEY_ID") {
		t.Errorf("stderr %q, want one line naming the bucket and the fix", r.errOut)
	}
	if r.loads != 0 {
		t.Errorf("models loaded %d times for a run that could not list anything", r.loads)
	}
}

// A file:// prefix is walked through the same object code as a bucket.
func TestCheckFileURL(t *testing.T) {
	dir := t.TempDir()
	for i, name := range []string{"a/1.png", "a/2.jpg", "b.png", "notes.txt"} {
		writeImage(t, filepath.Join(dir, name), i)
	}
	r := runCmd(t, context.Background(), &fakeScorer{}, nil, "-o", "ndjson", "file://"+dir+"/")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.errOut)
	}
	var want []string
	for _, n := range []string{"a/1.png", "a/2.jpg", "b.png"} {
		want = append(want, "file://"+dir+"/"+n)
	}
	if got := files(parseNDJSON(t, r.out)); !slices.Equal(got, want) {
		t.Errorf("rows %v, want %v", got, want)
	}
}

// --out writes exactly what stdout gets (NDJSON and CSV) to a file, a file:// URL or an object,
// and leaves no checkpoint behind.
func TestCheckOut(t *testing.T) {
	s := objstoretest.Start(t)
	s.Bucket(t, "kyc")
	putImages(t, s, "kyc", "in/", 7)
	s.Put(t, "kyc", "in/broken.jpg", []byte("text"))
	in := s.BucketURL("kyc", "in/")
	dir := t.TempDir()
	ctx := context.Background()
	for _, format := range []string{"ndjson", "csv"} {
		want := runCmd(t, ctx, &fakeScorer{}, nil, "-o", format, in)
		dir := filepath.Join(dir, format)
		for _, tt := range []struct {
			name, out string
			read      func() ([]byte, bool)
			leftover  func() []string
		}{
			{"file", filepath.Join(dir, "plain", "res."+format),
				func() ([]byte, bool) { return readFile(filepath.Join(dir, "plain", "res."+format)) },
				func() []string { return dirNames(filepath.Join(dir, "plain")) }},
			{"file URL", "file://" + dir + "/u/res." + format,
				func() ([]byte, bool) { return readFile(filepath.Join(dir, "u", "res."+format)) },
				func() []string { return dirNames(filepath.Join(dir, "u")) }},
			{"object", s.BucketURL("kyc", format+"/res."+format),
				func() ([]byte, bool) { return s.Get(t, "kyc", format+"/res."+format) },
				func() []string { return s.Keys(t, "kyc", format+"/") }},
		} {
			t.Run(format+" "+tt.name, func(t *testing.T) {
				r := runCmd(t, ctx, &fakeScorer{}, nil, "-o", format, "--checkpoint-rows", "3", "--out", tt.out, in)
				if r.code != want.code || r.out != "" {
					t.Fatalf("exit %d (want %d), stdout %q", r.code, want.code, r.out)
				}
				got, ok := tt.read()
				if !ok || string(got) != want.out {
					t.Errorf("output %q\nwant %q", got, want.out)
				}
				if left := tt.leftover(); len(left) != 1 {
					t.Errorf("left beside the output: %v, want only the output", left)
				}
			})
		}
	}
}

func readFile(name string) ([]byte, bool) {
	b, err := os.ReadFile(name)
	return b, err == nil
}

func dirNames(dir string) []string {
	entries, _ := os.ReadDir(dir)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

// For N in {1, 3, 7}, the N shards' outputs hold every input exactly once, each in input order.
func TestShardsCoverEveryInputOnce(t *testing.T) {
	s := objstoretest.Start(t)
	s.Bucket(t, "kyc")
	names, _ := putImages(t, s, "kyc", "all/", 40)
	in := s.BucketURL("kyc", "all/")
	ctx := context.Background()
	for _, n := range []int{1, 3, 7} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			var union []string
			for k := range n {
				out := s.BucketURL("kyc", fmt.Sprintf("scores-%d/part-%04d.ndjson", n, k))
				r := runCmd(t, ctx, &fakeScorer{}, nil, "--shard", fmt.Sprintf("%d/%d", k, n), "--out", out, "--exit-zero", in)
				if r.code != 0 {
					t.Fatalf("shard %d/%d: exit %d: %s", k, n, r.code, r.errOut)
				}
				data, _ := s.Get(t, "kyc", fmt.Sprintf("scores-%d/part-%04d.ndjson", n, k))
				part := files(parseNDJSON(t, string(data)))
				if !slices.IsSortedFunc(part, func(a, b string) int { return slices.Index(names, a) - slices.Index(names, b) }) {
					t.Errorf("shard %d/%d is not in input order: %v", k, n, part)
				}
				if n > 1 && len(part) == len(names) {
					t.Errorf("shard %d/%d took every input", k, n)
				}
				union = append(union, part...)
			}
			slices.Sort(union)
			if !slices.Equal(union, names) {
				t.Errorf("union of %d shards: %d rows %v\nwant each of the %d inputs once", n, len(union), union, len(names))
			}
		})
	}
}

func TestBulkFlagErrors(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"--shard", "3/3", "x.png"}, "--shard 3/3: K = 3 is not below N = 3"},
		{[]string{"--shard", "auto/4", "x.png"}, "--shard auto/4: $JOB_COMPLETION_INDEX is not set"},
		{[]string{"--shard", "1", "x.png"}, `--shard "1": want K/N`},
		{[]string{"--resume", "x.png"}, "--resume needs --out"},
		{[]string{"--out", "-", "x.png"}, "--out needs a file or URL"},
		{[]string{"--out", "o.ndjson", "--checkpoint-rows", "0", "x.png"}, "--checkpoint-rows must be at least 1"},
		{[]string{"--page-size", "0", "x.png"}, "--page-size must be at least 1"},
	} {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			t.Setenv("JOB_COMPLETION_INDEX", "")
			r := runCmd(t, context.Background(), &fakeScorer{}, nil, tt.args...)
			if r.code != 2 || !strings.Contains(r.errOut, tt.want) {
				t.Errorf("exit %d, stderr %q; want 2 and %q", r.code, r.errOut, tt.want)
			}
		})
	}
}
