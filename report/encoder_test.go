package report

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/csv"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/spoofsense/spoofsense/preprocess"
	"github.com/spoofsense/spoofsense/scorer"
)

// sampleResults covers a live and a spoof face, a face-less image, a quality rejection and an
// unreadable input, with file names that need quoting.
func sampleResults() []scorer.Result {
	face := func(v scorer.Verdict, p float64) *scorer.Face {
		return &scorer.Face{
			DetectorBox: preprocess.Box{X: 10, Y: 20, W: 100, H: 120},
			Box:         preprocess.Box{X: 11, Y: 21, W: 101, H: 121},
			Verdict:     v, ProbReal: p, DetectorScore: 0.99,
		}
	}
	info := scorer.ImageInfo{Width: 640, Height: 480, Format: "jpeg", Orientation: 1, Bytes: 12345}
	return []scorer.Result{
		{File: "live/a.jpg", Status: scorer.StatusOK, Verdict: scorer.Live, ProbReal: 0.91, Score: 2.5,
			Threshold: 0.55, FaceCount: 1, Face: face(scorer.Live, 0.91), Image: info,
			Timings: scorer.Timings{Total: 12.5}},
		{File: `spoof/b, "quoted".jpg`, Status: scorer.StatusOK, Verdict: scorer.Spoof, ProbReal: 0.1,
			Score: -3, Threshold: 0.55, FaceCount: 2, Face: face(scorer.Spoof, 0.1), Image: info,
			Quality: []scorer.QualityCheck{
				{Name: "face_size", Value: 100, Limit: 224},
				{Name: "border", Value: 30, Limit: 15, Passed: true},
				{Name: "face_area", Value: 0.05, Limit: 0.2},
			}},
		{File: "line\nbreak.png", Status: scorer.StatusOK, Verdict: scorer.NoFace, Threshold: 0.55, Image: info},
		{File: "small.png", Status: scorer.StatusOK, Verdict: scorer.Rejected, ProbReal: 0.7, Threshold: 0.55,
			FaceCount: 1, Face: face("", 0.7), Image: info},
		{File: "photo.heic", Status: scorer.StatusError, Error: "decode photo.heic: unsupported format HEIC"},
	}
}

// encode runs results through a new encoder of format f and returns the output.
func encode(t *testing.T, f Format, opts EncoderOptions, results []scorer.Result) string {
	t.Helper()
	var buf bytes.Buffer
	enc, err := NewEncoder(f, &buf, opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := enc.Begin(); err != nil {
		t.Fatal(err)
	}
	var s Summary
	for _, r := range results {
		if err := enc.Write(r); err != nil {
			t.Fatal(err)
		}
		s.Add(r)
	}
	if err := enc.End(s); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

func TestJSONDocument(t *testing.T) {
	for _, n := range []int{0, 1, 5} {
		results := sampleResults()[:n]
		out := encode(t, JSON, EncoderOptions{}, results)
		var doc struct {
			Results []scorer.Result `json:"results"`
			Summary Summary         `json:"summary"`
		}
		dec := json.NewDecoder(strings.NewReader(out))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&doc); err != nil {
			t.Fatalf("%d results: %v\n%s", n, err, out)
		}
		if len(doc.Results) != n {
			t.Fatalf("%d results: decoded %d", n, len(doc.Results))
		}
		if n > 0 && !reflect.DeepEqual(doc.Results, results) {
			t.Errorf("%d results: round trip differs:\n got %+v\nwant %+v", n, doc.Results, results)
		}
		if doc.Summary.Total != n {
			t.Errorf("%d results: summary total %d", n, doc.Summary.Total)
		}
	}
}

// TestJSONFieldNames checks the wire names (snake_case, as serve uses them) of a result and the
// summary.
func TestJSONFieldNames(t *testing.T) {
	out := encode(t, JSON, EncoderOptions{}, sampleResults())
	var doc map[string]any
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	results := doc["results"].([]any)
	first := results[0].(map[string]any)
	for _, k := range []string{"file", "status", "verdict", "prob_real", "score", "threshold",
		"face_count", "face", "image", "timings_ms"} {
		if _, ok := first[k]; !ok {
			t.Errorf("result lacks %q: %v", k, first)
		}
	}
	face := first["face"].(map[string]any)
	for _, k := range []string{"detector_box", "box", "detector_score", "prob_real"} {
		if _, ok := face[k]; !ok {
			t.Errorf("face lacks %q: %v", k, face)
		}
	}
	errRow := results[4].(map[string]any)
	if errRow["status"] != "error" || errRow["error"] != "decode photo.heic: unsupported format HEIC" {
		t.Errorf("error row = %v", errRow)
	}
	summary := doc["summary"].(map[string]any)
	want := map[string]float64{"total": 5, "live": 1, "spoof": 1, "no_face": 1, "rejected": 1, "errors": 1}
	for k, v := range want {
		if summary[k] != v {
			t.Errorf("summary[%q] = %v, want %v", k, summary[k], v)
		}
	}
	if _, ok := summary["elapsed_ms"]; !ok {
		t.Errorf("summary lacks elapsed_ms: %v", summary)
	}
}

func TestNDJSONOneLinePerResult(t *testing.T) {
	results := sampleResults()
	out := encode(t, NDJSON, EncoderOptions{}, results)
	sc := bufio.NewScanner(strings.NewReader(out))
	var i int
	for ; sc.Scan(); i++ {
		var r scorer.Result
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("line %d: %v: %s", i+1, err, sc.Text())
		}
		if i < len(results) && r.File != results[i].File {
			t.Errorf("line %d: file %q, want %q", i+1, r.File, results[i].File)
		}
	}
	if i != len(results) {
		t.Errorf("%d lines for %d results:\n%s", i, len(results), out)
	}
}

func TestCSV(t *testing.T) {
	results := sampleResults()
	out := encode(t, CSV, EncoderOptions{}, results)
	rows, err := csv.NewReader(strings.NewReader(out)).ReadAll() // fails on a ragged row
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if !reflect.DeepEqual(rows[0], CSVHeader()) {
		t.Fatalf("header = %q", rows[0])
	}
	if len(rows) != len(results)+1 {
		t.Fatalf("%d rows for %d results", len(rows), len(results))
	}
	col := map[string]int{}
	for i, name := range rows[0] {
		col[name] = i
	}
	for i, r := range results {
		row := rows[i+1]
		if len(row) != len(CSVHeader()) {
			t.Errorf("row %d has %d columns", i+1, len(row))
		}
		if row[col["file"]] != r.File || row[col["status"]] != string(r.Status) {
			t.Errorf("row %d = %q, want file %q", i+1, row, r.File)
		}
	}
	tests := []struct {
		row        int
		col, value string
	}{
		{1, "verdict", "live"},
		{1, "prob_real", "0.91"},
		{1, "box_w", "101"},
		{1, "total_ms", "12.5"},
		{2, "quality_failed", "face_size;face_area"},
		{3, "verdict", "no_face"},
		{3, "box_x", ""},
		{3, "prob_real", ""}, // no face: no probability, not a probability of 0
		{3, "score", ""},
		{5, "error", "decode photo.heic: unsupported format HEIC"},
		{5, "prob_real", ""},
	}
	for _, tt := range tests {
		if got := rows[tt.row][col[tt.col]]; got != tt.value {
			t.Errorf("row %d %s = %q, want %q", tt.row, tt.col, got, tt.value)
		}
	}
}

func TestTable(t *testing.T) {
	results := sampleResults()
	plain := encode(t, Table, EncoderOptions{}, results)
	for _, want := range []string{"live/a.jpg", "photo.heic", "live", "spoof", "no_face", "rejected",
		"0.910", "11,21 101x121", `line\nbreak.png`, "face_size, face_area", "unsupported format HEIC", "PROB"} {
		if !strings.Contains(plain, want) {
			t.Errorf("table lacks %q:\n%s", want, plain)
		}
	}
	if strings.Contains(plain, "\x1b[") {
		t.Errorf("uncoloured table has ANSI escapes:\n%q", plain)
	}
	colored := encode(t, Table, EncoderOptions{Color: true}, results)
	for _, want := range []string{ansiGreen + "live" + ansiReset, ansiRed + "spoof" + ansiReset, ansiRed + "error" + ansiReset} {
		if !strings.Contains(colored, want) {
			t.Errorf("coloured table lacks %q:\n%s", want, colored)
		}
	}
	// The table must be rectangular: every line of the rendered table has the same width
	// once colour codes are counted out.
	lines := strings.Split(strings.TrimRight(plain, "\n"), "\n")
	width := len([]rune(lines[0]))
	for _, l := range lines {
		if len([]rune(l)) != width {
			t.Errorf("ragged table line %q (want width %d)", l, width)
		}
	}
}

func TestParseFormat(t *testing.T) {
	tests := []struct {
		in      string
		want    Format
		wantErr bool
	}{
		{"table", Table, false},
		{"json", JSON, false},
		{"ndjson", NDJSON, false},
		{"csv", CSV, false},
		{"JSON", "", true},
		{"yaml", "", true},
		{"", "", true},
	}
	for _, tt := range tests {
		got, err := ParseFormat(tt.in)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("ParseFormat(%q) = %q, %v; want %q, error %v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
	if _, err := NewEncoder("xml", &bytes.Buffer{}, EncoderOptions{}); err == nil {
		t.Error("NewEncoder(xml) succeeded")
	}
}

func TestSummaryString(t *testing.T) {
	tests := []struct {
		s    Summary
		want string
	}{
		{Summary{Total: 3, Live: 1, Spoof: 2, ElapsedMS: 1234}, "3 images: 1 live, 2 spoof, 0 no face, 0 errors in 1.2s"},
		{Summary{Total: 1, Errors: 1, ElapsedMS: 40}, "1 image: 0 live, 0 spoof, 0 no face, 1 error in 0.0s"},
		{Summary{Total: 4, Live: 1, NoFace: 1, Rejected: 2, ElapsedMS: 500}, "4 images: 1 live, 0 spoof, 1 no face, 2 rejected, 0 errors in 0.5s"},
		{Summary{Total: 2, Live: 2, ElapsedMS: 2000, Interrupted: true}, "2 images: 2 live, 0 spoof, 0 no face, 0 errors in 2.0s (interrupted)"},
	}
	for _, tt := range tests {
		if got := tt.s.String(); got != tt.want {
			t.Errorf("%+v.String() = %q, want %q", tt.s, got, tt.want)
		}
	}
}

func TestSummaryAdd(t *testing.T) {
	var s Summary
	for _, r := range sampleResults() {
		s.Add(r)
	}
	want := Summary{Total: 5, Live: 1, Spoof: 1, NoFace: 1, Rejected: 1, Errors: 1}
	if s != want {
		t.Errorf("Summary = %+v, want %+v", s, want)
	}
}

// failingWriter accepts limit bytes, then fails every write, as a full disk does.
type failingWriter struct{ limit int }

var errDiskFull = errors.New("no space left on device")

func (w *failingWriter) Write(p []byte) (int, error) {
	if len(p) <= w.limit {
		w.limit -= len(p)
		return len(p), nil
	}
	n := w.limit
	w.limit = 0
	return n, errDiskFull
}

// Every format reports a failed write from Begin, Write or End: the command turns it into
// exit 4. The table writes only at End, the others as they go; either way the error must come
// out, whatever byte the output fails at.
func TestEncodersReportWriteErrors(t *testing.T) {
	results := sampleResults()
	for _, f := range Formats {
		size := len(encode(t, f, EncoderOptions{}, results))
		for _, limit := range []int{0, 1, size / 2, size - 1} {
			enc, err := NewEncoder(f, &failingWriter{limit: limit}, EncoderOptions{})
			if err != nil {
				t.Fatal(err)
			}
			err = enc.Begin()
			var s Summary
			for _, r := range results {
				if err != nil {
					break
				}
				err = enc.Write(r)
				s.Add(r)
			}
			if err == nil {
				err = enc.End(s)
			}
			if !errors.Is(err, errDiskFull) {
				t.Errorf("%s failing after %d bytes: error %v, want the write error", f, limit, err)
			}
		}
	}
}

// CSV cells a spreadsheet would run as formulas are quoted with a leading single quote; the
// numbers (a negative score) are left as numbers.
func TestCSVFormulaInjection(t *testing.T) {
	results := []scorer.Result{
		{File: `=HYPERLINK("http://x","y").jpg`, Status: scorer.StatusOK, Verdict: scorer.Spoof, ProbReal: 0.1, Score: -2.5, Threshold: 0.55},
		{File: "+1.jpg", Status: scorer.StatusError, Error: "@SUM(A1) -x"},
		{File: "-2.jpg", Status: scorer.StatusError, Error: "\t=1"},
		{File: "safe.jpg", Status: scorer.StatusError, Error: "decode safe.jpg: =odd"},
	}
	rows, err := csv.NewReader(strings.NewReader(encode(t, CSV, EncoderOptions{}, results))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range [][2]string{
		{`'=HYPERLINK("http://x","y").jpg`, ""}, {"'+1.jpg", "'@SUM(A1) -x"}, {"'-2.jpg", "'\t=1"}, {"safe.jpg", "decode safe.jpg: =odd"},
	} {
		if got := [2]string{rows[i+1][0], rows[i+1][2]}; got != want {
			t.Errorf("row %d: file, error %q, want %q", i+1, got, want)
		}
	}
	if score := rows[1][5]; score != "-2.5" {
		t.Errorf("score cell %q, want the number -2.5", score)
	}
}

// A file name that is not UTF-8 stays recoverable: JSON and NDJSON add "file_b64" (the name's
// bytes in standard base64) to that result only; the table shows the bad byte as \xNN.
func TestNonUTF8FileName(t *testing.T) {
	name := "photos/caf\xe9.jpg" // Latin-1 é
	results := []scorer.Result{{File: name, Status: scorer.StatusError, Error: "decode: bad"}, {File: "ok.jpg", Status: scorer.StatusError, Error: "x"}}
	for _, f := range []Format{NDJSON, JSON} {
		out := encode(t, f, EncoderOptions{}, results)
		if strings.Count(out, `"file_b64"`) != 1 {
			t.Errorf("%s: %d file_b64 fields, want 1:\n%s", f, strings.Count(out, `"file_b64"`), out)
		}
		var recs []map[string]any
		if f == JSON {
			var doc struct{ Results []map[string]any }
			if err := json.Unmarshal([]byte(out), &doc); err != nil {
				t.Fatalf("%s: %v\n%s", f, err, out)
			}
			recs = doc.Results
		} else {
			for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
				var m map[string]any
				if err := json.Unmarshal([]byte(line), &m); err != nil {
					t.Fatalf("%s: %v: %s", f, err, line)
				}
				recs = append(recs, m)
			}
		}
		b64, _ := recs[0]["file_b64"].(string)
		got, err := base64.StdEncoding.DecodeString(b64)
		if err != nil || string(got) != name || recs[0]["status"] != "error" {
			t.Errorf("%s: file_b64 %q decodes to %q (%v), want the name's bytes; record %v", f, b64, got, err, recs[0])
		}
	}
	if out := encode(t, Table, EncoderOptions{}, results[:1]); !strings.Contains(out, `photos/caf\xe9.jpg`) {
		t.Errorf("table does not show the bad byte:\n%s", out)
	}
}
