package serve

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"runtime"
	"slices"
	"strconv"
	"strings"

	"github.com/spoofsense/spoofsense/models"
	"github.com/spoofsense/spoofsense/preprocess"
	"github.com/spoofsense/spoofsense/scorer"
	"github.com/spoofsense/spoofsense/scorer/profile"
)

// The messages of POST /antispoofing. The first three are the commercial API's, byte for byte
// (PIPELINE §4); the last two answer cases its documentation does not cover.
const (
	msgSuccess       = "Process finished successfully"
	msgNoFace        = "face not detected"
	msgInvalidBase64 = "Invalid base64 string"
	msgInvalidImage  = "Invalid image"
	msgRejected      = "image rejected by the face policy or a quality check"
)

// Labels of model_output.pred_idx.
const (
	predReal  = "real"
	predSpoof = "spoof"
)

// antispoofingResponse is the commercial API's answer.
type antispoofingResponse struct {
	Success     bool         `json:"success"`
	Message     string       `json:"message"`
	ModelOutput *modelOutput `json:"model_output,omitempty"`
}

type modelOutput struct {
	PredIdx  string  `json:"pred_idx"`
	ProbReal float64 `json:"prob_real"`
}

// handleAntispoofing serves POST /antispoofing, the commercial contract: JSON {"data": base64}
// in; success, message and model_output out. Its decision is the commercial one, real when
// prob_real > threshold (strictly), where /v1/check and the CLI say live when prob_real ≥ it.
func (s *Server) handleAntispoofing(w http.ResponseWriter, r *http.Request) {
	// text/plain is what a browser's fetch sends with a string body and no header set.
	if mt := mediaType(r); mt != "application/json" && mt != "text/plain" && mt != "" {
		writeError(w, r, &apiError{Status: http.StatusUnsupportedMediaType, Code: codeUnsupportedMediaType,
			Message: "send a JSON body {\"data\": \"<base64 image>\"} with Content-Type: application/json"})
		return
	}
	if aerr := s.precheck(w, r); aerr != nil {
		writeError(w, r, aerr)
		return
	}
	img, _, b64, aerr := s.readImage(w, r, "json")
	st := stateOf(r.Context())
	switch {
	case b64 != nil:
		st.errCode = codeInvalidBase64
		writeJSON(w, http.StatusOK, antispoofingResponse{Message: msgInvalidBase64})
		return
	case aerr != nil:
		writeError(w, r, aerr)
		return
	}
	defer img.Release()
	release, aerr := s.admit()
	if aerr != nil {
		writeError(w, r, aerr)
		return
	}
	defer release()
	threshold := s.cfg.Scorer.Threshold
	if d, ok, aerr := s.channelDecision("", st.channel); aerr != nil {
		writeError(w, r, aerr)
		return
	} else if ok {
		threshold = d.Threshold
		setDecisionHeaders(w, d)
		st.decided = d.Channel
	}
	res, aerr := s.scoreImage(r, img, "", s.cfg.Scorer)
	if aerr != nil {
		if aerr.Code == codeUnreadableImage {
			st.errCode = aerr.Code
			writeJSON(w, http.StatusOK, antispoofingResponse{Message: msgInvalidImage})
			return
		}
		writeError(w, r, aerr)
		return
	}
	verdict := res.Verdict
	var answer antispoofingResponse
	switch res.Verdict {
	case scorer.Live, scorer.Spoof:
		// The commercial contract's rule: real when prob_real > threshold (scorer.Above).
		pred := predSpoof
		verdict = scorer.Policy{Threshold: threshold, Rule: scorer.Above}.Decide(res.ProbReal)
		if verdict == scorer.Live {
			pred = predReal
		}
		answer = antispoofingResponse{Success: true, Message: msgSuccess,
			ModelOutput: &modelOutput{PredIdx: pred, ProbReal: res.ProbReal}}
		st.probReal = &res.ProbReal
	case scorer.NoFace:
		answer = antispoofingResponse{Message: msgNoFace}
	default:
		answer = antispoofingResponse{Message: msgRejected}
	}
	st.verdict = string(verdict)
	s.metrics.observeResult("/antispoofing", res, verdict)
	writeJSON(w, http.StatusOK, answer)
}

// handleCheck serves POST /v1/check: the full scorer.Result (the schema of `check -o json`)
// for an image sent raw (image/* or application/octet-stream), as the multipart field "image",
// or as JSON {"data": base64}. Query parameters threshold, faces, crops and box override the
// server's defaults for this request.
func (s *Server) handleCheck(w http.ResponseWriter, r *http.Request) {
	opts, threshold, channel, aerr := s.checkOptions(r.URL.Query())
	if aerr != nil {
		writeError(w, r, aerr)
		return
	}
	var decision *profile.Decision
	if threshold == nil {
		// Without ?threshold=, the profile (when there is one) decides at the channel's.
		d, ok, aerr := s.channelDecision(channel, stateOf(r.Context()).channel)
		if aerr == nil && ok {
			aerr = s.checkProfileOptions(opts)
		}
		if aerr != nil {
			writeError(w, r, aerr)
			return
		}
		if ok {
			decision = &d
		}
	}
	mt := mediaType(r)
	form := ""
	switch {
	case strings.HasPrefix(mt, "image/") || mt == "application/octet-stream":
		form = "raw"
	case mt == "multipart/form-data":
		form = "multipart"
	case mt == "application/json":
		form = "json"
	default:
		writeError(w, r, &apiError{Status: http.StatusUnsupportedMediaType, Code: codeUnsupportedMediaType,
			Message: "send the image raw (Content-Type image/* or application/octet-stream), as the " +
				"multipart/form-data field \"image\", or as application/json {\"data\": \"<base64>\"}"})
		return
	}
	if aerr := s.precheck(w, r); aerr != nil {
		writeError(w, r, aerr)
		return
	}
	img, name, b64, aerr := s.readImage(w, r, form)
	if b64 != nil {
		aerr = &apiError{Status: http.StatusBadRequest, Code: codeInvalidBase64,
			Message: "the \"data\" field is not valid base64: " + b64.Error()}
	}
	if aerr != nil {
		writeError(w, r, aerr)
		return
	}
	defer img.Release()
	release, aerr := s.admit()
	if aerr != nil {
		writeError(w, r, aerr)
		return
	}
	defer release()
	res, aerr := s.scoreImage(r, img, name, opts)
	if aerr != nil {
		writeError(w, r, aerr)
		return
	}
	if threshold != nil {
		res = withThreshold(res, *threshold)
	}
	if decision != nil && res.Status == scorer.StatusOK {
		res = withThreshold(res, decision.Threshold)
		res.Channel = decision.Channel
		stateOf(r.Context()).decided = decision.Channel
	}
	st := stateOf(r.Context())
	st.verdict = string(res.Verdict)
	if res.Verdict == scorer.Live || res.Verdict == scorer.Spoof {
		st.probReal = &res.ProbReal
	}
	s.metrics.observeResult("/v1/check", res, res.Verdict)
	writeJSON(w, http.StatusOK, res)
}

// checkOptions reads the query parameters of /v1/check. The threshold is returned apart: it does
// not need a scorer of its own and is applied to the result by withThreshold.
func (s *Server) checkOptions(q url.Values) (scorer.Options, *float64, string, *apiError) {
	opts := s.cfg.Scorer
	var (
		threshold *float64
		channel   string
	)
	bad := func(format string, a ...any) (scorer.Options, *float64, string, *apiError) {
		return opts, nil, "", &apiError{Status: http.StatusBadRequest, Code: codeInvalidParameter, Message: fmt.Sprintf(format, a...)}
	}
	for name, vals := range q {
		v := vals[len(vals)-1]
		switch name {
		case "threshold":
			t, err := scorer.ParseThreshold("threshold", v)
			if err != nil {
				return bad("%v", err)
			}
			threshold = &t
		case "faces":
			p, err := scorer.ParseFaces(v)
			if err != nil {
				return bad("%v", err)
			}
			opts.Faces = p
		case "crops":
			p, err := scorer.ParseCrops(v)
			if err != nil {
				return bad("%v", err)
			}
			opts.Crops = p
		case "box":
			m, err := scorer.ParseBox(v)
			if err != nil {
				return bad("%v", err)
			}
			opts.Box = m
		case "nets":
			nets, err := scorer.ParseNets(v)
			if err != nil {
				return bad("%v", err)
			}
			if nets == nil {
				nets = models.AntiSpoofNames()
			}
			opts.Nets = nets
		case "channel":
			if v == "" {
				return bad("channel: empty; name a channel of the calibration profile")
			}
			channel = v
		default:
			return bad("unknown query parameter %q (known: threshold, faces, crops, box, nets, channel)", name)
		}
	}
	if threshold != nil && channel != "" {
		return bad("give threshold or channel, not both")
	}
	return opts, threshold, channel, nil
}

// withThreshold returns res decided again at threshold t: live when prob_real ≥ t, for the image
// and for each face. Non-responses (no_face, rejected) stay as they are.
func withThreshold(res scorer.Result, t float64) scorer.Result {
	decide := scorer.Policy{Threshold: t, Rule: scorer.AtLeast}.Redecide
	res.Threshold = t
	res.Verdict = decide(res.Verdict, res.ProbReal)
	if res.Face != nil {
		f := *res.Face
		f.Verdict = decide(f.Verdict, f.ProbReal)
		res.Face = &f
	}
	if res.Faces != nil {
		faces := slices.Clone(res.Faces)
		for i := range faces {
			faces[i].Verdict = decide(faces[i].Verdict, faces[i].ProbReal)
		}
		res.Faces = faces
	}
	return res
}

// precheck answers before any byte of the body is kept: 413 for a declared length over the
// limit, 503 before the warm-up (once the body was read and dropped, so that the client reads
// the answer rather than a reset).
func (s *Server) precheck(w http.ResponseWriter, r *http.Request) *apiError {
	if aerr := s.checkLength(r); aerr != nil {
		return aerr
	}
	if !s.Ready() {
		drain(http.MaxBytesReader(w, r.Body, s.cfg.MaxBodyBytes))
		return &apiError{Status: http.StatusServiceUnavailable, Code: codeNotReady,
			Message: "the models are still loading; retry shortly", RetryAfter: DefaultRetryAfter}
	}
	return nil
}

// admit takes an admission slot for a request whose image was read; the caller must call
// release. It answers 503 busy when every slot is taken. Admission comes after the body, so a
// client that is slow to upload never holds a slot that scoring needs.
func (s *Server) admit() (release func(), aerr *apiError) {
	if !s.adm.tryEnter() {
		return nil, &apiError{Status: http.StatusServiceUnavailable, Code: codeBusy,
			Message: "the inference queue is full; retry shortly", RetryAfter: DefaultRetryAfter}
	}
	return s.adm.leave, nil
}

// scoreImage scores img with a scorer for opts, waiting for a worker; the wait and the inference
// together are bounded by the request timeout and end when the client goes away.
func (s *Server) scoreImage(r *http.Request, img *imageBuffer, name string, opts scorer.Options) (scorer.Result, *apiError) {
	ctx, cancel := context.WithTimeout(r.Context(), s.cfg.RequestTimeout)
	defer cancel()
	if err := s.adm.acquireWorker(ctx); err != nil {
		return scorer.Result{}, s.contextError(r)
	}
	defer s.adm.releaseWorker()
	sc, err := s.scorers.get(ctx, opts)
	if err != nil {
		if ctx.Err() != nil {
			return scorer.Result{}, s.contextError(r)
		}
		s.log.Error("build scorer", "request_id", stateOf(r.Context()).id, "err", err)
		return scorer.Result{}, &apiError{Status: http.StatusInternalServerError, Code: codeInternal,
			Message: "could not load the models for these options"}
	}
	pixels := imagePixels(img)
	if err := s.pixels.acquire(ctx, pixels); err != nil {
		return scorer.Result{}, s.contextError(r)
	}
	defer s.pixels.release(pixels)
	res, err := sc.ScoreReader(ctx, img.Reader(), name)
	if err != nil {
		if ctx.Err() != nil {
			return scorer.Result{}, s.contextError(r)
		}
		return scorer.Result{}, s.scoreError(r, err)
	}
	return res, nil
}

// contextError is the answer when the request's context ended: the client left (logged as 499)
// or the request timeout passed (503).
func (s *Server) contextError(r *http.Request) *apiError {
	if r.Context().Err() != nil {
		return &apiError{Status: http.StatusServiceUnavailable, Code: codeClientClosed,
			Message: "the client closed the request"}
	}
	return &apiError{Status: http.StatusServiceUnavailable, Code: codeTimeout,
		Message:    fmt.Sprintf("no answer within the request timeout of %s; retry later", s.cfg.RequestTimeout),
		RetryAfter: DefaultRetryAfter}
}

// scoreError maps a scoring failure. Input the decoder refused or could not read
// (*scorer.InputError) is the client's: 413 for an image over the decoder's byte limit, 422
// otherwise. A failure after the image was decoded (the detector or a net) is ours: 500, logged.
func (s *Server) scoreError(r *http.Request, err error) *apiError {
	var inputErr *scorer.InputError
	switch {
	case errors.Is(err, preprocess.ErrTooLarge):
		return &apiError{Status: http.StatusRequestEntityTooLarge, Code: codeBodyTooLarge, Message: err.Error()}
	case errors.As(err, &inputErr):
		return &apiError{Status: http.StatusUnprocessableEntity, Code: codeUnreadableImage, Message: err.Error()}
	}
	s.log.Error("score", "request_id", stateOf(r.Context()).id, "err", err)
	return &apiError{Status: http.StatusInternalServerError, Code: codeInternal,
		Message: "scoring failed; the request id identifies it in the server log"}
}

// handleHealthz answers 200 while the process serves.
func (s *Server) handleHealthz(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// handleReadyz answers 200 once the models are loaded and the self-test passed; 503 before, from
// the stop signal on (so that an orchestrator sends no new work while in-flight work drains), and
// 503 busy while the server is saturated (every admission slot taken, or less than one body left
// of the buffer budget), so that a load balancer sends new clients elsewhere.
func (s *Server) handleReadyz(w http.ResponseWriter, r *http.Request) {
	if s.draining.Load() {
		writeError(w, r, &apiError{Status: http.StatusServiceUnavailable, Code: codeNotReady,
			Message: "shutting down: finishing the requests in flight"})
		return
	}
	if s.Ready() {
		if msg := s.saturation(); msg != "" {
			writeError(w, r, &apiError{Status: http.StatusServiceUnavailable, Code: codeBusy, Message: msg})
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
		return
	}
	msg := "warming up: loading the models and running the self-test"
	s.mu.Lock()
	if s.warmErr != nil {
		msg = "warm-up failed: " + s.warmErr.Error()
	}
	s.mu.Unlock()
	writeError(w, r, &apiError{Status: http.StatusServiceUnavailable, Code: codeNotReady, Message: msg})
}

// saturation says why the server cannot take another request now, "" when it can.
func (s *Server) saturation() string {
	if n, max := s.adm.admitted(), cap(s.adm.slots); n >= max {
		return fmt.Sprintf("saturated: all %d admission slots are taken", max)
	}
	if used := s.budget.inUse(); s.budget.limit-used < s.cfg.MaxBodyBytes {
		return fmt.Sprintf("saturated: %d of %d bytes of the upload buffer are held", used, s.budget.limit)
	}
	return ""
}

// versionResponse is the body of GET /version.
type versionResponse struct {
	Version string                `json:"version"`
	Go      string                `json:"go"`
	Models  []scorer.ModelVersion `json:"models,omitempty"`
}

func (s *Server) handleVersion(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	v := versionResponse{Version: s.cfg.Version, Go: runtime.Version(), Models: s.modelsVer}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, v)
}

// openAPIDoc is the OpenAPI 3 description of every route; a test keeps it and the routes equal.
//
//go:embed openapi.yaml
var openAPIDoc []byte

func (s *Server) handleOpenAPI(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/yaml")
	w.Header().Set("Content-Length", strconv.Itoa(len(openAPIDoc)))
	_, _ = w.Write(openAPIDoc)
}
