package server

import (
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// latencyBuckets are the upper bounds, in seconds, of the request latency
// histogram: fine below 100 ms where `size` answers, coarse up to the
// request timeout where a `plan` or a Hugging Face fetch may end.
var latencyBuckets = []float64{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60}

// metrics collects request counts and latencies per endpoint and writes
// them in the Prometheus text exposition format (version 0.0.4,
// https://prometheus.io/docs/instrumenting/exposition_formats/). Endpoint
// labels come from a fixed set (the commands plus a few fixed routes), so
// the number of series is bounded whatever clients request.
type metrics struct {
	mu        sync.Mutex
	requests  map[requestKey]uint64
	latency   map[string]*histogram
	exits     map[exitKey]uint64
	inFlight  int64
	version   string
	startedAt time.Time
}

type requestKey struct {
	endpoint, method string
	code             int
}

type exitKey struct {
	endpoint string
	code     int
}

type histogram struct {
	counts []uint64 // per bucket, not cumulative; last is +Inf
	sum    float64
	count  uint64
}

func newMetrics(version string, now time.Time) *metrics {
	return &metrics{
		requests:  map[requestKey]uint64{},
		latency:   map[string]*histogram{},
		exits:     map[exitKey]uint64{},
		version:   version,
		startedAt: now,
	}
}

func (m *metrics) begin() {
	m.mu.Lock()
	m.inFlight++
	m.mu.Unlock()
}

// end records one finished request.
func (m *metrics) end(endpoint, method string, code int, d time.Duration) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.inFlight--
	m.requests[requestKey{endpoint, normMethod(method), code}]++
	h := m.latency[endpoint]
	if h == nil {
		h = &histogram{counts: make([]uint64, len(latencyBuckets)+1)}
		m.latency[endpoint] = h
	}
	s := d.Seconds()
	i := sort.SearchFloat64s(latencyBuckets, s) // first bound >= s
	h.counts[i]++
	h.sum += s
	h.count++
}

// exit records a command's exit code.
func (m *metrics) exit(endpoint string, code int) {
	m.mu.Lock()
	m.exits[exitKey{endpoint, code}]++
	m.mu.Unlock()
}

// normMethod keeps the method label bounded: clients can send any token.
func normMethod(m string) string {
	switch m {
	case "GET", "POST", "HEAD", "OPTIONS", "PUT", "DELETE", "PATCH":
		return m
	}
	return "other"
}

// write renders every series in the text exposition format.
func (m *metrics) write(w io.Writer) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	var b strings.Builder

	b.WriteString("# HELP gpuplan_build_info The gpuplan version serving, as a label; always 1.\n")
	b.WriteString("# TYPE gpuplan_build_info gauge\n")
	fmt.Fprintf(&b, "gpuplan_build_info{version=%s} 1\n", labelValue(m.version))

	b.WriteString("# HELP gpuplan_start_time_seconds Unix time the server started.\n")
	b.WriteString("# TYPE gpuplan_start_time_seconds gauge\n")
	fmt.Fprintf(&b, "gpuplan_start_time_seconds %s\n", num(float64(m.startedAt.UnixNano())/1e9))

	b.WriteString("# HELP gpuplan_http_requests_in_flight Requests being served now.\n")
	b.WriteString("# TYPE gpuplan_http_requests_in_flight gauge\n")
	fmt.Fprintf(&b, "gpuplan_http_requests_in_flight %d\n", m.inFlight)

	b.WriteString("# HELP gpuplan_http_requests_total HTTP requests by endpoint, method and status code.\n")
	b.WriteString("# TYPE gpuplan_http_requests_total counter\n")
	reqKeys := make([]requestKey, 0, len(m.requests))
	for k := range m.requests {
		reqKeys = append(reqKeys, k)
	}
	sort.Slice(reqKeys, func(i, j int) bool {
		a, c := reqKeys[i], reqKeys[j]
		if a.endpoint != c.endpoint {
			return a.endpoint < c.endpoint
		}
		if a.method != c.method {
			return a.method < c.method
		}
		return a.code < c.code
	})
	for _, k := range reqKeys {
		fmt.Fprintf(&b, "gpuplan_http_requests_total{code=\"%d\",endpoint=%s,method=%s} %d\n", k.code, labelValue(k.endpoint), labelValue(k.method), m.requests[k])
	}

	b.WriteString("# HELP gpuplan_command_exits_total Exit codes of the CLI commands run for API requests.\n")
	b.WriteString("# TYPE gpuplan_command_exits_total counter\n")
	exitKeys := make([]exitKey, 0, len(m.exits))
	for k := range m.exits {
		exitKeys = append(exitKeys, k)
	}
	sort.Slice(exitKeys, func(i, j int) bool {
		if exitKeys[i].endpoint != exitKeys[j].endpoint {
			return exitKeys[i].endpoint < exitKeys[j].endpoint
		}
		return exitKeys[i].code < exitKeys[j].code
	})
	for _, k := range exitKeys {
		fmt.Fprintf(&b, "gpuplan_command_exits_total{endpoint=%s,exit_code=\"%d\"} %d\n", labelValue(k.endpoint), k.code, m.exits[k])
	}

	b.WriteString("# HELP gpuplan_http_request_duration_seconds Time to serve a request, by endpoint.\n")
	b.WriteString("# TYPE gpuplan_http_request_duration_seconds histogram\n")
	for _, ep := range sortedKeys(m.latency) {
		h := m.latency[ep]
		var cum uint64
		for i, le := range latencyBuckets {
			cum += h.counts[i]
			fmt.Fprintf(&b, "gpuplan_http_request_duration_seconds_bucket{endpoint=%s,le=\"%s\"} %d\n", labelValue(ep), num(le), cum)
		}
		cum += h.counts[len(latencyBuckets)]
		fmt.Fprintf(&b, "gpuplan_http_request_duration_seconds_bucket{endpoint=%s,le=\"+Inf\"} %d\n", labelValue(ep), cum)
		fmt.Fprintf(&b, "gpuplan_http_request_duration_seconds_sum{endpoint=%s} %s\n", labelValue(ep), num(h.sum))
		fmt.Fprintf(&b, "gpuplan_http_request_duration_seconds_count{endpoint=%s} %d\n", labelValue(ep), h.count)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// labelValue quotes a label value, escaping backslash, double quote and
// line feed as the exposition format requires.
func labelValue(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)
	return `"` + r.Replace(s) + `"`
}

func num(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }
