package report

import (
	"bytes"
	"encoding/json"
	"io"

	"github.com/spoofsense/spoofsense/scorer"
)

// jsonEncoder writes one JSON document, {"results":[…],"summary":{…}}, streaming each result as
// it is written so memory stays flat however many results there are.
type jsonEncoder struct {
	w   io.Writer
	buf bytes.Buffer
	enc *json.Encoder // encodes into buf
	n   int           // results written so far
}

func newJSONEncoder(w io.Writer) *jsonEncoder {
	e := &jsonEncoder{w: w}
	e.enc = json.NewEncoder(&e.buf)
	e.enc.SetEscapeHTML(false)
	return e
}

func (e *jsonEncoder) Begin() error {
	_, err := io.WriteString(e.w, `{"results":[`)
	return err
}

func (e *jsonEncoder) Write(r scorer.Result) error {
	e.buf.Reset()
	if e.n > 0 {
		e.buf.WriteByte(',')
	}
	e.buf.WriteString("\n  ")
	if err := e.enc.Encode(r); err != nil {
		return err
	}
	e.buf.Truncate(e.buf.Len() - 1) // Encode's trailing newline
	e.n++
	_, err := e.w.Write(e.buf.Bytes())
	return err
}

func (e *jsonEncoder) End(s Summary) error {
	e.buf.Reset()
	if e.n > 0 {
		e.buf.WriteByte('\n')
	}
	e.buf.WriteString("],\n\"summary\":")
	if err := e.enc.Encode(s); err != nil {
		return err
	}
	e.buf.Truncate(e.buf.Len() - 1)
	e.buf.WriteString("}\n")
	_, err := e.w.Write(e.buf.Bytes())
	return err
}

// ndjsonEncoder writes one result object per line. The summary is not part of the stream.
type ndjsonEncoder struct {
	enc *json.Encoder
}

func newNDJSONEncoder(w io.Writer) *ndjsonEncoder {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return &ndjsonEncoder{enc: enc}
}

func (e *ndjsonEncoder) Begin() error                { return nil }
func (e *ndjsonEncoder) Write(r scorer.Result) error { return e.enc.Encode(r) }
func (e *ndjsonEncoder) End(Summary) error           { return nil }
