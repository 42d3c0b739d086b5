package scorer

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

// jsonKeys returns the top-level keys of a JSON object in the order they appear.
func jsonKeys(t *testing.T, b []byte) []string {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(string(b)))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		t.Fatalf("%s: not a JSON object (%v)", b, err)
	}
	var keys []string
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, tok.(string))
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			t.Fatal(err)
		}
	}
	return keys
}

// TestResultJSON: a result's JSON carries prob_real and score only when a face was scored, an
// error row is just file, status and error, and the fields keep their declaration order.
func TestResultJSON(t *testing.T) {
	face := &Face{Verdict: Spoof, ProbReal: 0.2}
	tests := []struct {
		name string
		res  Result
		want []string
	}{
		{"live", Result{File: "a.jpg", Status: StatusOK, Verdict: Live, ProbReal: 0.9, Score: 2, Threshold: 0.55, FaceCount: 1, Face: face, CropPolicy: "multi"},
			[]string{"file", "status", "verdict", "prob_real", "score", "threshold", "face_count", "face", "crop_policy", "image", "timings_ms"}},
		// A probability of exactly 0 and a score of 0 are still measurements.
		{"spoof at zero", Result{Status: StatusOK, Verdict: Spoof, FaceCount: 1, Face: face},
			[]string{"status", "verdict", "prob_real", "score", "threshold", "face_count", "face", "image", "timings_ms"}},
		{"rejected", Result{Status: StatusOK, Verdict: Rejected, ProbReal: 0.9, FaceCount: 2, Face: face},
			[]string{"status", "verdict", "prob_real", "score", "threshold", "face_count", "face", "image", "timings_ms"}},
		{"no face", Result{File: "b.png", Status: StatusOK, Verdict: NoFace, Threshold: 0.55},
			[]string{"file", "status", "verdict", "threshold", "face_count", "image", "timings_ms"}},
		{"error", Result{File: "c.jpg", Status: StatusError, Error: "decode c.jpg: unexpected EOF", Threshold: 0.55},
			[]string{"file", "status", "error"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := json.Marshal(tt.res)
			if err != nil {
				t.Fatal(err)
			}
			if got := jsonKeys(t, b); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("keys %v, want %v\n%s", got, tt.want, b)
			}
			// What was written reads back as the same result (an error keeps what it says).
			var back Result
			if err := json.Unmarshal(b, &back); err != nil {
				t.Fatal(err)
			}
			want := tt.res
			if want.Status == StatusError {
				want = Result{File: want.File, Status: want.Status, Error: want.Error}
			}
			if !reflect.DeepEqual(back, want) {
				t.Errorf("round trip: got %+v, want %+v", back, want)
			}
		})
	}
}
