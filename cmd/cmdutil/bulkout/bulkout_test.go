package bulkout

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/spoofsense/spoofsense/cmd/cmdutil/objstore"
	"github.com/spoofsense/spoofsense/report"
	"github.com/spoofsense/spoofsense/scorer"
)

// openFile opens an Output writing dir/out.EXT through the file:// driver.
func openFile(t *testing.T, dir string, opts Options) (*Output, objstore.Location) {
	t.Helper()
	loc, err := objstore.FileLocation(filepath.Join(dir, "out"))
	if err != nil {
		t.Fatal(err)
	}
	var o objstore.Opener
	t.Cleanup(func() { o.Close() })
	b, err := o.Bucket(context.Background(), loc)
	if err != nil {
		t.Fatal(err)
	}
	out, err := Open(context.Background(), b, loc, opts)
	if err != nil {
		t.Fatal(err)
	}
	return out, loc
}

func row(name, verdict string) scorer.Result {
	if verdict == "" {
		return scorer.Result{File: name, Status: scorer.StatusError, Error: "decode " + name + ": bad"}
	}
	return scorer.Result{File: name, Status: scorer.StatusOK, Verdict: scorer.Verdict(verdict), ProbReal: 0.7}
}

// Rows are committed in checkpoints of Rows rows; Finish composes them, in order, into the
// output in the run's format (a CSV header once) with the summary of every row, and removes them.
func TestFinishComposesCheckpoints(t *testing.T) {
	ctx := context.Background()
	for _, tt := range []struct {
		format report.Format
		first  string // the output's first line
		lines  int
	}{
		{report.NDJSON, `{"file":"a.jpg","status":"ok","verdict":"live"`, 5},
		{report.CSV, "file,", 6},
		{report.JSON, `{"results":[`, 8},
	} {
		t.Run(string(tt.format), func(t *testing.T) {
			dir := t.TempDir()
			out, _ := openFile(t, dir, Options{Format: tt.format, Rows: 2})
			for _, r := range []scorer.Result{row("a.jpg", "live"), row("b.jpg", "spoof"), row("c.jpg", ""), row("d.jpg", "live"), row("e.jpg", "no_face")} {
				if err := out.Write(ctx, r); err != nil {
					t.Fatal(err)
				}
			}
			if got := checkpointNames(t, dir); !slices.Equal(got, []string{"000001.ndjson", "000002.ndjson"}) {
				t.Errorf("checkpoints before Finish %v, want two of 2 rows (the fifth row not yet due)", got)
			}
			sum, err := out.Finish(ctx, time.Second)
			if err != nil {
				t.Fatal(err)
			}
			if sum.Total != 5 || sum.Live != 2 || sum.Spoof != 1 || sum.Errors != 1 || sum.NoFace != 1 {
				t.Errorf("summary %+v", sum)
			}
			data, err := os.ReadFile(filepath.Join(dir, "out"))
			if err != nil {
				t.Fatal(err)
			}
			lines := strings.Split(strings.TrimSpace(string(data)), "\n")
			if !strings.HasPrefix(lines[0], tt.first) || len(lines) != tt.lines {
				t.Errorf("output %d lines starting %q, want %d starting %q:\n%s", len(lines), lines[0], tt.lines, tt.first, data)
			}
			if _, err := os.Stat(filepath.Join(dir, "out.partial")); !os.IsNotExist(err) {
				t.Errorf("checkpoint directory left after Finish (%v)", err)
			}
		})
	}
}

func checkpointNames(t *testing.T, dir string) []string {
	t.Helper()
	entries, _ := os.ReadDir(filepath.Join(dir, "out.partial"))
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

// Resume reads what an earlier run committed: the names it holds are done, a temporary file a
// killed write left is not a checkpoint, and a damaged checkpoint or a name in two of them is an
// error naming the file and line. Without Resume, old checkpoints are deleted.
func TestOpenResume(t *testing.T) {
	ctx := context.Background()
	good := `{"file":"a.jpg","status":"ok","verdict":"live","prob_real":0.9}` + "\n" +
		`{"file":"","status":"error","error":"x","file_b64":"/w=="}` + "\n"
	for _, tt := range []struct {
		name   string
		files  map[string]string
		resume bool
		done   []string
		err    string
	}{
		{name: "resume", resume: true, files: map[string]string{"000001.ndjson": good, "000002.ndjson.1a2b.tmp": "{half"},
			done: []string{"a.jpg", "\xff"}},
		{name: "damaged", resume: true, files: map[string]string{"000001.ndjson": good, "000002.ndjson": "{half"},
			err: "checkpoint file:///" + "%DIR%/out.partial/000002.ndjson line 1: "},
		{name: "twice", resume: true, files: map[string]string{"000001.ndjson": good, "000002.ndjson": good},
			err: "a.jpg is in two checkpoints"},
		{name: "fresh", files: map[string]string{"000001.ndjson": good}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			for name, data := range tt.files {
				p := filepath.Join(dir, "out.partial", name)
				os.MkdirAll(filepath.Dir(p), 0o755)
				if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			loc, _ := objstore.FileLocation(filepath.Join(dir, "out"))
			var o objstore.Opener
			defer o.Close()
			b, err := o.Bucket(ctx, loc)
			if err != nil {
				t.Fatal(err)
			}
			out, err := Open(ctx, b, loc, Options{Format: report.NDJSON, Resume: tt.resume})
			if tt.err != "" {
				want := strings.ReplaceAll(tt.err, "%DIR%", strings.TrimPrefix(filepath.ToSlash(dir), "/"))
				if err == nil || !strings.Contains(err.Error(), want) {
					t.Fatalf("err = %v, want %q", err, want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if out.Resumed() != len(tt.done) {
				t.Errorf("resumed %d, want %d", out.Resumed(), len(tt.done))
			}
			for _, n := range tt.done {
				if !out.Done(n) {
					t.Errorf("%q not done", n)
				}
			}
			if !tt.resume && slices.Contains(checkpointNames(t, dir), "000001.ndjson") {
				t.Error("a run without Resume kept an old checkpoint")
			}
		})
	}
}
