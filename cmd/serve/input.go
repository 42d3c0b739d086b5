package serve

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
)

// mediaType is the request's Content-Type without parameters, lower case ("" when absent).
func mediaType(r *http.Request) string {
	ct := r.Header.Get("Content-Type")
	if ct == "" {
		return ""
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return "invalid"
	}
	return mt
}

// tooLarge is the 413 answer for a body over limit bytes.
func tooLarge(limit int64) *apiError {
	return &apiError{Status: http.StatusRequestEntityTooLarge, Code: codeBodyTooLarge,
		Message: fmt.Sprintf("request body is larger than %d bytes", limit)}
}

// checkLength refuses at once a body whose declared length is over the limit, before any slot
// is taken or byte read.
func (s *Server) checkLength(r *http.Request) *apiError {
	if r.ContentLength > s.cfg.MaxBodyBytes {
		return tooLarge(s.cfg.MaxBodyBytes)
	}
	return nil
}

// readBody reads the whole body, at most MaxBodyBytes of it.
func (s *Server) readBody(w http.ResponseWriter, r *http.Request) ([]byte, *apiError) {
	body := http.MaxBytesReader(w, r.Body, s.cfg.MaxBodyBytes)
	var buf bytes.Buffer
	if r.ContentLength > 0 {
		buf.Grow(int(r.ContentLength) + bytes.MinRead)
	}
	if _, err := buf.ReadFrom(body); err != nil {
		return nil, bodyError(err, s.cfg.MaxBodyBytes)
	}
	return buf.Bytes(), nil
}

// bodyError maps a failure reading the body: over the limit (413) or cut short (400).
func bodyError(err error, limit int64) *apiError {
	if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
		return tooLarge(limit)
	}
	return &apiError{Status: http.StatusBadRequest, Code: codeIncompleteBody,
		Message: "could not read the request body: " + err.Error()}
}

// base64Request is the JSON body of POST /antispoofing (and the JSON form of POST /v1/check).
type base64Request struct {
	Data *string `json:"data"`
}

// parseBase64Request decodes the JSON body and returns the base64 text of its data field.
func parseBase64Request(body []byte) (string, *apiError) {
	var req base64Request
	if err := json.Unmarshal(body, &req); err != nil {
		return "", &apiError{Status: http.StatusBadRequest, Code: codeMalformedJSON,
			Message: "request body is not valid JSON: " + err.Error()}
	}
	if req.Data == nil || *req.Data == "" {
		return "", &apiError{Status: http.StatusBadRequest, Code: codeMissingData,
			Message: `request body has no "data" field holding the base64 image`}
	}
	return *req.Data, nil
}

// decodeBase64 decodes standard base64, padded or not; line breaks and spaces (as the base64
// tool writes them) and a data-URL prefix ("data:image/jpeg;base64,") are accepted.
func decodeBase64(s string) ([]byte, error) {
	if strings.HasPrefix(s, "data:") {
		if i := strings.Index(s, ";base64,"); i >= 0 {
			s = s[i+len(";base64,"):]
		}
	}
	if strings.ContainsAny(s, " \t\r\n") {
		s = strings.Map(func(r rune) rune {
			if r == ' ' || r == '\t' || r == '\r' || r == '\n' {
				return -1
			}
			return r
		}, s)
	}
	enc := base64.StdEncoding
	if len(s)%4 != 0 {
		enc = base64.RawStdEncoding
	}
	b, err := enc.DecodeString(s)
	if err != nil {
		return nil, err
	}
	if len(b) == 0 {
		return nil, errors.New("empty image")
	}
	return b, nil
}

// readMultipartImage returns the bytes and file name of the multipart form field "image";
// other fields are skipped.
func (s *Server) readMultipartImage(w http.ResponseWriter, r *http.Request) ([]byte, string, *apiError) {
	r.Body = http.MaxBytesReader(w, r.Body, s.cfg.MaxBodyBytes)
	mr, err := r.MultipartReader()
	if err != nil {
		return nil, "", &apiError{Status: http.StatusBadRequest, Code: codeMissingImage,
			Message: "malformed multipart body: " + err.Error()}
	}
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			return nil, "", &apiError{Status: http.StatusBadRequest, Code: codeMissingImage,
				Message: `multipart body has no "image" field`}
		}
		if err != nil {
			if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
				return nil, "", tooLarge(s.cfg.MaxBodyBytes)
			}
			return nil, "", &apiError{Status: http.StatusBadRequest, Code: codeMissingImage,
				Message: "malformed multipart body: " + err.Error()}
		}
		if part.FormName() != "image" {
			_ = part.Close()
			continue
		}
		img, err := io.ReadAll(part)
		if err != nil {
			return nil, "", bodyError(err, s.cfg.MaxBodyBytes)
		}
		if len(img) == 0 {
			return nil, "", &apiError{Status: http.StatusBadRequest, Code: codeMissingImage,
				Message: `the multipart "image" field is empty`}
		}
		return img, part.FileName(), nil
	}
}
