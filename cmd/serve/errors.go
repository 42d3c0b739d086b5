package serve

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"
)

// Error codes: the stable, machine-readable "error" field of every error answer. Clients switch
// on these; the "message" beside them is for people and may change.
const (
	codeMalformedJSON        = "malformed_json"
	codeMissingData          = "missing_data"
	codeMissingImage         = "missing_image"
	codeInvalidBase64        = "invalid_base64"
	codeInvalidParameter     = "invalid_parameter"
	codeIncompleteBody       = "incomplete_body"
	codeUnauthorized         = "unauthorized"
	codeNotFound             = "not_found"
	codeMethodNotAllowed     = "method_not_allowed"
	codeBodyTooLarge         = "body_too_large"
	codeUnsupportedMediaType = "unsupported_media_type"
	codeUnreadableImage      = "unreadable_image"
	codeInternal             = "internal"
	codeBusy                 = "busy"
	codeNotReady             = "not_ready"
	codeTimeout              = "timeout"
	codeClientClosed         = "client_closed"
)

// statusClientClosedRequest is what the logs and metrics record when the client went away
// before an answer was ready (nginx's convention); no client ever sees it.
const statusClientClosedRequest = 499

// apiError is one error answer: the HTTP status, a stable code and a message for people.
type apiError struct {
	Status  int
	Code    string
	Message string
	// RetryAfter, when positive, is sent as the Retry-After header (whole seconds, rounded up).
	RetryAfter time.Duration
}

func (e *apiError) Error() string { return e.Code + ": " + e.Message }

// errorBody is the JSON form of an error answer.
type errorBody struct {
	Error     string `json:"error"`
	Message   string `json:"message"`
	RequestID string `json:"request_id,omitempty"`
}

// writeError answers r with e as JSON and records the code for the request log.
func writeError(w http.ResponseWriter, r *http.Request, e *apiError) {
	st := stateOf(r.Context())
	st.errCode = e.Code
	if e.RetryAfter > 0 {
		secs := int((e.RetryAfter + time.Second - 1) / time.Second)
		w.Header().Set("Retry-After", strconv.Itoa(secs))
	}
	writeJSON(w, e.Status, errorBody{Error: e.Code, Message: e.Message, RequestID: st.id})
}

// writeJSON answers with v encoded as JSON and the given status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		// Every value written here is a plain struct of strings and numbers; a failure is a bug
		// (e.g. a NaN probability) and must still produce JSON, not a half-written answer.
		status = http.StatusInternalServerError
		b, _ = json.Marshal(errorBody{Error: codeInternal, Message: "could not encode the answer",
			RequestID: w.Header().Get("X-Request-Id")}) // set by the middleware
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)+1))
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}
