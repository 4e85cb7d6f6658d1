package server

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// latencyBuckets are the upper bounds, in seconds, of the request latency
// histogram: fine below 100 ms where `size` answers, coarse up to the
// request timeout where a `plan` or a Hugging Face fetch may end.
var latencyBuckets = []float64{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60}

// metrics collects request counts and latencies per endpoint in a registry
// of its own (no process-wide state, so several servers in one process,
// as in the tests, keep separate counts) and serves them with promhttp in
// the Prometheus exposition format. Endpoint labels come from a fixed set
// (the commands plus a few fixed routes) and methods are normalised, so the
// number of series is bounded whatever clients request.
type metrics struct {
	registry *prometheus.Registry
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	exits    *prometheus.CounterVec
	inFlight prometheus.Gauge
	handler  http.Handler
}

func newMetrics(version string, now time.Time) *metrics {
	m := &metrics{
		registry: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gpuplan_http_requests_total",
			Help: "HTTP requests by endpoint, method and status code.",
		}, []string{"endpoint", "method", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "gpuplan_http_request_duration_seconds",
			Help:    "Time to serve a request, by endpoint.",
			Buckets: latencyBuckets,
		}, []string{"endpoint"}),
		exits: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gpuplan_command_exits_total",
			Help: "Exit codes of the CLI commands run for API requests.",
		}, []string{"endpoint", "exit_code"}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "gpuplan_http_requests_in_flight",
			Help: "Requests being served now.",
		}),
	}
	buildInfo := prometheus.NewGauge(prometheus.GaugeOpts{
		Name:        "gpuplan_build_info",
		Help:        "The gpuplan version serving, as a label; always 1.",
		ConstLabels: prometheus.Labels{"version": version},
	})
	buildInfo.Set(1)
	started := prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "gpuplan_start_time_seconds",
		Help: "Unix time the server started.",
	})
	started.Set(float64(now.UnixNano()) / 1e9)
	m.registry.MustRegister(m.requests, m.latency, m.exits, m.inFlight, buildInfo, started)
	m.handler = promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{})
	return m
}

func (m *metrics) begin() { m.inFlight.Inc() }

// end records one finished request.
func (m *metrics) end(endpoint, method string, code int, d time.Duration) {
	m.inFlight.Dec()
	m.requests.WithLabelValues(endpoint, normMethod(method), strconv.Itoa(code)).Inc()
	m.latency.WithLabelValues(endpoint).Observe(d.Seconds())
}

// exit records a command's exit code.
func (m *metrics) exit(endpoint string, code int) {
	m.exits.WithLabelValues(endpoint, strconv.Itoa(code)).Inc()
}

// normMethod keeps the method label bounded: clients can send any token.
func normMethod(m string) string {
	switch m {
	case "GET", "POST", "HEAD", "OPTIONS", "PUT", "DELETE", "PATCH":
		return m
	}
	return "other"
}
