package serve

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// The request parsers of serve, fuzzed: the streaming JSON body parser (against encoding/json
// and the base64 decoding it replaced), the multipart reader and the query parameters. They
// must never panic, never buffer more than the body limit, and answer every input with a JSON
// error or a result. `make fuzz-short` runs each for a bounded time.

// oracleBase64JSON is how bodies were read before the streaming parser: json.Unmarshal into
// {"data": *string}, then base64 with white space and a data-URL header dropped.
func oracleBase64JSON(body []byte) (img []byte, jsonOK bool, b64err error) {
	var req struct {
		Data *string `json:"data"`
	}
	if err := json.Unmarshal(body, &req); err != nil || req.Data == nil || *req.Data == "" {
		return nil, false, nil
	}
	s := *req.Data
	if strings.HasPrefix(s, "data:") {
		if i := strings.Index(s, ";base64,"); i >= 0 {
			s = s[i+len(";base64,"):]
		}
	}
	s = strings.Map(func(r rune) rune {
		if r == ' ' || r == '\t' || r == '\r' || r == '\n' {
			return -1
		}
		return r
	}, s)
	enc := base64.StdEncoding
	if len(s)%4 != 0 {
		enc = base64.RawStdEncoding
	}
	b, err := enc.DecodeString(s)
	if err == nil && len(b) == 0 {
		err = errors.New("empty image")
	}
	return b, true, err
}

// dataKeys counts the top-level keys equal to "data" in any ASCII case, or -1 when body is not
// a JSON object.
func dataKeys(body []byte) int {
	dec := json.NewDecoder(bytes.NewReader(body))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return -1
	}
	n := 0
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return -1
		}
		if k, _ := tok.(string); strings.EqualFold(k, "data") && !strings.ContainsFunc(k, func(r rune) bool { return r > 0x7f }) {
			n++
		}
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return -1
		}
	}
	return n
}

func FuzzJSONBody(f *testing.F) {
	for _, s := range []string{
		b64JSON(imgLive), `{"data":"` + wrap76(base64Std(imgLive+"xyz")) + `"}`, `{"data":"data:image/png;base64,` + base64Std(imgSpoof) + `"}`,
		`{"data":"QQ==QUFB"}`, `{"data":"QQ"}`, `{"data":"\u0051\u0051=="}`, `{"DATA":"QUFB","x":[1,{"y":null}]}`,
		`{"data":"QUFB","Data":"QUFB"}`, "\xEF\xBB\xBF{\"data\":\"QUFB\"}", `{"data":5}`, `null`, `{"a":-0.5e+7,"data":"QUFB"}`,
		`{"data":"\/\/\/\/"}`, `{"data":"QUFB\uD83D\uDE00"}`, `[]`, `{"data":"QUFB"} x`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		budget := newByteBudget(1 << 30)
		buf := newImageBuffer(budget, int64(len(body))+1)
		defer buf.Release()
		err := parseBase64JSON(bytes.NewReader(body), buf)
		if buf.Len() > int64(len(body)) {
			t.Fatalf("decoded %d bytes from a %d-byte body", buf.Len(), len(body))
		}
		// Compare with encoding/json where the rules are meant to agree: a valid object with
		// exactly one data key, no byte order mark, shallow nesting.
		if bytes.HasPrefix(body, []byte("\xEF\xBB\xBF")) || bytes.Count(body, []byte("[")) > 100 || bytes.Count(body, []byte("{")) > 100 {
			return
		}
		keys := dataKeys(body)
		img, jsonOK, b64err := oracleBase64JSON(body)
		var je *jsonBodyError
		var be *base64Error
		switch {
		case keys > 1:
			if !errors.As(err, &je) {
				t.Fatalf("%d data keys: error %v, want a refusal", keys, err)
			}
		case !jsonOK:
			if err == nil {
				t.Fatalf("encoding/json refuses the body (or it has no data) but it was accepted: %q", buf.Bytes())
			}
		case bytes.Contains(body, []byte(`\u`)) || bytes.Contains(body, []byte(";base64,")):
			// Escapes of non-ASCII runes and data-URL headers past dataURLHeadMax may differ in
			// detail; both must still refuse or accept alike in the common case, not checked here.
		case b64err != nil:
			if !errors.As(err, &be) {
				t.Fatalf("base64 refused by the old decoder (%v) but got %v", b64err, err)
			}
		default:
			if err != nil {
				t.Fatalf("accepted by encoding/json and base64 but refused: %v", err)
			}
			if !bytes.Equal(buf.Bytes(), img) {
				t.Fatalf("decoded %q, want %q", buf.Bytes(), img)
			}
		}
	})
}

// fuzzServer is one warmed-up server with the fake scorer and a small body limit.
func fuzzServer(f *testing.F) *Server {
	fake := newFakeControl()
	s, err := New(Config{NewScorer: fake.newScorer, MaxBodyBytes: 1 << 16, MaxInflight: 2, Queue: 4})
	if err != nil {
		f.Fatal(err)
	}
	if err := s.Warmup(f.Context()); err != nil {
		f.Fatal(err)
	}
	return s
}

// checkAnswer fails unless rec holds a well-formed answer of POST /v1/check.
func checkAnswer(t *testing.T, rec *httptest.ResponseRecorder) {
	t.Helper()
	if rec.Code >= 500 && rec.Code != http.StatusServiceUnavailable {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	if !json.Valid(rec.Body.Bytes()) {
		t.Fatalf("status %d, answer is not JSON: %q", rec.Code, rec.Body)
	}
	if rec.Code != http.StatusOK {
		var e errorBody
		_ = json.Unmarshal(rec.Body.Bytes(), &e)
		if e.Error == "" || e.Message == "" || e.RequestID == "" {
			t.Fatalf("status %d: error answer %s lacks code, message or request id", rec.Code, rec.Body)
		}
	}
}

func FuzzMultipart(f *testing.F) {
	s := fuzzServer(f)
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	_ = mw.SetBoundary("XyZ")
	w, _ := mw.CreateFormField("note")
	_, _ = w.Write([]byte("hello"))
	w, _ = mw.CreateFormFile("image", "a.jpg")
	_, _ = w.Write([]byte(imgLive))
	_ = mw.Close()
	f.Add(buf.Bytes())
	f.Add([]byte("--XyZ\r\nContent-Disposition: form-data; name=\"image\"\r\n\r\n\r\n--XyZ--\r\n"))
	f.Add([]byte("--XyZ\r\n\r\n--XyZ--"))
	f.Fuzz(func(t *testing.T, body []byte) {
		req := httptest.NewRequest(http.MethodPost, "/v1/check", bytes.NewReader(body))
		req.Header.Set("Content-Type", "multipart/form-data; boundary=XyZ")
		rec := httptest.NewRecorder()
		s.Handler().ServeHTTP(rec, req)
		checkAnswer(t, rec)
	})
}

func FuzzQuery(f *testing.F) {
	s := fuzzServer(f)
	for _, q := range []string{"threshold=0.7", "threshold=NaN", "threshold=1e-320", "faces=all&crops=single&box=mapped",
		"threshold=0.5&threshold=0.9", "x=1", "threshold=%zz", ";", "crops="} {
		f.Add(q)
	}
	f.Fuzz(func(t *testing.T, rawQuery string) {
		req := httptest.NewRequest(http.MethodPost, "/v1/check", strings.NewReader(imgSpoof))
		req.URL.RawQuery = rawQuery
		req.Header.Set("Content-Type", "image/jpeg")
		rec := httptest.NewRecorder()
		s.Handler().ServeHTTP(rec, req)
		checkAnswer(t, rec)
		if rec.Code == http.StatusOK {
			var res struct {
				Verdict   string  `json:"verdict"`
				Threshold float64 `json:"threshold"`
			}
			_ = json.Unmarshal(rec.Body.Bytes(), &res)
			if res.Verdict == "live" { // the fake spoof scores 0.12: only a threshold ≤ 0.12 makes it live
				if !(res.Threshold > 0 && res.Threshold <= probSpoof) {
					t.Fatalf("spoof answered live at threshold %v", res.Threshold)
				}
			}
		}
	})
}
