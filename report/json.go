package report

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io"
	"unicode/utf8"

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
	if err := encodeResult(e.enc, r); err != nil {
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
func (e *ndjsonEncoder) Write(r scorer.Result) error { return encodeResult(e.enc, r) }
func (e *ndjsonEncoder) End(Summary) error           { return nil }

// encodeResult encodes r. A file name that is not valid UTF-8 cannot go through JSON intact
// ("file" gets U+FFFD for each bad byte), so such a result also carries "file_b64": the
// standard base64 of the name's bytes, from which the exact path can be recovered
// (jq -r .file_b64 | base64 -d).
func encodeResult(enc *json.Encoder, r scorer.Result) error {
	if utf8.ValidString(r.File) {
		return enc.Encode(r)
	}
	return enc.Encode(resultWithFileBytes{r})
}

// resultWithFileBytes is a result whose file name is not UTF-8: its JSON and "file_b64".
type resultWithFileBytes struct{ r scorer.Result }

func (w resultWithFileBytes) MarshalJSON() ([]byte, error) {
	b, err := json.Marshal(w.r)
	if err != nil {
		return nil, err
	}
	b = bytes.TrimSuffix(bytes.TrimSpace(b), []byte("}"))
	if len(bytes.TrimSpace(b)) > 1 {
		b = append(b, ',')
	}
	b = append(b, `"file_b64":"`...)
	b = base64.StdEncoding.AppendEncode(b, []byte(w.r.File))
	return append(b, `"}`...), nil
}
