package check

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/spoofsense/spoofsense/cmd/cmdutil"
	"github.com/spoofsense/spoofsense/preprocess"
	"github.com/spoofsense/spoofsense/report"
	"github.com/spoofsense/spoofsense/scorer"
)

// imageDir writes n images named 000.png … into a new directory and returns it with the
// images' bytes by path.
func imageDir(t testing.TB, n int, name func(i int) string) (string, map[string][]byte) {
	t.Helper()
	dir := t.TempDir()
	files := map[string][]byte{}
	for i := range n {
		p := filepath.Join(dir, name(i))
		files[p] = writeImage(t, p, i)
	}
	return dir, files
}

func seqName(i int) string { return fmt.Sprintf("%03d.png", i) }

// parseNDJSON decodes one result per line.
func parseNDJSON(t testing.TB, out string) []scorer.Result {
	t.Helper()
	var results []scorer.Result
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		var r scorer.Result
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("ndjson line %q: %v", sc.Text(), err)
		}
		results = append(results, r)
	}
	return results
}

func files(results []scorer.Result) []string {
	names := make([]string, len(results))
	for i, r := range results {
		names[i] = r.File
	}
	return names
}

// checkScores checks that every ok row carries the fake score of its own file's pixels.
func checkScores(t *testing.T, results []scorer.Result, data map[string][]byte) {
	t.Helper()
	for _, r := range results {
		if r.Status != scorer.StatusOK || r.Verdict == scorer.NoFace {
			continue
		}
		b, ok := data[r.File]
		if !ok {
			t.Errorf("row for unknown file %q", r.File)
			continue
		}
		img, err := preprocess.DecodeBytes(b, preprocess.Limits{})
		if err != nil {
			t.Errorf("%s: %v", r.File, err)
			continue
		}
		if want := fakeProb(img.Pix, r.File); r.ProbReal != want {
			t.Errorf("%s: prob_real %v, want %v (rows mixed up?)", r.File, r.ProbReal, want)
		}
	}
}

func TestOutputFormats(t *testing.T) {
	dir, data := imageDir(t, 5, func(i int) string {
		if i == 3 {
			return "003-spoof.png"
		}
		return seqName(i)
	})
	want := slices.Sorted(func(yield func(string) bool) {
		for p := range data {
			if !yield(p) {
				return
			}
		}
	})
	ctx := context.Background()

	t.Run("ndjson", func(t *testing.T) {
		r := runCmd(t, ctx, &fakeScorer{}, nil, "-o", "ndjson", dir)
		results := parseNDJSON(t, r.out)
		if got := files(results); !reflect.DeepEqual(got, want) {
			t.Fatalf("files = %q, want %q", got, want)
		}
		checkScores(t, results, data)
		if r.code != cmdutil.ExitFail {
			t.Errorf("exit %d with a spoof, want 1", r.code)
		}
	})
	t.Run("json", func(t *testing.T) {
		r := runCmd(t, ctx, &fakeScorer{}, nil, "-o", "json", dir)
		var doc struct {
			Results []scorer.Result `json:"results"`
			Summary report.Summary  `json:"summary"`
		}
		dec := json.NewDecoder(strings.NewReader(r.out))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&doc); err != nil {
			t.Fatalf("%v\n%s", err, r.out)
		}
		if got := files(doc.Results); !reflect.DeepEqual(got, want) {
			t.Fatalf("files = %q, want %q", got, want)
		}
		checkScores(t, doc.Results, data)
		s := doc.Summary
		if s.Total != 5 || s.Live != 4 || s.Spoof != 1 || s.Errors != 0 || s.ElapsedMS <= 0 || s.Interrupted {
			t.Errorf("summary = %+v", s)
		}
	})
	t.Run("csv", func(t *testing.T) {
		r := runCmd(t, ctx, &fakeScorer{}, nil, "-o", "csv", dir)
		rows, err := csv.NewReader(strings.NewReader(r.out)).ReadAll()
		if err != nil {
			t.Fatalf("%v\n%s", err, r.out)
		}
		if !reflect.DeepEqual(rows[0], report.CSVHeader()) {
			t.Fatalf("header %q", rows[0])
		}
		if len(rows) != 6 {
			t.Fatalf("%d rows, want header + 5", len(rows))
		}
		for i, row := range rows[1:] {
			if len(row) != len(rows[0]) || row[0] != want[i] {
				t.Errorf("row %d = %q", i+1, row)
			}
		}
	})
	t.Run("table", func(t *testing.T) {
		r := runCmd(t, ctx, &fakeScorer{}, nil, "-o", "table", dir)
		last := -1
		for _, p := range want {
			i := strings.Index(r.out, p)
			if i < 0 || i < last {
				t.Fatalf("table lacks %s or has it out of order:\n%s", p, r.out)
			}
			last = i
		}
		if !strings.Contains(r.out, "spoof") || strings.Contains(r.out, "\x1b[") {
			t.Errorf("table:\n%s", r.out)
		}
	})
}

func TestInputOrderWithWorkers(t *testing.T) {
	dir, data := imageDir(t, 60, seqName)
	r := runCmd(t, context.Background(), &fakeScorer{maxDelay: 3 * time.Millisecond}, nil, "--workers", "4", dir)
	results := parseNDJSON(t, r.out)
	if len(results) != 60 {
		t.Fatalf("%d rows, want 60", len(results))
	}
	for i, res := range results {
		if want := filepath.Join(dir, seqName(i)); res.File != want {
			t.Fatalf("row %d is %s, want %s", i, res.File, want)
		}
	}
	checkScores(t, results, data)
	if r.code != 0 || r.loads != 1 {
		t.Errorf("exit %d, scorer loaded %d times; want 0, 1", r.code, r.loads)
	}
}

// TestErrorRows mixes good images with inputs that cannot be read or decoded: each of the
// latter is a row saying why, the others are scored, and the exit code is 3.
//
// Tests run as root here, which reads chmod 000 files anyway, so a dangling symlink named like
// an image stands in for the unreadable file; the chmod case runs only when it can fail.
func TestErrorRows(t *testing.T) {
	dir := t.TempDir()
	data := map[string][]byte{}
	for i, name := range []string{"a-good.png", "e-good.jpg"} {
		p := filepath.Join(dir, name)
		data[p] = writeImage(t, p, i)
	}
	must(t, os.WriteFile(filepath.Join(dir, "b-text.jpg"), []byte("this is not a picture\n"), 0o644))
	must(t, os.WriteFile(filepath.Join(dir, "c-empty.jpg"), nil, 0o644))
	must(t, os.Symlink(filepath.Join(dir, "missing.png"), filepath.Join(dir, "d-dangling.jpg")))
	must(t, os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("not an image, skipped"), 0o644))
	wantErrors := map[string]string{
		// check decodes, so these are the decoder's messages whatever the scorer.
		"b-text.jpg":     "decode " + filepath.Join(dir, "b-text.jpg") + ": unsupported image format: text (supported: JPEG, PNG, GIF, BMP, TIFF, WebP)",
		"c-empty.jpg":    "decode " + filepath.Join(dir, "c-empty.jpg") + ": empty input: zero bytes",
		"d-dangling.jpg": "open " + filepath.Join(dir, "d-dangling.jpg") + ": no such file or directory",
	}
	unreadable := filepath.Join(dir, "f-unreadable.png")
	writeImage(t, unreadable, 9)
	must(t, os.Chmod(unreadable, 0))
	if f, err := os.Open(unreadable); err == nil {
		f.Close()
		t.Log("running as root: chmod 000 does not stop reads, the file is scored; the dangling symlink covers unreadable files")
		data[unreadable] = writeImage(t, unreadable, 9)
	} else {
		wantErrors["f-unreadable.png"] = "open " + unreadable + ": permission denied"
	}

	r := runCmd(t, context.Background(), &fakeScorer{}, nil, "--workers", "3", dir)
	if r.code != cmdutil.ExitFileError {
		t.Errorf("exit %d, want 3\nstderr: %s", r.code, r.errOut)
	}
	results := parseNDJSON(t, r.out)
	if len(results) != 6 {
		t.Fatalf("%d rows, want 6: %q", len(results), files(results))
	}
	for _, res := range results {
		base := filepath.Base(res.File)
		if want, bad := wantErrors[base]; bad {
			if res.Status != scorer.StatusError || res.Error != want || res.Verdict != "" {
				t.Errorf("%s: status %q error %q, want error %q", base, res.Status, res.Error, want)
			}
		} else if res.Status != scorer.StatusOK || res.Verdict != scorer.Live {
			t.Errorf("%s: %+v, want scored live", base, res)
		}
	}
	checkScores(t, results, data)
	if !strings.Contains(r.errOut, fmt.Sprintf("%d errors", len(wantErrors))) {
		t.Errorf("summary line: %q", r.errOut)
	}
}

func TestStdin(t *testing.T) {
	img := encodeImage(t, 30, 20, 5, false)
	r := runCmd(t, context.Background(), &fakeScorer{}, img, "-o", "ndjson", "-")
	results := parseNDJSON(t, r.out)
	if len(results) != 1 || results[0].File != "-" || results[0].Status != scorer.StatusOK {
		t.Fatalf("results = %+v", results)
	}
	checkScores(t, results, map[string][]byte{"-": img})
	if results[0].Image.Width != 30 || r.code != 0 {
		t.Errorf("result %+v, exit %d", results[0], r.code)
	}
}

func TestFilesFrom(t *testing.T) {
	dir, data := imageDir(t, 4, seqName)
	odd := filepath.Join(dir, "new\nline.png") // only a NUL-separated list can name it
	data[odd] = writeImage(t, odd, 7)
	sub := filepath.Join(dir, "sub")
	for i := range 2 {
		p := filepath.Join(sub, seqName(i))
		data[p] = writeImage(t, p, 10+i)
	}
	p := func(i int) string { return filepath.Join(dir, seqName(i)) }

	tests := []struct {
		name  string
		list  string
		args  []string
		stdin bool
		want  []string
	}{
		{"lines from a file", p(2) + "\n" + p(0) + "\r\n\n" + sub + "\n", nil, false,
			[]string{p(2), p(0), filepath.Join(sub, "000.png"), filepath.Join(sub, "001.png")}},
		{"NUL from stdin", p(3) + "\x00" + odd + "\x00" + p(1), []string{"-0"}, true,
			[]string{p(3), odd, p(1)}},
		{"after the arguments", p(1) + "\n", []string{p(0)}, false, []string{p(0), p(1)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"-o", "ndjson"}, tt.args...)
			var stdin []byte
			if tt.stdin {
				args = append(args, "--files-from", "-")
				stdin = []byte(tt.list)
			} else {
				list := filepath.Join(t.TempDir(), "list")
				must(t, os.WriteFile(list, []byte(tt.list), 0o644))
				args = append(args, "--files-from", list)
			}
			r := runCmd(t, context.Background(), &fakeScorer{}, stdin, args...)
			results := parseNDJSON(t, r.out)
			if got := files(results); !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("files = %q, want %q\nstderr: %s", got, tt.want, r.errOut)
			}
			checkScores(t, results, data)
		})
	}

	t.Run("missing list", func(t *testing.T) {
		r := runCmd(t, context.Background(), &fakeScorer{}, nil, "--files-from", filepath.Join(dir, "nope"))
		if r.code != cmdutil.ExitUsage || !strings.Contains(r.errOut, "--files-from") || r.loads != 0 {
			t.Errorf("exit %d, loads %d, stderr %q", r.code, r.loads, r.errOut)
		}
	})
}

func TestWalkFilters(t *testing.T) {
	dir := t.TempDir()
	for i, name := range []string{"a.png", "b.jpg", ".hidden.png", ".hdir/c.png", "sub/d.png", "sub/skip/e.png", "UPPER.PNG"} {
		writeImage(t, filepath.Join(dir, name), i)
	}
	// An image without an extension is found by its first bytes; text is not.
	must(t, os.WriteFile(filepath.Join(dir, "noext"), encodeImage(t, 8, 8, 1, false), 0o644))
	must(t, os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("hello"), 0o644))
	must(t, os.WriteFile(filepath.Join(dir, "BMW-notes"), []byte("BMW owners manual"), 0o644))

	tests := []struct {
		name string
		args []string
		want []string
	}{
		{"default", nil, []string{"UPPER.PNG", "a.png", "b.jpg", "noext", "sub/d.png", "sub/skip/e.png"}},
		{"hidden", []string{"--hidden"}, []string{".hdir/c.png", ".hidden.png", "UPPER.PNG", "a.png", "b.jpg", "noext", "sub/d.png", "sub/skip/e.png"}},
		{"include", []string{"--include", "*.png"}, []string{"a.png", "sub/d.png", "sub/skip/e.png"}},
		{"include two", []string{"--include", "*.png", "--include", "*.jpg"}, []string{"a.png", "b.jpg", "sub/d.png", "sub/skip/e.png"}},
		{"exclude a directory", []string{"--exclude", "skip"}, []string{"UPPER.PNG", "a.png", "b.jpg", "noext", "sub/d.png"}},
		{"exclude a path", []string{"--exclude", "sub/*.png"}, []string{"UPPER.PNG", "a.png", "b.jpg", "noext", "sub/skip/e.png"}},
		{"include a path", []string{"--include", "sub/*/*"}, []string{"sub/skip/e.png"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runCmd(t, context.Background(), &fakeScorer{}, nil, append(tt.args, dir)...)
			var got []string
			for _, res := range parseNDJSON(t, r.out) {
				rel, _ := filepath.Rel(dir, res.File)
				got = append(got, filepath.ToSlash(rel))
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("files = %q, want %q", got, tt.want)
			}
		})
	}
	t.Run("explicit files bypass filters", func(t *testing.T) {
		hidden := filepath.Join(dir, ".hidden.png")
		r := runCmd(t, context.Background(), &fakeScorer{}, nil, "--exclude", "*.png", hidden)
		if got := files(parseNDJSON(t, r.out)); !reflect.DeepEqual(got, []string{hidden}) {
			t.Errorf("files = %q", got)
		}
	})
}

func TestSymlinkLoop(t *testing.T) {
	dir := t.TempDir()
	writeImage(t, filepath.Join(dir, "a.png"), 1)
	writeImage(t, filepath.Join(dir, "sub", "b.png"), 2)
	must(t, os.Symlink("..", filepath.Join(dir, "sub", "loop")))
	other := t.TempDir()
	writeImage(t, filepath.Join(other, "c.png"), 3)
	must(t, os.Symlink(other, filepath.Join(dir, "sub", "other"))) // not a loop: followed

	done := make(chan runResult)
	go func() { done <- runCmd(t, context.Background(), &fakeScorer{}, nil, dir) }()
	var r runResult
	select {
	case r = <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("walk did not finish: symlink loop not detected")
	}
	want := []string{filepath.Join(dir, "a.png"), filepath.Join(dir, "sub", "b.png"), filepath.Join(dir, "sub", "other", "c.png")}
	if got := files(parseNDJSON(t, r.out)); !reflect.DeepEqual(got, want) {
		t.Errorf("files = %q, want %q", got, want)
	}
	if !strings.Contains(r.errOut, "skipping "+filepath.Join(dir, "sub", "loop")+": symlink loop back to "+dir) {
		t.Errorf("stderr lacks the loop warning: %q", r.errOut)
	}
	if r.code != 0 {
		t.Errorf("exit %d, want 0", r.code)
	}
}

func TestExitCodes(t *testing.T) {
	tests := []struct {
		name    string
		files   []string // written as images, except "*.txt.jpg" (not an image)
		args    []string
		want    int
		wantErr string
	}{
		{"all live", []string{"a.png", "b.png"}, nil, cmdutil.ExitOK, ""},
		{"a spoof", []string{"a.png", "b-spoof.png"}, nil, cmdutil.ExitFail, ""},
		{"no face", []string{"a.png", "b-noface.png"}, nil, cmdutil.ExitFail, ""},
		{"a spoof with a higher threshold", []string{"a.png"}, []string{"--threshold", "1"}, cmdutil.ExitFail, ""},
		{"an error wins over a spoof", []string{"a-spoof.png", "bad.txt.jpg"}, nil, cmdutil.ExitFileError, ""},
		{"exit-zero", []string{"a-spoof.png", "bad.txt.jpg"}, []string{"--exit-zero"}, cmdutil.ExitOK, ""},
		{"no images", []string{"bad.txt"}, nil, cmdutil.ExitFileError, "no images found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			for i, name := range tt.files {
				p := filepath.Join(dir, name)
				if strings.Contains(name, ".txt") {
					must(t, os.WriteFile(p, []byte("text"), 0o644))
				} else {
					writeImage(t, p, i)
				}
			}
			r := runCmd(t, context.Background(), &fakeScorer{}, nil, append(tt.args, dir)...)
			if r.code != tt.want || !strings.Contains(r.errOut, tt.wantErr) {
				t.Errorf("exit %d, want %d; stderr %q", r.code, tt.want, r.errOut)
			}
		})
	}
}

// TestInterrupt cancels the run while one image is being scored: the rows before it are
// written in order, nothing after it, and the exit code is 130.
func TestInterrupt(t *testing.T) {
	dir, _ := imageDir(t, 12, seqName)
	for _, workers := range []string{"1", "4"} {
		for _, format := range []string{"ndjson", "json"} {
			t.Run(format+"/workers="+workers, func(t *testing.T) {
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				fs := &fakeScorer{cancelOn: "005.png", cancel: cancel}
				r := runCmd(t, ctx, fs, nil, "-o", format, "--workers", workers, dir)
				if r.code != cmdutil.ExitInterrupt || !strings.Contains(r.errOut, "interrupted") {
					t.Fatalf("exit %d, stderr %q; want 130, interrupted", r.code, r.errOut)
				}
				var results []scorer.Result
				if format == "json" {
					var doc struct {
						Results []scorer.Result
						Summary report.Summary
					}
					if err := json.Unmarshal([]byte(r.out), &doc); err != nil {
						t.Fatalf("interrupted json is not a document: %v\n%s", err, r.out)
					}
					if !doc.Summary.Interrupted || doc.Summary.Total != 5 {
						t.Errorf("summary %+v", doc.Summary)
					}
					results = doc.Results
				} else {
					results = parseNDJSON(t, r.out)
				}
				var want []string
				for i := range 5 {
					want = append(want, filepath.Join(dir, seqName(i)))
				}
				if got := files(results); !reflect.DeepEqual(got, want) {
					t.Errorf("files = %q, want %q", got, want)
				}
			})
		}
	}
}

func TestSummaryLine(t *testing.T) {
	dir := t.TempDir()
	for i, name := range []string{"a.png", "b.png", "c-spoof.png", "d-noface.png"} {
		writeImage(t, filepath.Join(dir, name), i)
	}
	r := runCmd(t, context.Background(), &fakeScorer{}, nil, dir)
	if !strings.HasPrefix(r.errOut, "4 images: 2 live, 1 spoof, 1 no face, 0 errors in ") {
		t.Errorf("stderr = %q", r.errOut)
	}
	if strings.Contains(r.out, "images:") {
		t.Errorf("summary on stdout: %q", r.out)
	}
	r = runCmd(t, context.Background(), &fakeScorer{}, nil, "-q", dir)
	if r.errOut != "" {
		t.Errorf("--quiet stderr = %q", r.errOut)
	}
	if len(parseNDJSON(t, r.out)) != 4 {
		t.Errorf("--quiet lost rows: %q", r.out)
	}
}

func TestProgressBar(t *testing.T) {
	dir, _ := imageDir(t, 3, seqName)
	tests := []struct {
		name    string
		args    []string
		tty     bool // stderr is a terminal
		wantBar bool
	}{
		{"not a terminal", nil, false, false},
		{"terminal", nil, true, true},
		{"forced", []string{"--progress"}, false, true},
		{"quiet terminal", []string{"-q"}, true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ios, _, out, errOut := cmdutil.Test()
			ios.StderrTTY = tt.tty
			f, loads := fakeFactory(ios, &fakeScorer{}, nil)
			r := execute(t, context.Background(), f, loads, out, errOut, append(tt.args, dir)...)
			if got := strings.Contains(r.errOut, "scoring"); got != tt.wantBar {
				t.Errorf("bar drawn = %v, want %v; stderr %q", got, tt.wantBar, r.errOut)
			}
			if len(parseNDJSON(t, r.out)) != 3 {
				t.Errorf("stdout is not 3 clean rows: %q", r.out)
			}
		})
	}
	t.Run("one file", func(t *testing.T) {
		ios, _, out, errOut := cmdutil.Test()
		f, loads := fakeFactory(ios, &fakeScorer{}, nil)
		r := execute(t, context.Background(), f, loads, out, errOut, "--progress", filepath.Join(dir, seqName(0)))
		if strings.Contains(r.errOut, "scoring") {
			t.Errorf("bar for a single file: %q", r.errOut)
		}
	})
}

func TestScorerLoading(t *testing.T) {
	dir, _ := imageDir(t, 2, seqName)
	t.Run("not needed", func(t *testing.T) {
		r := runCmd(t, context.Background(), &fakeScorer{}, nil, filepath.Join(dir, "missing.png"))
		if r.loads != 0 || r.code != cmdutil.ExitFileError {
			t.Errorf("loads %d exit %d; want 0, 3", r.loads, r.code)
		}
	})
	t.Run("fails", func(t *testing.T) {
		ios, _, out, errOut := cmdutil.Test()
		f, loads := fakeFactory(ios, &fakeScorer{}, errors.New("model MiniFASNetV2.onnx: checksum mismatch"))
		r := execute(t, context.Background(), f, loads, out, errOut, "--workers", "2", dir)
		// Exit 4, not 1: a broken installation must not read as a spoof verdict. No summary
		// line: nothing was scored.
		if r.code != cmdutil.ExitCannotRun || r.loads != 1 ||
			r.errOut != "spoofsense: load models: model MiniFASNetV2.onnx: checksum mismatch\n" {
			t.Errorf("exit %d, loads %d, stderr %q; want 4, 1 and only the load error", r.code, r.loads, r.errOut)
		}
		if r.out != "" {
			t.Errorf("rows despite no scorer: %q", r.out)
		}
	})
	t.Run("options passed", func(t *testing.T) {
		ios, _, _, _ := cmdutil.Test()
		var got scorer.Options
		f := &cmdutil.Factory{IOStreams: ios, ModelsDir: "/models"}
		f.NewScorer = func(_ context.Context, o scorer.Options) (cmdutil.ImageScorer, error) {
			got = o
			return &fakeScorer{opts: o}, nil
		}
		cmd := NewCmdCheck(f, func(o *CheckOptions) error { return checkRun(context.Background(), o) })
		cmd.SetArgs([]string{"--threshold", "0.8", "--strict", "--faces", "reject-multiple", "--crops", "multi", "--box", "mapped", dir})
		_ = cmd.Execute()
		want := scorer.Options{ModelsDir: "/models", Threshold: 0.8, Strict: true, Faces: scorer.FacesRejectMultiple,
			Crops: scorer.CropsMulti, Box: scorer.BoxMapped}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("scorer options %+v, want %+v", got, want)
		}
	})
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// Results that cannot be written fail the run with exit 4, in every format: /dev/full takes
// nothing (ENOSPC), as a full disk would.
func TestOutputNotWritable(t *testing.T) {
	full, err := os.OpenFile("/dev/full", os.O_WRONLY, 0)
	if err != nil {
		t.Skipf("no /dev/full: %v", err)
	}
	defer full.Close()
	dir, _ := imageDir(t, 3, seqName)
	for _, format := range []string{"table", "json", "ndjson", "csv"} {
		t.Run(format, func(t *testing.T) {
			ios, _, out, errOut := cmdutil.Test()
			ios.Out = full
			f, loads := fakeFactory(ios, &fakeScorer{}, nil)
			r := execute(t, context.Background(), f, loads, out, errOut, "-o", format, dir)
			if r.code != cmdutil.ExitCannotRun || !strings.Contains(r.errOut, "write results") ||
				!strings.Contains(r.errOut, "no space left on device") {
				t.Errorf("exit %d, stderr %q; want 4 and the write error", r.code, r.errOut)
			}
		})
	}
}
