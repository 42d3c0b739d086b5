package report

import (
	"encoding/csv"
	"io"
	"strconv"
	"strings"

	"github.com/spoofsense/spoofsense/scorer"
)

// CSVHeader returns the csv format's columns, in order. The order is stable: new columns are
// only ever appended. Numeric cells are empty when they do not apply (an error row has no
// verdict or probability; a face-less image has no probability, score or box).
func CSVHeader() []string {
	return []string{
		"file", "status", "error", "verdict", "prob_real", "score", "threshold",
		"face_count", "box_x", "box_y", "box_w", "box_h", "detector_score",
		"quality_failed", "crop_policy", "box_mode",
		"width", "height", "format", "exif_orientation", "bytes", "total_ms",
	}
}

// csvEncoder writes a header row and one row per result, flushing each so rows stream.
type csvEncoder struct {
	w   *csv.Writer
	row []string
}

func newCSVEncoder(w io.Writer) *csvEncoder {
	return &csvEncoder{w: csv.NewWriter(w)}
}

func (e *csvEncoder) Begin() error { return e.writeRow(CSVHeader()) }

func (e *csvEncoder) Write(r scorer.Result) error { return e.writeRow(e.record(r)) }

func (e *csvEncoder) End(Summary) error { return nil }

func (e *csvEncoder) writeRow(row []string) error {
	if err := e.w.Write(row); err != nil {
		return err
	}
	e.w.Flush()
	return e.w.Error()
}

// record lays r out in CSVHeader order, reusing the encoder's row slice.
func (e *csvEncoder) record(r scorer.Result) []string {
	row := e.row[:0]
	row = append(row, csvText(r.File), string(r.Status), csvText(r.Error))
	if r.Status == scorer.StatusError {
		for len(row) < len(CSVHeader()) {
			row = append(row, "")
		}
		e.row = row
		return row
	}
	prob, score := "", ""
	if r.Scored() {
		prob, score = formatFloat(r.ProbReal), formatFloat(r.Score)
	}
	row = append(row, string(r.Verdict), prob, score, formatFloat(r.Threshold), strconv.Itoa(r.FaceCount))
	if f := r.Face; f != nil {
		row = append(row, strconv.Itoa(f.Box.X), strconv.Itoa(f.Box.Y), strconv.Itoa(f.Box.W),
			strconv.Itoa(f.Box.H), formatFloat(f.DetectorScore))
	} else {
		row = append(row, "", "", "", "", "")
	}
	row = append(row, strings.Join(FailedChecks(r), ";"), r.CropPolicy, r.BoxMode,
		strconv.Itoa(r.Image.Width), strconv.Itoa(r.Image.Height), csvText(r.Image.Format),
		strconv.Itoa(r.Image.Orientation), strconv.FormatInt(r.Image.Bytes, 10),
		formatFloat(r.Timings.Total))
	e.row = row
	return row
}

// csvText makes a text cell safe to open in a spreadsheet: a cell starting with =, +, -, @, a
// tab or a carriage return would be taken for a formula (a file named "=HYPERLINK(…).jpg"), so
// it gets a leading single quote, which spreadsheets show as text and do not display (the
// OWASP advice). Numeric cells are left alone: a score of -3.4 is a number.
func csvText(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

func formatFloat(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

// FailedChecks returns the names of r's quality checks that did not pass, in result order.
func FailedChecks(r scorer.Result) []string {
	var names []string
	for _, q := range r.Quality {
		if !q.Passed {
			names = append(names, q.Name)
		}
	}
	return names
}
