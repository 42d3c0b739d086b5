package serve

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"log/slog"
	"net"
	"net/http"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/spoofsense/spoofsense/cmd/cmdutil"
	"github.com/spoofsense/spoofsense/preprocess"
	"github.com/spoofsense/spoofsense/scorer"
	"github.com/spoofsense/spoofsense/scorer/profile"
)

// ImageScorer scores one encoded image; *scorer.Scorer is one. The server holds the scorers it
// uses through this interface so that tests can run it without models.
type ImageScorer = cmdutil.ImageScorer

// NewScorerFunc builds a scorer with the given options (loading and verifying the models).
type NewScorerFunc = cmdutil.NewScorerFunc

// Defaults of the Config fields whose zero value means "default".
const (
	DefaultMaxBodyBytes    = 10 << 20 // 10485760, the commercial API's documented limit
	DefaultQueue           = 64
	DefaultMaxScorers      = 4
	DefaultReadTimeout     = 30 * time.Second
	DefaultRequestTimeout  = 60 * time.Second
	DefaultIdleTimeout     = 120 * time.Second
	DefaultShutdownTimeout = 30 * time.Second
	// DefaultRetryAfter is what a 503 tells the client to wait before retrying.
	DefaultRetryAfter = time.Second
)

// Config configures a Server. Zero values mean the documented defaults.
type Config struct {
	// NewScorer builds scorers; required.
	NewScorer NewScorerFunc
	// Scorer are the default options (threshold, face, crop and box policies, models dir).
	Scorer scorer.Options
	// APIKeys, when non-empty, are the keys the POST routes accept in the x-api-key header.
	APIKeys []string
	// KeyChannels binds API keys to channels of Profile: /antispoofing requests with such a key
	// are decided at its channel's threshold, and /v1/check ones without ?channel= too.
	KeyChannels map[string]string
	// Profile, when set, is the calibration profile whose channel thresholds decide (read from
	// ProfileFile, named in errors); it must fit the models and Scorer settings, or New fails.
	Profile     *profile.Profile
	ProfileFile string
	// Logger receives one line per request and the server's own events; nil discards them.
	Logger *slog.Logger
	// Version is reported by GET /version.
	Version string

	// MaxBodyBytes limits a request body (default 10 MiB); larger bodies get 413.
	MaxBodyBytes int64
	// MaxInflight is how many images are scored at once (default runtime.NumCPU()); Queue is how
	// many more admitted requests may wait for a worker (default 64; negative means none).
	MaxInflight int
	Queue       int
	// MaxScorers bounds the scorers kept for per-request option overrides (default 4).
	MaxScorers int
	// MaxBufferedBytes bounds the image bytes held for all requests at once, being uploaded or
	// waiting to be scored (default (MaxInflight + Queue) × MaxBodyBytes); a request whose
	// bytes do not fit gets 503 busy.
	MaxBufferedBytes int64
	// MaxPixels bounds the pixels (width × height) being decoded and scored at once (default
	// the larger of 50 MP and MaxInflight × 16 MP); images wait for their share.
	MaxPixels int64

	// ReadTimeout bounds reading one request, headers and body (default 30 s); RequestTimeout
	// bounds the queue wait plus the inference (default 60 s); IdleTimeout closes idle
	// keep-alive connections (default 120 s); ShutdownTimeout bounds the wait for in-flight
	// requests on shutdown (default 30 s).
	ReadTimeout     time.Duration
	RequestTimeout  time.Duration
	IdleTimeout     time.Duration
	ShutdownTimeout time.Duration
	// DrainDelay is how long Serve keeps accepting and answering after its context is cancelled,
	// with /readyz already failing, before it closes the listener (default 0: close at once).
	// Under an orchestrator it gives the load balancer time to stop sending new connections, so
	// none arrives at a closed port during a rolling update.
	DrainDelay time.Duration
}

func (c *Config) setDefaults() {
	if c.MaxBodyBytes <= 0 {
		c.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if c.MaxInflight <= 0 {
		c.MaxInflight = runtime.NumCPU()
	}
	switch {
	case c.Queue == 0:
		c.Queue = DefaultQueue
	case c.Queue < 0:
		c.Queue = 0
	}
	if c.MaxScorers <= 0 {
		c.MaxScorers = DefaultMaxScorers
	}
	if c.MaxBufferedBytes <= 0 {
		c.MaxBufferedBytes = int64(c.MaxInflight+c.Queue) * c.MaxBodyBytes
	}
	// Never less than one whole body in the chunks bodies are held in.
	c.MaxBufferedBytes = max(c.MaxBufferedBytes, c.MaxBodyBytes+firstChunkSize+chunkSize)
	if c.MaxPixels <= 0 {
		c.MaxPixels = max(preprocess.DefaultMaxPixels, int64(c.MaxInflight)*16_000_000)
	}
	// The scorer's own defaults, made explicit (nets too, so nets=all finds the same scorer).
	c.Scorer = c.Scorer.WithDefaults()
	for _, d := range []struct {
		v   *time.Duration
		def time.Duration
	}{
		{&c.ReadTimeout, DefaultReadTimeout}, {&c.RequestTimeout, DefaultRequestTimeout},
		{&c.IdleTimeout, DefaultIdleTimeout}, {&c.ShutdownTimeout, DefaultShutdownTimeout},
	} {
		if *d.v <= 0 {
			*d.v = d.def
		}
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
}

// Server is the spoofsense REST service: the commercial-compatible POST /antispoofing, the richer
// POST /v1/check, probes, metrics and the OpenAPI document. Build it with New, serve its Handler
// on any listener (after Warmup), or let Serve do both and shut down gracefully.
type Server struct {
	cfg    Config
	log    *slog.Logger
	keys   keySet
	adm    *admission
	budget *byteBudget  // bytes of request images held
	pixels *pixelBudget // pixels being decoded and scored
	// uploading counts the requests whose body is being read.
	uploading atomic.Int64
	scorers   *scorerSet
	metrics   *metrics
	handler   http.Handler
	routes    []route

	ready     atomic.Bool
	draining  atomic.Bool // the stop signal came: /readyz fails while in-flight work finishes
	mu        sync.Mutex
	warmErr   error                 // why the warm-up failed, for /readyz
	modelsVer []scorer.ModelVersion // from the self-test result, for /version
}

// New checks cfg and builds a Server. It loads nothing: Warmup (or Serve) does.
func New(cfg Config) (*Server, error) {
	if cfg.NewScorer == nil {
		return nil, errors.New("serve: Config.NewScorer is nil")
	}
	cfg.setDefaults()
	if err := scorer.ValidateThreshold("threshold", cfg.Scorer.Threshold); err != nil {
		return nil, fmt.Errorf("serve: %w", err)
	}
	if err := checkProfileConfig(cfg); err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, log: cfg.Logger, keys: newKeySet(cfg.APIKeys, cfg.KeyChannels)}
	s.adm = newAdmission(cfg.MaxInflight, cfg.Queue)
	s.budget = newByteBudget(cfg.MaxBufferedBytes)
	s.pixels = newPixelBudget(cfg.MaxPixels)
	s.scorers = newScorerSet(cfg.NewScorer, cfg.Scorer, cfg.MaxScorers)
	s.metrics = newMetrics(s)
	s.routes = s.routeTable()
	s.handler = s.buildHandler()
	return s, nil
}

// bytesPerPixel is what decoding and scoring an image costs per pixel at most (the decoder's
// own image, the upright RGB copy, the crops), for MemoryBound.
const bytesPerPixel = 10

// memoryHeadroom is the memory of the rest of the process (code, models, goroutines, buffers of
// connections) in MemoryBound.
const memoryHeadroom = 128 << 20

// MemoryBound is what the server's memory is bounded by: the body budget, the pixels being
// decoded at bytesPerPixel each, and a headroom for the rest of the process.
func (s *Server) MemoryBound() int64 {
	return s.cfg.MaxBufferedBytes + bytesPerPixel*s.cfg.MaxPixels + memoryHeadroom
}

// MemoryLimit is the Go runtime's soft memory limit serve sets (unless GOMEMLIMIT is set): 85%
// of MemoryBound, so that the garbage of a flood of uploads is collected well before the
// process reaches the bound (the collector otherwise lets it grow to twice the live heap).
func (s *Server) MemoryLimit() int64 { return s.MemoryBound() / 100 * 85 }

// Handler returns the server's HTTP handler: routing, request ids, logging, metrics, API keys,
// panic recovery and limits included.
func (s *Server) Handler() http.Handler { return s.handler }

// Ready reports whether the warm-up finished: models loaded and the self-test passed.
func (s *Server) Ready() bool { return s.ready.Load() }

// Warmup loads the default scorer and scores a generated image once; only then does /readyz say
// ready and do the POST routes score (they answer 503 not_ready before).
func (s *Server) Warmup(ctx context.Context) error {
	err := s.warmup(ctx)
	s.mu.Lock()
	s.warmErr = err
	s.mu.Unlock()
	return err
}

func (s *Server) warmup(ctx context.Context) error {
	start := time.Now()
	sc, err := s.cfg.NewScorer(ctx, s.cfg.Scorer)
	if err != nil {
		return fmt.Errorf("load models: %w", err)
	}
	var res scorer.Result
	if st, ok := sc.(selfTester); ok {
		res, err = st.SelfTest(ctx)
	} else {
		res, err = sc.ScoreReader(ctx, bytes.NewReader(selfTestImage()), "self-test")
	}
	if err != nil {
		return fmt.Errorf("self-test inference: %w", err)
	}
	if res.Status != scorer.StatusOK {
		return fmt.Errorf("self-test inference: status %q: %s", res.Status, res.Error)
	}
	s.scorers.setDefault(sc)
	s.mu.Lock()
	s.modelsVer = res.Models
	s.mu.Unlock()
	s.ready.Store(true)
	// The self-test's verdict on generated pixels means nothing; what it proves is that the
	// models ran, and which ones.
	names := make([]string, len(res.Models))
	for i, m := range res.Models {
		names[i] = m.Name + "@" + m.SHA256
	}
	s.log.Info("ready", "warmup_ms", time.Since(start).Milliseconds(), "self_test", "passed", "models", strings.Join(names, ","))
	return nil
}

// selfTester is a scorer that can run all of its models on generated input (*scorer.Scorer: the
// detector on a generated image, then both anti-spoof nets on a box at its centre). The warm-up
// uses it when the scorer has it, so /readyz means every model ran.
type selfTester interface {
	SelfTest(ctx context.Context) (scorer.Result, error)
}

// selfTestImage is a small generated PNG (a grey gradient) for the warm-up inference of a scorer
// without SelfTest; whatever the verdict (usually no_face), scoring it exercises the code path.
func selfTestImage() []byte {
	const w, h = 160, 120
	img := image.NewGray(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.SetGray(x, y, color.Gray{Y: uint8((x + y) * 255 / (w + h))})
		}
	}
	var buf bytes.Buffer
	_ = png.Encode(&buf, img) // writing to memory cannot fail
	return buf.Bytes()
}

// Serve serves on ln until ctx is cancelled, warming up in the background (/healthz answers at
// once, /readyz after the warm-up). On cancellation it stops accepting, lets in-flight requests
// finish within ShutdownTimeout and returns nil. It returns an error if the warm-up fails, the
// listener fails or requests were still running at the shutdown deadline.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	hs := s.httpServer(ctx)
	var wg sync.WaitGroup
	defer wg.Wait()
	serveErr := make(chan error, 1)
	wg.Go(func() { serveErr <- hs.Serve(ln) })
	warmCtx, cancelWarm := context.WithCancel(ctx)
	defer cancelWarm()
	warmErr := make(chan error, 1)
	wg.Go(func() { warmErr <- s.Warmup(warmCtx) })

	for {
		select {
		case err := <-serveErr:
			return fmt.Errorf("serve %s: %w", ln.Addr(), err)
		case err := <-warmErr:
			warmErr = nil
			if err != nil && ctx.Err() == nil {
				s.log.Error("warm-up failed", "err", err)
				_ = hs.Close()
				<-serveErr
				return err
			}
		case <-ctx.Done():
			return s.shutdown(ctx, hs, serveErr)
		}
	}
}

// httpServer is the http.Server Serve runs: the handler with the connection timeouts that keep
// slow clients from holding the server (a client that does not send its headers and body within
// ReadTimeout is cut off; until then it holds no admission slot, only what it sent of its body).
func (s *Server) httpServer(ctx context.Context) *http.Server {
	return &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: min(10*time.Second, s.cfg.ReadTimeout),
		ReadTimeout:       s.cfg.ReadTimeout,
		// The write deadline runs from the end of the headers: it covers the body, the queue,
		// the inference and the answer.
		WriteTimeout:   s.cfg.ReadTimeout + s.cfg.RequestTimeout + 10*time.Second,
		IdleTimeout:    s.cfg.IdleTimeout,
		MaxHeaderBytes: 64 << 10,
		// Requests must outlive the signal that starts the shutdown, so they do not inherit ctx's
		// cancellation; each is still cancelled when its client goes away.
		BaseContext: func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
		ErrorLog:    slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
	}
}

// shutdown fails readiness, keeps serving for the drain delay, then stops hs gracefully within
// the shutdown timeout.
func (s *Server) shutdown(ctx context.Context, hs *http.Server, serveErr <-chan error) error {
	s.draining.Store(true)
	if d := s.cfg.DrainDelay; d > 0 {
		// Answers now close their connection, so a client's next request goes through the
		// load balancer to another instance instead of to this one as it closes.
		hs.SetKeepAlivesEnabled(false)
		s.log.Info("draining", "in_flight", s.adm.admitted(), "drain_delay", d.String())
		select {
		case <-time.After(d):
		case err := <-serveErr:
			return fmt.Errorf("serve: %w", err)
		}
	}
	s.log.Info("shutting down", "in_flight", s.adm.admitted(), "timeout", s.cfg.ShutdownTimeout.String())
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.ShutdownTimeout)
	defer cancel()
	err := hs.Shutdown(sctx)
	if err != nil {
		_ = hs.Close()
		err = fmt.Errorf("shutdown: requests still running after %s: %w", s.cfg.ShutdownTimeout, err)
	}
	if e := <-serveErr; !errors.Is(e, http.ErrServerClosed) && err == nil {
		err = fmt.Errorf("serve: %w", e)
	}
	if err == nil {
		s.log.Info("stopped")
	}
	return err
}

// route is one served method and path.
type route struct {
	method string
	path   string
	// protected routes need an API key when keys are configured.
	protected bool
	handle    http.HandlerFunc
}

func (s *Server) routeTable() []route {
	return []route{
		{http.MethodPost, "/antispoofing", true, s.handleAntispoofing},
		{http.MethodPost, "/v1/check", true, s.handleCheck},
		{http.MethodGet, "/healthz", false, s.handleHealthz},
		{http.MethodGet, "/readyz", false, s.handleReadyz},
		{http.MethodGet, "/metrics", false, s.metrics.handler().ServeHTTP},
		{http.MethodGet, "/version", false, s.handleVersion},
		{http.MethodGet, "/openapi.yaml", false, s.handleOpenAPI},
	}
}

// buildHandler routes by path, then by method (answering 405 with Allow as JSON), and wraps every
// route in the common middleware. Unknown paths get a JSON 404.
func (s *Server) buildHandler() http.Handler {
	mux := http.NewServeMux()
	byPath := map[string][]route{}
	var paths []string
	for _, rt := range s.routes {
		if _, ok := byPath[rt.path]; !ok {
			paths = append(paths, rt.path)
		}
		byPath[rt.path] = append(byPath[rt.path], rt)
	}
	for _, p := range paths {
		rts := byPath[p]
		mux.Handle(p, s.common(p, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			for _, rt := range rts {
				// HEAD is GET without the body (net/http drops it): load balancers probe so.
				if r.Method == rt.method || r.Method == http.MethodHead && rt.method == http.MethodGet {
					if rt.protected {
						s.protect(rt.handle)(w, r)
					} else {
						rt.handle(w, r)
					}
					return
				}
			}
			allow := make([]string, 0, len(rts)+1)
			for _, rt := range rts {
				allow = append(allow, rt.method)
				if rt.method == http.MethodGet {
					allow = append(allow, http.MethodHead)
				}
			}
			slices.Sort(allow)
			w.Header().Set("Allow", strings.Join(allow, ", "))
			writeError(w, r, &apiError{Status: http.StatusMethodNotAllowed, Code: codeMethodNotAllowed,
				Message: fmt.Sprintf("%s does not accept %s; use %s", p, r.Method, strings.Join(allow, ", "))})
		})))
	}
	mux.Handle("/", s.common("unmatched", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeError(w, r, &apiError{Status: http.StatusNotFound, Code: codeNotFound,
			Message: "no such path; see /openapi.yaml"})
	})))
	return mux
}
