package report

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/tw"

	"github.com/spoofsense/spoofsense/scorer"
)

// ANSI colours for verdicts in the table.
const (
	ansiReset  = "\x1b[0m"
	ansiRed    = "\x1b[31m"
	ansiGreen  = "\x1b[32m"
	ansiYellow = "\x1b[33m"
)

// tableHeader names the table's columns.
func tableHeader() []any {
	return []any{"file", "verdict", "prob_real", "score", "faces", "box", "quality warnings"}
}

// tableEncoder collects rows and renders one table at End, so that a progress bar drawn while
// scoring never interleaves with it. Rows are kept as strings, a few hundred bytes each.
type tableEncoder struct {
	w     io.Writer
	color bool
	rows  [][]string
}

func newTableEncoder(w io.Writer, opts EncoderOptions) *tableEncoder {
	return &tableEncoder{w: w, color: opts.Color}
}

func (e *tableEncoder) Begin() error { return nil }

func (e *tableEncoder) Write(r scorer.Result) error {
	e.rows = append(e.rows, e.row(r))
	return nil
}

func (e *tableEncoder) End(Summary) error {
	// tablewriter does not report a failed write (a full disk, a closed pipe): errWriter keeps
	// the first one, so that `check -o table > /dev/full` fails as every other format does.
	w := &errWriter{w: e.w}
	t := tablewriter.NewTable(w,
		tablewriter.WithRowAutoWrap(tw.WrapNone),
		tablewriter.WithRowAlignmentConfig(tw.CellAlignment{PerColumn: []tw.Align{
			tw.AlignLeft, tw.AlignLeft, tw.AlignRight, tw.AlignRight, tw.AlignRight, tw.AlignLeft, tw.AlignLeft,
		}}),
	)
	t.Header(tableHeader()...)
	for _, row := range e.rows {
		if err := t.Append(row); err != nil {
			return fmt.Errorf("table: %w", err)
		}
	}
	e.rows = nil
	if err := t.Render(); err != nil {
		return err
	}
	return w.err
}

// errWriter passes writes on to w until one fails, then keeps that error and drops the rest.
type errWriter struct {
	w   io.Writer
	err error
}

func (w *errWriter) Write(p []byte) (int, error) {
	if w.err != nil {
		return 0, w.err
	}
	n, err := w.w.Write(p)
	if err == nil && n < len(p) {
		err = io.ErrShortWrite
	}
	w.err = err
	return n, err
}

func (e *tableEncoder) row(r scorer.Result) []string {
	file := printable(r.File)
	if r.Status == scorer.StatusError {
		return []string{file, e.paint(ansiRed, "error"), "", "", "", "", printable(r.Error)}
	}
	prob, score, box := "", "", ""
	if r.Scored() {
		prob = strconv.FormatFloat(r.ProbReal, 'f', 3, 64)
		score = strconv.FormatFloat(r.Score, 'f', 2, 64)
	}
	if r.Face != nil {
		b := r.Face.Box
		box = fmt.Sprintf("%d,%d %dx%d", b.X, b.Y, b.W, b.H)
	}
	return []string{
		file,
		e.paint(verdictColor(r.Verdict), string(r.Verdict)),
		prob,
		score,
		strconv.Itoa(r.FaceCount),
		box,
		printable(strings.Join(FailedChecks(r), ", ")),
	}
}

// printable escapes control characters (a newline in a file name, an escape sequence in an
// error) so that each row stays one line and cannot drive the terminal.
func printable(s string) string {
	if !strings.ContainsFunc(s, unicode.IsControl) && utf8.ValidString(s) {
		return s
	}
	var b strings.Builder
	for i, r := range s {
		if r == utf8.RuneError {
			if _, size := utf8.DecodeRuneInString(s[i:]); size == 1 {
				fmt.Fprintf(&b, `\x%02x`, s[i]) // a byte that is not UTF-8, as a shell would quote it
				continue
			}
		}
		if unicode.IsControl(r) {
			q := strconv.QuoteRune(r)
			b.WriteString(q[1 : len(q)-1])
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

func verdictColor(v scorer.Verdict) string {
	switch v {
	case scorer.Live:
		return ansiGreen
	case scorer.Spoof:
		return ansiRed
	}
	return ansiYellow
}

func (e *tableEncoder) paint(color, s string) string {
	if !e.color || s == "" {
		return s
	}
	return color + s + ansiReset
}
