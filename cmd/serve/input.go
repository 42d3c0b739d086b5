package serve

import (
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
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

// readImage reads the request's image, in the given form ("raw", "multipart" or "json"), into
// a buffer counted against the server's body budget; the caller must Release it. A "data" string
// that is not base64 (in an otherwise valid JSON body) is returned apart as b64, for the routes
// to answer in their own ways. A request whose bytes do not fit in the budget gets 503 busy,
// after the rest of its body was read and dropped.
func (s *Server) readImage(w http.ResponseWriter, r *http.Request, form string) (img *imageBuffer, name string, b64 *base64Error, aerr *apiError) {
	s.uploading.Add(1)
	defer s.uploading.Add(-1)
	body := http.MaxBytesReader(w, r.Body, s.cfg.MaxBodyBytes)
	img = newImageBuffer(s.budget, s.cfg.MaxBodyBytes)
	var err error
	switch form {
	case "raw":
		_, err = io.Copy(img, body)
		if err == nil && img.Len() == 0 {
			aerr = &apiError{Status: http.StatusBadRequest, Code: codeMissingImage, Message: "the request body is empty"}
		}
	case "json":
		err = parseBase64JSON(body, img)
	case "multipart":
		r.Body = body
		name, aerr = s.readMultipartImage(r, img)
		if aerr == nil && img.Len() == 0 {
			aerr = &apiError{Status: http.StatusBadRequest, Code: codeMissingImage,
				Message: `the multipart "image" field is empty`}
		}
	}
	if err != nil {
		aerr = s.bodyError(err, body)
		if be, ok := errors.AsType[*base64Error](err); ok {
			aerr, b64 = nil, be
		}
	}
	if aerr != nil || b64 != nil {
		img.Release()
		return nil, "", b64, aerr
	}
	return img, name, nil, nil
}

// bodyError maps a failure reading the body: over the limit (413), the buffer budget spent
// (503, once the rest of the body was dropped), not the JSON wanted (400) or cut short (400).
func (s *Server) bodyError(err error, body io.Reader) *apiError {
	if je, ok := errors.AsType[*jsonBodyError](err); ok {
		return &apiError{Status: http.StatusBadRequest, Code: je.code, Message: je.msg}
	}
	if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
		return tooLarge(s.cfg.MaxBodyBytes)
	}
	if errors.Is(err, errBudget) {
		drain(body)
		s.metrics.budgetRefusals.Inc()
		return &apiError{Status: http.StatusServiceUnavailable, Code: codeBusy,
			Message: "the server holds as many uploaded images as it may; retry shortly", RetryAfter: DefaultRetryAfter}
	}
	return &apiError{Status: http.StatusBadRequest, Code: codeIncompleteBody,
		Message: "could not read the request body: " + err.Error()}
}

// readMultipartImage copies the multipart form field "image" into img and returns its file
// name; other fields are skipped.
func (s *Server) readMultipartImage(r *http.Request, img *imageBuffer) (string, *apiError) {
	mr, err := r.MultipartReader()
	if err != nil {
		return "", &apiError{Status: http.StatusBadRequest, Code: codeMissingImage,
			Message: "malformed multipart body: " + err.Error()}
	}
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			return "", &apiError{Status: http.StatusBadRequest, Code: codeMissingImage,
				Message: `multipart body has no "image" field`}
		}
		if err != nil {
			if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
				return "", tooLarge(s.cfg.MaxBodyBytes)
			}
			return "", &apiError{Status: http.StatusBadRequest, Code: codeMissingImage,
				Message: "malformed multipart body: " + err.Error()}
		}
		if part.FormName() != "image" {
			_ = part.Close()
			continue
		}
		if _, err := io.Copy(img, part); err != nil {
			return "", s.bodyError(err, r.Body)
		}
		return part.FileName(), nil
	}
}
