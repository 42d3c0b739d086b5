package serve

import (
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"time"
)

// requestState is what the middleware and a handler share about one request: its id, and what
// the handler wants in the request's log line.
type requestState struct {
	id       string
	errCode  string
	verdict  string
	probReal *float64
	// channel is the calibration profile channel the request's API key is bound to; decided
	// the one whose threshold decided (for the log line).
	channel string
	decided string
}

type stateKey struct{}

// stateOf returns the request's state; outside the middleware (never in practice) a throwaway.
func stateOf(ctx context.Context) *requestState {
	if st, ok := ctx.Value(stateKey{}).(*requestState); ok {
		return st
	}
	return &requestState{}
}

// requestID returns the client's X-Request-Id when it is a sane token (1–128 printable ASCII
// characters without spaces), else a new random one.
func requestID(r *http.Request) string {
	id := r.Header.Get("X-Request-Id")
	if len(id) == 0 || len(id) > 128 {
		return rand.Text()
	}
	for i := 0; i < len(id); i++ {
		if id[i] <= ' ' || id[i] > '~' {
			return rand.Text()
		}
	}
	return id
}

// statusRecorder remembers the status and size of an answer.
type statusRecorder struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (w *statusRecorder) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusRecorder) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach the connection's writer.
func (w *statusRecorder) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// common wraps every route: request id (X-Request-Id in and out), in-flight gauge, panic
// recovery into a JSON 500, one structured log line and the request metrics. Nothing of the
// request body is logged.
func (s *Server) common(route string, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		st := &requestState{id: requestID(r)}
		r = r.WithContext(context.WithValue(r.Context(), stateKey{}, st))
		w.Header().Set("X-Request-Id", st.id)
		rec := &statusRecorder{ResponseWriter: w}
		s.metrics.inFlight.Inc()
		defer func() {
			s.metrics.inFlight.Dec()
			status := rec.status
			if status == 0 {
				status = http.StatusOK
			}
			if st.errCode == codeClientClosed {
				status = statusClientClosedRequest
			}
			elapsed := time.Since(start)
			s.metrics.observeRequest(route, r.Method, status, elapsed.Seconds())
			s.logRequest(r, route, st, status, rec.bytes, elapsed)
		}()
		defer s.recoverPanic(rec, r)
		h.ServeHTTP(rec, r)
	})
}

// recoverPanic turns a handler panic into a JSON 500 (when nothing was written yet) and an error
// log line with the stack; the client never sees the stack.
func (s *Server) recoverPanic(w *statusRecorder, r *http.Request) {
	v := recover()
	if v == nil {
		return
	}
	if v == http.ErrAbortHandler {
		panic(v) // the documented way to abort a response; net/http handles it
	}
	st := stateOf(r.Context())
	s.log.Error("panic serving request", "request_id", st.id, "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
	if w.status != 0 {
		panic(http.ErrAbortHandler) // the answer is half written: cut the connection
	}
	writeError(w, r, &apiError{Status: http.StatusInternalServerError, Code: codeInternal,
		Message: "internal error; the request id identifies it in the server log"})
}

// logRequest writes the request's one log line.
func (s *Server) logRequest(r *http.Request, route string, st *requestState, status int, bytesOut int64, d time.Duration) {
	level := slog.LevelInfo
	switch {
	case status >= 500:
		level = slog.LevelWarn
	case route == "/healthz" || route == "/readyz" || route == "/metrics":
		level = slog.LevelDebug // probes every few seconds would drown the log
	}
	if !s.log.Enabled(r.Context(), level) {
		return
	}
	attrs := []slog.Attr{
		slog.String("request_id", st.id),
		slog.String("method", r.Method),
		slog.String("path", r.URL.Path),
		slog.String("route", route),
		slog.Int("status", status),
		slog.Int64("bytes_in", r.ContentLength),
		slog.Int64("bytes_out", bytesOut),
		slog.Float64("duration_ms", float64(d.Microseconds())/1000),
		slog.String("remote", r.RemoteAddr),
	}
	if st.errCode != "" {
		attrs = append(attrs, slog.String("error", st.errCode))
	}
	if st.verdict != "" {
		attrs = append(attrs, slog.String("verdict", st.verdict))
	}
	if st.probReal != nil {
		attrs = append(attrs, slog.Float64("prob_real", *st.probReal))
	}
	if st.decided != "" {
		attrs = append(attrs, slog.String("channel", st.decided))
	}
	s.log.LogAttrs(context.WithoutCancel(r.Context()), level, "request", attrs...)
}

// protect requires a valid x-api-key header when keys are configured.
func (s *Server) protect(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if s.keys.enabled() {
			key := r.Header.Get("x-api-key")
			if key == "" {
				writeError(w, r, &apiError{Status: http.StatusUnauthorized, Code: codeUnauthorized,
					Message: "missing API key: send it in the x-api-key header"})
				return
			}
			channel, ok := s.keys.lookup(key)
			if !ok {
				writeError(w, r, &apiError{Status: http.StatusUnauthorized, Code: codeUnauthorized,
					Message: "invalid API key"})
				return
			}
			stateOf(r.Context()).channel = channel
		}
		h(w, r)
	}
}
