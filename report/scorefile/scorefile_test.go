package scorefile

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spoofsense/spoofsense/report/dataset"
	"github.com/spoofsense/spoofsense/report/dataset/datasettest"
	"github.com/spoofsense/spoofsense/scorer"
)

// A written score file reads back to the same results for the same items, named by their keys,
// from another working directory's point of view too.
func TestWriteReadMatch(t *testing.T) {
	dir := t.TempDir()
	datasettest.WriteFiles(t, dir, map[string]string{"live/a.jpg": "x", "spoof/print/b.jpg": "x", "spoof/c.jpg": "x"})
	ds, err := dataset.LoadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	results := []*scorer.Result{
		{File: filepath.Join(dir, "live/a.jpg"), Status: scorer.StatusOK, Verdict: scorer.Live, ProbReal: 0.9},
		nil, // not scored: left out
		{File: "whatever", Status: scorer.StatusError, Error: "decode: bad"},
	}
	name := filepath.Join(t.TempDir(), "s.ndjson")
	if err := Write(name, ds, results); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	lines, err := Read(f, name)
	if err != nil {
		t.Fatal(err)
	}
	if len(lines) != 2 || lines[0].Result.File != "live/a.jpg" || lines[1].Line != 2 {
		t.Fatalf("lines = %+v", lines)
	}
	got, unmatched, err := Match(ds, lines, name)
	if err != nil || unmatched != 0 {
		t.Fatalf("Match: unmatched %d, err %v", unmatched, err)
	}
	if got[0] == nil || got[0].ProbReal != 0.9 || got[1] != nil || got[2] == nil || got[2].Status != scorer.StatusError {
		t.Errorf("matched %v %v %v", got[0], got[1], got[2])
	}
}

func TestReadProblems(t *testing.T) {
	tests := []struct {
		name, file string
		want       []string // one substring per problem, in order
	}{
		{"not JSON", "{\"file\":\"a.jpg\",\"status\":\"ok\",\"verdict\":\"live\"}\nnope\n", []string{"s.ndjson:2: not a JSON result"}},
		{"no file", `{"status":"ok","verdict":"live"}`, []string{"s.ndjson:1: result without a file name"}},
		{"bad status and verdict", "{\"file\":\"a\",\"status\":\"done\"}\n\n{\"file\":\"b\",\"status\":\"ok\",\"verdict\":\"maybe\"}\n",
			[]string{`s.ndjson:1: a: unknown status "done"`, `s.ndjson:3: b: unknown verdict "maybe"`}},
		{"a json document", `{"results": []}`, []string{"s.ndjson:1: a `check -o json` document"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Read(strings.NewReader(tt.file), "s.ndjson")
			var de *dataset.Error
			if !errors.As(err, &de) {
				t.Fatalf("err = %v, want a *dataset.Error", err)
			}
			if len(de.Problems) != len(tt.want) {
				t.Fatalf("%d problems, want %d: %v", len(de.Problems), len(tt.want), err)
			}
			for i, p := range de.Problems {
				if !strings.Contains(p.String(), tt.want[i]) {
					t.Errorf("problem %d = %q, want %q", i, p, tt.want[i])
				}
			}
		})
	}
}

// Merged takes the parts of a bulk run: disjoint parts merge, items in no part are listed in
// dataset order, and an item in two parts is refused naming both.
func TestMerged(t *testing.T) {
	dir := t.TempDir()
	datasettest.WriteFiles(t, dir, map[string]string{"live/a.jpg": "x", "live/b.jpg": "x", "spoof/c.jpg": "x"})
	ds, err := dataset.LoadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	r := func(p float64) *scorer.Result { return &scorer.Result{Status: scorer.StatusOK, ProbReal: p} }
	for _, tt := range []struct {
		name        string
		parts       [][]*scorer.Result
		wantErr     string
		wantMissing []string
	}{
		{"disjoint", [][]*scorer.Result{{r(0.1), nil, nil}, {nil, nil, r(0.3)}}, "", []string{ds.Items[1].Key}},
		{"complete", [][]*scorer.Result{{r(0.1), r(0.2), nil}, {nil, nil, r(0.3)}}, "", nil},
		{"overlap", [][]*scorer.Result{{r(0.1), r(0.2), nil}, {nil, r(0.2), r(0.3)}},
			ds.Items[1].Key + " has results in two score files: part-0 and part-1", nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			m := NewMerged(ds)
			var err error
			for k, p := range tt.parts {
				if err = m.Add("part-"+string(rune('0'+k)), p); err != nil {
					break
				}
			}
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			results, missing := m.Results()
			if strings.Join(missing, ",") != strings.Join(tt.wantMissing, ",") {
				t.Errorf("missing %v, want %v", missing, tt.wantMissing)
			}
			for i, res := range results {
				for _, p := range tt.parts {
					if p[i] != nil && res != p[i] {
						t.Errorf("item %d: %v, want the part's %v", i, res, p[i])
					}
				}
			}
		})
	}
}
