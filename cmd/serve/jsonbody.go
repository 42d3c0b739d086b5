package serve

import (
	"bufio"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"unicode/utf16"
	"unicode/utf8"
)

// The JSON body {"data": "<base64 image>"} is parsed as it streams in: the base64 text of
// "data" is decoded straight into the request's image buffer and never held whole, and other
// members are checked and skipped without being kept. The rules are encoding/json's (one
// object, any members, "data" matched without regard to case) with three deliberate
// differences: a UTF-8 byte order mark before the object is skipped; more than one "data" key
// (in any case: "data" and "DATA") is refused, since a proxy or audit log that reads the first
// would see another image than the one scored; and nesting is limited to maxJSONDepth.

// maxJSONDepth bounds the nesting of skipped values.
const maxJSONDepth = 512

// dataURLHeadMax is how far into "data" a data-URL header ("data:image/jpeg;base64,") is looked
// for.
const dataURLHeadMax = 1024

// jsonBodyError is a body that is not the JSON the route wants: 400 with code.
type jsonBodyError struct {
	code string
	msg  string
}

func (e *jsonBodyError) Error() string { return e.msg }

// base64Error is a "data" string that is not base64 (in a body that is otherwise valid JSON).
type base64Error struct{ msg string }

func (e *base64Error) Error() string { return e.msg }

// readError wraps a failure of the body reader itself (over the limit, cut short) or of the
// image buffer (budget spent), as opposed to a problem with the JSON.
type readError struct{ err error }

func (e *readError) Error() string { return e.err.Error() }
func (e *readError) Unwrap() error { return e.err }

var errEndOfInput = errors.New("unexpected end of JSON input")

// parseBase64JSON reads one JSON object from r and decodes the base64 text of its "data" member
// into out. The error is a *jsonBodyError (not JSON, no data, duplicate data), a *base64Error
// (data is not base64; only once the whole body proved to be valid JSON) or a *readError.
func parseBase64JSON(r io.Reader, out io.Writer) error {
	p := &jsonParser{r: bufio.NewReaderSize(r, 4<<10)} // small: a slow upload holds it
	err := p.parse(out)
	var re *readError
	switch {
	case errors.As(err, &re):
		return err
	case err != nil:
		return &jsonBodyError{code: codeMalformedJSON, msg: "request body is not valid JSON: " + err.Error()}
	case p.dataKeys > 1:
		return &jsonBodyError{code: codeMalformedJSON,
			msg: fmt.Sprintf(`request body has %d "data" keys (%s); send exactly one`, p.dataKeys, p.dataNames)}
	case p.dec == nil || p.dec.raw == 0:
		return &jsonBodyError{code: codeMissingData, msg: `request body has no "data" field holding the base64 image`}
	}
	return p.dec.finish()
}

type jsonParser struct {
	r   *bufio.Reader
	off int64 // bytes read, for error messages
	// dataKeys counts the members named "data" in any case, dataNames lists them.
	dataKeys  int
	dataNames string
	dec       *base64Stream
}

func (p *jsonParser) next() (byte, error) {
	c, err := p.r.ReadByte()
	if err == io.EOF {
		return 0, errEndOfInput
	}
	if err != nil {
		return 0, &readError{err}
	}
	p.off++
	return c, nil
}

func (p *jsonParser) unread() {
	_ = p.r.UnreadByte()
	p.off--
}

// space returns the next byte that is not JSON white space.
func (p *jsonParser) space() (byte, error) {
	for {
		c, err := p.next()
		if err != nil || (c != ' ' && c != '\t' && c != '\r' && c != '\n') {
			return c, err
		}
	}
}

func (p *jsonParser) syntax(c byte, context string) error {
	return fmt.Errorf("invalid character %q %s (offset %d)", c, context, p.off)
}

func (p *jsonParser) parse(out io.Writer) error {
	if head, _ := p.r.Peek(3); len(head) == 3 && head[0] == 0xEF && head[1] == 0xBB && head[2] == 0xBF {
		_, _ = p.r.Discard(3) // a UTF-8 byte order mark, as some Windows tools write
	}
	c, err := p.space()
	if err != nil {
		return err
	}
	switch c {
	case 'n': // null: no data, as encoding/json decodes it into an empty request
		if err := p.literal("ull"); err != nil {
			return err
		}
	case '{':
		if err := p.object(out); err != nil {
			return err
		}
	default:
		return p.syntax(c, "looking for the beginning of an object")
	}
	c, err = p.space()
	switch {
	case err == errEndOfInput:
		return nil
	case err != nil:
		return err
	}
	return p.syntax(c, "after the top-level object")
}

// memberKey parses an object member's key, whose opening quote is c, into sink, then the colon
// after it, and returns the first byte of the value.
func (p *jsonParser) memberKey(c byte, sink func(byte) error) (byte, error) {
	if c != '"' {
		return c, p.syntax(c, "looking for the beginning of an object key")
	}
	if err := p.str(sink); err != nil {
		return c, err
	}
	c, err := p.space()
	if err != nil {
		return c, err
	}
	if c != ':' {
		return c, p.syntax(c, "after an object key")
	}
	return p.space()
}

// object parses the members of the top-level object, after its '{'.
func (p *jsonParser) object(out io.Writer) error {
	c, err := p.space()
	if err != nil || c == '}' {
		return err
	}
	for {
		var key keySink
		if c, err = p.memberKey(c, key.add); err != nil {
			return err
		}
		if key.isData() {
			p.dataKeys++
			if p.dataNames != "" {
				p.dataNames += ", "
			}
			p.dataNames += fmt.Sprintf("%q", key.name())
			switch {
			case c == 'n':
				if err := p.literal("ull"); err != nil {
					return err
				}
			case c != '"':
				return fmt.Errorf(`"data" must be a string of base64, not a value starting with %q`, c)
			case p.dec != nil: // a second data key: checked, not decoded
				if err := p.str(func(byte) error { return nil }); err != nil {
					return err
				}
			default:
				p.dec = newBase64Stream(out)
				if err := p.str(p.dec.add); err != nil {
					return err
				}
			}
		} else if err := p.value(c, 1); err != nil {
			return err
		}
		if c, err = p.space(); err != nil {
			return err
		}
		switch c {
		case '}':
			return nil
		case ',':
			if c, err = p.space(); err != nil {
				return err
			}
		default:
			return p.syntax(c, "after an object member")
		}
	}
}

// literal reads the rest of true, false or null.
func (p *jsonParser) literal(rest string) error {
	for i := range len(rest) {
		c, err := p.next()
		if err != nil {
			return err
		}
		if c != rest[i] {
			return p.syntax(c, "in a literal")
		}
	}
	return nil
}

// value checks and skips one value starting with c.
func (p *jsonParser) value(c byte, depth int) error {
	if depth > maxJSONDepth {
		return fmt.Errorf("values nested deeper than %d", maxJSONDepth)
	}
	switch {
	case c == '"':
		return p.str(func(byte) error { return nil })
	case c == 't':
		return p.literal("rue")
	case c == 'f':
		return p.literal("alse")
	case c == 'n':
		return p.literal("ull")
	case c == '-' || c >= '0' && c <= '9':
		return p.number(c)
	case c == '{' || c == '[':
		closing := byte('}')
		if c == '[' {
			closing = ']'
		}
		c, err := p.space()
		if err != nil || c == closing {
			return err
		}
		for {
			if closing == '}' {
				if c, err = p.memberKey(c, func(byte) error { return nil }); err != nil {
					return err
				}
			}
			if err := p.value(c, depth+1); err != nil {
				return err
			}
			if c, err = p.space(); err != nil {
				return err
			}
			switch c {
			case closing:
				return nil
			case ',':
				if c, err = p.space(); err != nil {
					return err
				}
			default:
				return p.syntax(c, "after a value in an object or array")
			}
		}
	}
	return p.syntax(c, "looking for the beginning of a value")
}

// number checks one JSON number whose first byte is c.
func (p *jsonParser) number(c byte) error {
	digits := func(first bool) error { // one or more digits, the first already read when first
		n := 0
		if first {
			n = 1
		}
		for {
			c, err := p.r.ReadByte()
			if err == io.EOF {
				break
			}
			if err != nil {
				return &readError{err}
			}
			p.off++
			if c < '0' || c > '9' {
				p.unread()
				break
			}
			n++
		}
		if n == 0 {
			return errors.New("malformed number")
		}
		return nil
	}
	if c == '-' {
		var err error
		if c, err = p.next(); err != nil {
			return err
		}
	}
	switch {
	case c == '0':
	case c >= '1' && c <= '9':
		if err := digits(true); err != nil {
			return err
		}
	default:
		return p.syntax(c, "in numeric literal")
	}
	for _, part := range []string{".", "eE"} {
		c, err := p.r.ReadByte()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return &readError{err}
		}
		p.off++
		if c != part[0] && (len(part) < 2 || c != part[1]) {
			p.unread()
			continue
		}
		if part == "eE" {
			if s, err := p.r.ReadByte(); err == nil {
				p.off++
				if s != '+' && s != '-' {
					p.unread()
				}
			}
		}
		if err := digits(false); err != nil {
			return err
		}
	}
	return nil
}

// str reads a string after its opening quote and hands each byte of its value to sink.
func (p *jsonParser) str(sink func(byte) error) error {
	var ubuf [utf8.UTFMax]byte
	emit := func(r rune) error {
		n := utf8.EncodeRune(ubuf[:], r)
		for _, b := range ubuf[:n] {
			if err := sink(b); err != nil {
				return err
			}
		}
		return nil
	}
	for {
		c, err := p.next()
		if err != nil {
			return err
		}
		switch {
		case c == '"':
			return nil
		case c < 0x20:
			return p.syntax(c, "in string literal")
		case c != '\\':
			if err := sink(c); err != nil {
				return err
			}
			continue
		}
		e, err := p.next()
		if err != nil {
			return err
		}
		switch e {
		case '"', '\\', '/':
			err = sink(e)
		case 'b':
			err = sink('\b')
		case 'f':
			err = sink('\f')
		case 'n':
			err = sink('\n')
		case 'r':
			err = sink('\r')
		case 't':
			err = sink('\t')
		case 'u':
			var r rune
			if r, err = p.hex4(); err != nil {
				return err
			}
			if utf16.IsSurrogate(r) {
				r2 := utf8.RuneError
				if head, _ := p.r.Peek(2); len(head) == 2 && head[0] == '\\' && head[1] == 'u' {
					_, _ = p.r.Discard(2)
					p.off += 2
					var lo rune
					if lo, err = p.hex4(); err != nil {
						return err
					}
					if r2 = utf16.DecodeRune(r, lo); r2 == utf8.RuneError {
						// Not a pair: the first is invalid, the second stands alone.
						if err = emit(utf8.RuneError); err != nil {
							return err
						}
						r2 = lo
						if utf16.IsSurrogate(lo) {
							r2 = utf8.RuneError
						}
					}
				}
				r = r2
			}
			err = emit(r)
		default:
			return p.syntax(e, "in string escape code")
		}
		if err != nil {
			return err
		}
	}
}

func (p *jsonParser) hex4() (rune, error) {
	var r rune
	for range 4 {
		c, err := p.next()
		if err != nil {
			return 0, err
		}
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c -= 'a' - 10
		case c >= 'A' && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, p.syntax(c, "in \\u hexadecimal character escape")
		}
		r = r<<4 | rune(c)
	}
	return r, nil
}

// keySink collects an object key, enough of it to tell whether it is "data" in any case.
type keySink struct {
	buf [8]byte
	n   int
}

func (k *keySink) add(c byte) error {
	if k.n < len(k.buf) {
		k.buf[k.n] = c
	}
	k.n++
	return nil
}

func (k *keySink) isData() bool {
	if k.n != 4 {
		return false
	}
	for i, want := range []byte("data") {
		if c := k.buf[i]; c != want && c != want-'a'+'A' {
			return false
		}
	}
	return true
}

func (k *keySink) name() string { return string(k.buf[:min(k.n, len(k.buf))]) }

// base64Stream decodes standard base64, padded or not, as it is fed, writing the bytes to out.
// White space (as the base64 tool writes it) is skipped, and a data-URL header
// ("data:image/jpeg;base64,") at the start is dropped. A write error of out stops it and is
// returned as a *readError; a decoding error is kept and the rest of the text is only counted.
type base64Stream struct {
	out    io.Writer
	raw    int64 // bytes of the JSON string's value seen
	head   []byte
	inHead bool
	buf    [4096]byte // base64 text not yet decoded; decoded whenever full
	n      int
	dst    [3072]byte
	padded bool  // a decoded group ended with '=': nothing may follow
	total  int64 // bytes decoded
	err    error // the text is not base64
}

func newBase64Stream(out io.Writer) *base64Stream { return &base64Stream{out: out, inHead: true} }

func (d *base64Stream) add(c byte) error {
	d.raw++
	if d.inHead {
		d.head = append(d.head, c)
		if !d.headDone() {
			return nil
		}
		head := d.head
		d.inHead, d.head = false, nil
		for _, c := range head {
			if err := d.text(c); err != nil {
				return err
			}
		}
		return nil
	}
	return d.text(c)
}

// headDone looks at the bytes collected so far: false while they may still be the start of a
// data-URL header; true once they are not one (they are then decoded) or the header is
// complete (it is then dropped from d.head).
func (d *base64Stream) headDone() bool {
	const prefix, marker = "data:", ";base64,"
	h := d.head
	if len(h) <= len(prefix) {
		return string(h) != prefix[:len(h)]
	}
	if string(h[:len(prefix)]) != prefix {
		return true
	}
	if len(h) >= len(marker) && string(h[len(h)-len(marker):]) == marker {
		d.head = d.head[:0]
		return true
	}
	return len(h) >= dataURLHeadMax // no marker: decoded as it is (and refused)
}

// text takes one byte of base64 text.
func (d *base64Stream) text(c byte) error {
	if d.err != nil {
		return nil
	}
	if c == ' ' || c == '\t' || c == '\r' || c == '\n' {
		return nil
	}
	d.buf[d.n] = c
	d.n++
	if d.n == len(d.buf) {
		return d.flush(base64.StdEncoding)
	}
	return nil
}

func (d *base64Stream) flush(enc *base64.Encoding) error {
	if d.n == 0 {
		return nil
	}
	src := d.buf[:d.n]
	if d.padded {
		d.err = errors.New("illegal base64 data after the padding")
		return nil
	}
	n, err := enc.Decode(d.dst[:], src)
	if err != nil {
		if ce, ok := errors.AsType[base64.CorruptInputError](err); ok {
			err = base64.CorruptInputError(d.total/3*4 + int64(ce)) // offset in the whole text
		}
		d.err = err
		return nil
	}
	d.padded = src[len(src)-1] == '='
	d.n = 0
	d.total += int64(n)
	if _, err := d.out.Write(d.dst[:n]); err != nil {
		return &readError{err}
	}
	return nil
}

// finish decodes what is left at the end of the string.
func (d *base64Stream) finish() error {
	if d.inHead {
		head := d.head
		d.inHead, d.head = false, nil
		for _, c := range head {
			if err := d.text(c); err != nil {
				return err
			}
		}
	}
	enc := base64.StdEncoding
	if d.n%4 != 0 {
		enc = base64.RawStdEncoding
	}
	if err := d.flush(enc); err != nil {
		return err
	}
	switch {
	case d.err != nil:
		return &base64Error{d.err.Error()}
	case d.total == 0:
		return &base64Error{"empty image"}
	}
	return nil
}
