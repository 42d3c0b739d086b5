package serve

import (
	"net/http"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/spoofsense/spoofsense/scorer"
)

// metrics are the Prometheus series of one Server, kept in the server's own registry (never the
// process-global default one), so that two servers in one process do not share counters.
type metrics struct {
	reg      *prometheus.Registry
	requests *prometheus.CounterVec   // route, method, code
	latency  *prometheus.HistogramVec // route
	inFlight prometheus.Gauge
	stages   *prometheus.HistogramVec // stage
	verdicts *prometheus.CounterVec   // route, verdict
	// budgetRefusals counts requests refused because the body budget was spent.
	budgetRefusals prometheus.Counter
}

func newMetrics(s *Server) *metrics {
	adm := s.adm
	// From a fraction of a millisecond (a stage) to seconds (a queued request).
	stageBuckets := []float64{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5}
	m := &metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "spoofsense_http_requests_total",
			Help: "HTTP requests answered, by route, method and status code.",
		}, []string{"route", "method", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "spoofsense_http_request_duration_seconds",
			Help:    "Time from request headers to the end of the answer, by route.",
			Buckets: stageBuckets,
		}, []string{"route"}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "spoofsense_http_requests_in_flight",
			Help: "HTTP requests being served now.",
		}),
		stages: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "spoofsense_stage_duration_seconds",
			Help:    "Time spent in each pipeline stage of a scored image (from the result's timings_ms).",
			Buckets: stageBuckets,
		}, []string{"stage"}),
		verdicts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "spoofsense_verdicts_total",
			Help: "Images scored, by route and verdict (live, spoof, no_face, rejected).",
		}, []string{"route", "verdict"}),
	}
	m.budgetRefusals = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "spoofsense_body_budget_refusals_total",
		Help: "Requests answered 503 busy because the bytes of uploaded images held reached --max-buffered.",
	})
	m.reg.MustRegister(m.requests, m.latency, m.inFlight, m.stages, m.verdicts, m.budgetRefusals,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "spoofsense_uploads_in_progress",
			Help: "Requests whose body is being read.",
		}, func() float64 { return float64(s.uploading.Load()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "spoofsense_buffered_bytes",
			Help: "Bytes of uploaded images held (being read or waiting to be scored), out of --max-buffered.",
		}, func() float64 { return float64(s.budget.inUse()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "spoofsense_pixels_in_flight",
			Help: "Pixels (width × height) of the images being decoded and scored.",
		}, func() float64 { return float64(s.pixels.inUse()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "spoofsense_inference_admitted",
			Help: "Requests holding an inference slot: running or waiting in the queue.",
		}, func() float64 { return float64(adm.admitted()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "spoofsense_inference_running",
			Help: "Requests running the scorer now.",
		}, func() float64 { return float64(adm.running()) }),
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	return m
}

// handler serves the registry in the Prometheus text format.
func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// observeRequest counts one answered request.
func (m *metrics) observeRequest(route, method string, status int, seconds float64) {
	m.requests.WithLabelValues(route, method, strconv.Itoa(status)).Inc()
	m.latency.WithLabelValues(route).Observe(seconds)
}

// observeResult records the stage timings of one scored image and the verdict reported for it.
func (m *metrics) observeResult(route string, res scorer.Result, verdict scorer.Verdict) {
	t := res.Timings
	for _, st := range []struct {
		name string
		ms   float64
	}{
		{"decode", t.Decode}, {"detect", t.Detect}, {"crop", t.Crop},
		{"nets", t.Nets}, {"quality", t.Quality}, {"total", t.Total},
	} {
		m.stages.WithLabelValues(st.name).Observe(st.ms / 1000)
	}
	if verdict != "" {
		m.verdicts.WithLabelValues(route, string(verdict)).Inc()
	}
}
