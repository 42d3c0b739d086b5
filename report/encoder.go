// Package report writes liveness results for people and programs: the table, JSON, NDJSON and
// CSV encoders shared by check, eval and serve (all over the one scorer.Result schema), and the
// summary counts that close a run. Its sub-packages own what eval reports: metrics (the
// ISO/IEC 30107-3 rates), dataset (labelled datasets), scorefile (score files), grouping
// (--group-by), compare (--compare) and html (the offline report).
package report

import (
	"fmt"
	"io"
	"strings"

	"github.com/spoofsense/spoofsense/scorer"
)

// Format names an output format.
type Format string

// Output formats.
const (
	// Table is a human-readable table; rows are held until End, so it suits a terminal, not
	// millions of rows.
	Table Format = "table"
	// JSON is one document {"results":[…],"summary":{…}}, written as results arrive.
	JSON Format = "json"
	// NDJSON is one result object per line and no summary, for jq and log pipelines.
	NDJSON Format = "ndjson"
	// CSV is a header row then one row per result in the CSVHeader column order (RFC 4180).
	CSV Format = "csv"
)

// Formats lists every format, in the order help texts show them.
var Formats = []Format{Table, JSON, NDJSON, CSV}

// ParseFormat returns the format named s.
func ParseFormat(s string) (Format, error) {
	for _, f := range Formats {
		if string(f) == s {
			return f, nil
		}
	}
	return "", fmt.Errorf("unknown output format %q (want %s)", s, FormatList())
}

// FormatList returns the format names as "table|json|ndjson|csv".
func FormatList() string {
	names := make([]string, len(Formats))
	for i, f := range Formats {
		names[i] = string(f)
	}
	return strings.Join(names, "|")
}

// Streams reports whether the format writes each result as soon as it is given one (everything
// but Table).
func (f Format) Streams() bool { return f != Table }

// EncoderOptions tune an encoder. The zero value writes plain output.
type EncoderOptions struct {
	// Color lets the table colour verdicts with ANSI escapes. Other formats ignore it.
	Color bool
}

// An Encoder writes a stream of results: Begin once, Write for each result in the order they
// should appear, End once with the run's summary. Encoders are not safe for concurrent use.
type Encoder interface {
	Begin() error
	Write(r scorer.Result) error
	End(s Summary) error
}

// NewEncoder returns an encoder writing format f to w.
func NewEncoder(f Format, w io.Writer, opts EncoderOptions) (Encoder, error) {
	switch f {
	case Table:
		return newTableEncoder(w, opts), nil
	case JSON:
		return newJSONEncoder(w), nil
	case NDJSON:
		return newNDJSONEncoder(w), nil
	case CSV:
		return newCSVEncoder(w), nil
	}
	return nil, fmt.Errorf("unknown output format %q (want %s)", f, FormatList())
}
