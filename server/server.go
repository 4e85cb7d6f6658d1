package server

import (
	"bytes"
	"context"
	"crypto/sha256"
	_ "embed"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"net/url"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// RunFunc runs one CLI command in-process: args are the command name, its
// flags as --name=value and its positional arguments; the function adds
// -o json and the server's global flags, writes what the command prints to
// stdout and stderr, and returns the exit code.
type RunFunc func(ctx context.Context, args []string, stdout, stderr io.Writer) int

// Exit codes a RunFunc returns. 0–4 are the CLI's own (docs/cli.md). The
// others come from sysexits.h and let the caller say why a command failed
// when the cause is outside the request: the server answers 404, 503 or
// 502 for them instead of 500.
const (
	ExitOK          = 0
	ExitError       = 1
	ExitUsage       = 2
	ExitInfeasible  = 3
	ExitGateFailed  = 4
	ExitNotFound    = 66 // EX_NOINPUT: the named input does not exist (a Hugging Face repository)
	ExitUnavailable = 69 // EX_UNAVAILABLE: needed the network while offline / not cached
	ExitUpstream    = 76 // EX_PROTOCOL: an upstream service failed or refused
)

// Defaults for Options fields left zero.
const (
	// DefaultMaxBodyBytes bounds a POST body; a full set of parameters is
	// well under 2 KiB.
	DefaultMaxBodyBytes = 64 << 10
	// DefaultTimeout bounds one API request, including a Hugging Face
	// config fetch (the Hub client has its own per-request timeouts).
	DefaultTimeout = 30 * time.Second
	// DefaultMaxOutputBytes bounds what a command may print for one
	// response; `plan --top 0` for a large model stays far below it.
	DefaultMaxOutputBytes = 16 << 20
	// DefaultMaxConns bounds the open client connections: beyond it new
	// connections wait in the kernel's accept queue, so that a flood of
	// idle connections cannot exhaust the process's file descriptors
	// (often limited to 1,024 by default).
	DefaultMaxConns = 1024
)

// Options configures a Server.
type Options struct {
	// Run executes a CLI command in-process (required).
	Run RunFunc
	// Commands are the commands exposed under /api/v1/ (required).
	Commands []Command
	// Logger receives one structured record per request; nil discards.
	Logger *slog.Logger
	// Version is reported by /healthz, /metrics and the OpenAPI document.
	Version string
	// MaxBodyBytes bounds a POST body (413 beyond); 0 means
	// DefaultMaxBodyBytes.
	MaxBodyBytes int64
	// Timeout bounds one API request (504 beyond); 0 means DefaultTimeout.
	Timeout time.Duration
	// MaxConcurrent bounds the commands running at once; requests beyond
	// it wait in arrival order (up to Timeout). 0 means GOMAXPROCS: the
	// commands are CPU-bound, so running more at once only spreads the same
	// CPU over more requests and lengthens the latency tail.
	MaxConcurrent int
	// MaxOutputBytes bounds what one command may print; 0 means
	// DefaultMaxOutputBytes.
	MaxOutputBytes int
	// Now is the clock for metrics and logs; nil means time.Now.
	Now func() time.Time
	// MaxConns bounds the open connections Serve accepts at once; 0 means
	// DefaultMaxConns.
	MaxConns int
}

// Server serves the API, the page, the OpenAPI document, /healthz and
// /metrics. It is an http.Handler; Serve runs it with timeouts and a
// graceful shutdown.
type Server struct {
	opts     Options
	log      *slog.Logger
	commands map[string]*compiled
	order    []string
	openapi  []byte
	page     []byte
	pageETag string
	pageCSP  string
	metrics  *metrics
	sem      chan struct{}
	// overtime holds commands that outlived their request (timed out or
	// cancelled, still unwinding): up to MaxConcurrent of them run outside
	// sem, so that a slow command does not keep the next request waiting;
	// beyond that they keep their slot, so at most 2×MaxConcurrent
	// commands ever run at once.
	overtime chan struct{}
	mux      *http.ServeMux
	reqID    atomic.Uint64
}

//go:embed web/index.html
var indexHTML []byte

// New checks the options and builds the server and its OpenAPI document.
func New(o Options) (*Server, error) {
	if o.Run == nil {
		return nil, errors.New("server: Options.Run is nil")
	}
	if len(o.Commands) == 0 {
		return nil, errNoCommands
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.MaxBodyBytes <= 0 {
		o.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.MaxConcurrent <= 0 {
		o.MaxConcurrent = runtime.GOMAXPROCS(0)
	}
	if o.MaxOutputBytes <= 0 {
		o.MaxOutputBytes = DefaultMaxOutputBytes
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.MaxConns <= 0 {
		o.MaxConns = DefaultMaxConns
	}
	if o.Version == "" {
		o.Version = "unknown"
	}
	s := &Server{
		opts:     o,
		log:      o.Logger,
		commands: map[string]*compiled{},
		metrics:  newMetrics(o.Version, o.Now()),
		sem:      make(chan struct{}, o.MaxConcurrent),
		overtime: make(chan struct{}, o.MaxConcurrent),
		page:     indexHTML,
	}
	for _, c := range o.Commands {
		cc, err := compile(c)
		if err != nil {
			return nil, fmt.Errorf("server: %w", err)
		}
		if _, dup := s.commands[c.Name]; dup || reservedEndpoint(c.Name) {
			return nil, fmt.Errorf("server: command %q is defined twice or clashes with a fixed route", c.Name)
		}
		s.commands[c.Name] = cc
		s.order = append(s.order, c.Name)
	}
	doc, err := s.openAPIDocument()
	if err != nil {
		return nil, fmt.Errorf("server: build the OpenAPI document: %w", err)
	}
	s.openapi = doc
	sum := sha256.Sum256(s.page)
	s.pageETag = `"` + hex.EncodeToString(sum[:8]) + `"`
	s.pageCSP = contentSecurityPolicy(s.page)

	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", s.handlePage)
	mux.HandleFunc("GET /healthz", s.handleHealth)
	mux.HandleFunc("GET /metrics", s.handleMetrics)
	mux.HandleFunc("GET /api/v1/openapi.json", s.handleOpenAPI)
	mux.HandleFunc("GET /api/v1/{$}", s.handleIndex)
	mux.HandleFunc("/api/v1/{command}", s.handleCommand)
	mux.HandleFunc("/", s.handleNotFound)
	s.mux = mux
	return s, nil
}

func reservedEndpoint(name string) bool {
	switch name {
	case "page", "healthz", "metrics", "openapi", "openapi.json", "index", "not_found":
		return true
	}
	return false
}

// Commands returns the names of the commands the API serves, in order.
func (s *Server) Commands() []string { return append([]string(nil), s.order...) }

// Serve answers HTTP on ln until ctx is done, then shuts down gracefully:
// it stops accepting, lets requests in flight finish for up to grace
// (Timeout plus 5 s), and returns nil after a clean shutdown.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{
		Handler:           s,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		// Commands are cut off at Timeout; the margin covers writing.
		WriteTimeout:   s.opts.Timeout + 10*time.Second,
		IdleTimeout:    120 * time.Second,
		MaxHeaderBytes: 64 << 10,
		ErrorLog:       slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(limitListener(ln, s.opts.MaxConns)) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	s.log.Info("shutting down", "grace", (s.opts.Timeout + 5*time.Second).String())
	sctx, cancel := context.WithTimeout(context.Background(), s.opts.Timeout+5*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		_ = srv.Close()
		return fmt.Errorf("graceful shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// requestInfo is what a handler tells the access log and metrics.
type requestInfo struct {
	exitCode int // -1 when no command ran
	errMsg   string
}

type infoKey struct{}

// ServeHTTP routes a request and records its metrics and log line.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	id := strconv.FormatUint(s.reqID.Add(1), 10)
	endpoint := s.endpointLabel(r.URL.Path)
	info := &requestInfo{exitCode: -1}
	r = r.WithContext(context.WithValue(r.Context(), infoKey{}, info))
	rw := &statusWriter{ResponseWriter: w}
	rw.Header().Set("X-Request-Id", id)
	rw.Header().Set("X-Content-Type-Options", "nosniff")
	s.metrics.begin()
	defer func() {
		if p := recover(); p != nil {
			s.log.Error("panic serving request", "request_id", id, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			if !rw.wroteHeader {
				writeError(rw, http.StatusInternalServerError, "internal error; see the server log")
			}
			info.errMsg = fmt.Sprint(p)
		}
		d := time.Since(start)
		status := rw.status
		if status == 0 {
			status = http.StatusOK
		}
		s.metrics.end(endpoint, r.Method, status, d)
		level := slog.LevelInfo
		if status >= 500 {
			level = slog.LevelError
		}
		attrs := []slog.Attr{
			slog.String("request_id", id),
			slog.String("method", r.Method),
			slog.String("path", r.URL.Path),
			slog.String("endpoint", endpoint),
			slog.Int("status", status),
			slog.Float64("duration_ms", float64(d.Microseconds())/1000),
			slog.Int64("bytes", rw.bytes),
			slog.String("remote", r.RemoteAddr),
		}
		if info.exitCode >= 0 {
			attrs = append(attrs, slog.Int("exit_code", info.exitCode))
		}
		if info.errMsg != "" {
			attrs = append(attrs, slog.String("error", info.errMsg))
		}
		s.log.LogAttrs(r.Context(), level, "http request", attrs...)
	}()
	s.mux.ServeHTTP(rw, r)
}

// endpointLabel maps a path to one of a fixed set of metric labels.
func (s *Server) endpointLabel(path string) string {
	switch path {
	case "/":
		return "page"
	case "/healthz":
		return "healthz"
	case "/metrics":
		return "metrics"
	case "/api/v1/openapi.json":
		return "openapi"
	case "/api/v1/":
		return "index"
	}
	if name, ok := strings.CutPrefix(path, "/api/v1/"); ok {
		if _, known := s.commands[name]; known {
			return name
		}
	}
	return "not_found"
}

type statusWriter struct {
	http.ResponseWriter
	status      int
	bytes       int64
	wroteHeader bool
}

func (w *statusWriter) WriteHeader(code int) {
	if !w.wroteHeader {
		w.status, w.wroteHeader = code, true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += int64(n)
	return n, err
}

func (s *Server) handlePage(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", s.pageCSP)
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("ETag", s.pageETag)
	h.Set("Cache-Control", "no-cache")
	if r.Header.Get("If-None-Match") == s.pageETag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	_, _ = w.Write(s.page)
}

// contentSecurityPolicy allows exactly the page's own inline script and
// style (by hash), API calls to the same origin, and nothing from
// elsewhere, so the page cannot load anything from a CDN even by mistake.
func contentSecurityPolicy(page []byte) string {
	hashes := func(tag string) string {
		var out []string
		rest := page
		open, end := []byte("<"+tag+">"), []byte("</"+tag+">")
		for {
			i := bytes.Index(rest, open)
			if i < 0 {
				break
			}
			rest = rest[i+len(open):]
			j := bytes.Index(rest, end)
			if j < 0 {
				break
			}
			sum := sha256.Sum256(rest[:j])
			out = append(out, "'sha256-"+base64.StdEncoding.EncodeToString(sum[:])+"'")
			rest = rest[j:]
		}
		if len(out) == 0 {
			return "'none'"
		}
		return strings.Join(out, " ")
	}
	return "default-src 'none'; script-src " + hashes("script") + "; style-src " + hashes("style") +
		"; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
}

func (s *Server) handleHealth(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"status": "ok", "version": s.opts.Version, "commands": s.order})
}

func (s *Server) handleMetrics(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	s.metrics.handler.ServeHTTP(w, r)
}

func (s *Server) handleOpenAPI(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(s.openapi)
}

func (s *Server) handleIndex(w http.ResponseWriter, _ *http.Request) {
	eps := make([]string, 0, len(s.order))
	for _, n := range s.order {
		eps = append(eps, "/api/v1/"+n)
	}
	writeJSON(w, http.StatusOK, map[string]any{"endpoints": eps, "openapi": "/api/v1/openapi.json"})
}

func (s *Server) handleNotFound(w http.ResponseWriter, r *http.Request) {
	msg := fmt.Sprintf("no such page %s", r.URL.Path)
	if strings.HasPrefix(r.URL.Path, "/api/") {
		msg = fmt.Sprintf("no such endpoint %s; the API is listed at /api/v1/ and described at /api/v1/openapi.json", r.URL.Path)
	}
	writeError(w, http.StatusNotFound, msg)
}

func (s *Server) handleCommand(w http.ResponseWriter, r *http.Request) {
	info, _ := r.Context().Value(infoKey{}).(*requestInfo)
	fail := func(status int, msg string) {
		if info != nil {
			info.errMsg = msg
		}
		writeError(w, status, msg)
	}
	c, ok := s.commands[r.PathValue("command")]
	if !ok {
		s.handleNotFound(w, r)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	var (
		vals values
		err  error
	)
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		q, perr := url.ParseQuery(r.URL.RawQuery)
		if perr != nil {
			fail(http.StatusBadRequest, "the query string is malformed: "+perr.Error())
			return
		}
		vals, err = c.fromQuery(q)
	case http.MethodPost:
		vals, err = s.readBody(c, r)
	default:
		w.Header().Set("Allow", "GET, HEAD, POST")
		fail(http.StatusMethodNotAllowed, fmt.Sprintf("method %s is not allowed; use GET with query parameters or POST with a JSON body", r.Method))
		return
	}
	var args []string
	if err == nil {
		args, err = c.cliArgs(vals)
	}
	if err != nil {
		status := http.StatusBadRequest
		var ie *inputError
		if errors.As(err, &ie) {
			status = ie.status
		}
		fail(status, err.Error())
		return
	}

	ctx, cancel := context.WithTimeout(r.Context(), s.opts.Timeout)
	defer cancel()
	select {
	case s.sem <- struct{}{}:
	case <-ctx.Done():
		w.Header().Set("Retry-After", "1")
		fail(http.StatusServiceUnavailable, "the server is busy; try again shortly")
		return
	}
	res := make(chan runResult, 1)
	sl := &slot{s: s}
	go func() {
		defer sl.release()
		res <- s.run(ctx, args)
	}()
	var out runResult
	select {
	case out = <-res:
	case <-ctx.Done():
		// The command goes on in its goroutine until it notices the
		// cancelled context; the client gets an answer now, and the slot
		// goes to the next request if an overtime place is free.
		if sl.overtime() {
			s.log.Warn("command outlived its request; its slot is released", "endpoint", c.Name)
		}
		if r.Context().Err() != nil {
			fail(499, "the client closed the request")
			return
		}
		fail(http.StatusGatewayTimeout, fmt.Sprintf("%s took longer than %s; narrow the request (fewer options, a smaller --top) or try again", c.Name, s.opts.Timeout))
		return
	}
	s.metrics.exit(c.Name, out.code)
	if info != nil {
		info.exitCode = out.code
	}
	for _, warn := range out.warnings {
		w.Header().Add("X-Gpuplan-Warning", warn)
	}
	status, body := s.respond(c.Name, out)
	if status >= 400 && info != nil {
		info.errMsg = out.errMsg
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		_, _ = w.Write(body)
	}
}

// slot is one running command's place in sem, or in overtime once its
// request has ended.
type slot struct {
	s    *Server
	mu   sync.Mutex
	over bool // moved to overtime
	done bool // released
}

// overtime moves the slot from sem to overtime if a place is free, and
// reports whether it did.
func (sl *slot) overtime() bool {
	sl.mu.Lock()
	defer sl.mu.Unlock()
	if sl.done || sl.over {
		return false
	}
	select {
	case sl.s.overtime <- struct{}{}:
		sl.over = true
		<-sl.s.sem
		return true
	default:
		return false
	}
}

// release frees whichever place the slot holds.
func (sl *slot) release() {
	sl.mu.Lock()
	defer sl.mu.Unlock()
	if sl.over {
		<-sl.s.overtime
	} else {
		<-sl.s.sem
	}
	sl.done = true
}

// readBody reads and validates a POST body.
func (s *Server) readBody(c *compiled, r *http.Request) (values, error) {
	if r.URL.RawQuery != "" {
		return nil, badRequest("send parameters either in the query string (GET) or in a JSON body (POST), not both")
	}
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
			return nil, &inputError{http.StatusUnsupportedMediaType, fmt.Sprintf("Content-Type %q is not JSON; send application/json", ct)}
		}
	}
	limit := s.opts.MaxBodyBytes
	tooLarge := &inputError{http.StatusRequestEntityTooLarge, fmt.Sprintf("the body is larger than %d bytes", limit)}
	if r.ContentLength > limit {
		return nil, tooLarge
	}
	body, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, limit))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, tooLarge
		}
		return nil, badRequest("read the body: %v", err)
	}
	return c.fromJSON(body)
}

// runResult is what one command run produced.
type runResult struct {
	code     int
	stdout   []byte
	errMsg   string
	warnings []string
}

// run executes the command with captured output, turning a panic into an
// internal error.
func (s *Server) run(ctx context.Context, args []string) (res runResult) {
	stdout := &cappedBuffer{max: s.opts.MaxOutputBytes}
	stderr := &cappedBuffer{max: 1 << 20}
	defer func() {
		if p := recover(); p != nil {
			s.log.Error("panic in command", "args", args, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			res = runResult{code: ExitError, errMsg: "internal error while running the command; see the server log"}
		}
	}()
	code := s.opts.Run(ctx, args, stdout, stderr)
	res = runResult{code: code, stdout: stdout.Bytes()}
	if stdout.overflow {
		res.code, res.stdout = ExitError, nil
		res.errMsg = fmt.Sprintf("the command's output is larger than %d bytes; narrow the request", s.opts.MaxOutputBytes)
		return res
	}
	for _, line := range strings.Split(stderr.String(), "\n") {
		line = strings.TrimSpace(line)
		if msg, ok := strings.CutPrefix(line, "Error:"); ok && res.errMsg == "" {
			res.errMsg = strings.TrimSpace(msg)
		} else if msg, ok := strings.CutPrefix(line, "Warning:"); ok && len(res.warnings) < 20 {
			res.warnings = append(res.warnings, truncate(strings.TrimSpace(msg), 500))
		}
	}
	if res.errMsg == "" && code != ExitOK {
		res.errMsg = strings.TrimSpace(stderr.String())
		if res.errMsg == "" {
			res.errMsg = fmt.Sprintf("the command failed with exit code %d", code)
		}
	}
	if ctx.Err() != nil && code != ExitOK {
		res.errMsg += " (" + ctx.Err().Error() + ")"
	}
	return res
}

// respond maps a command's exit code to an HTTP status and body.
func (s *Server) respond(name string, out runResult) (int, []byte) {
	switch out.code {
	case ExitOK:
		if !json.Valid(out.stdout) {
			s.log.Error("command printed invalid JSON", "endpoint", name, "bytes", len(out.stdout))
			return http.StatusInternalServerError, errorBody("the command did not print valid JSON; this is a bug, please report it")
		}
		return http.StatusOK, out.stdout
	case ExitUsage:
		return http.StatusBadRequest, errorBody(out.errMsg)
	case ExitInfeasible:
		return http.StatusUnprocessableEntity, withError(out.stdout, out.errMsg)
	case ExitNotFound:
		return http.StatusNotFound, errorBody(out.errMsg)
	case ExitUnavailable:
		return http.StatusServiceUnavailable, errorBody(out.errMsg)
	case ExitUpstream:
		return http.StatusBadGateway, errorBody(out.errMsg)
	}
	return http.StatusInternalServerError, errorBody(out.errMsg)
}

// withError adds "error" to the JSON object a command printed before it
// exited with "does not fit" / "infeasible", keeping every other field as
// printed; without such an object it is just {"error": msg}.
func withError(stdout []byte, msg string) []byte {
	t := bytes.TrimSpace(stdout)
	var top map[string]json.RawMessage
	if len(t) < 2 || t[0] != '{' || json.Unmarshal(t, &top) != nil {
		return errorBody(msg)
	}
	if _, clash := top["error"]; clash {
		return errorBody(msg)
	}
	q, _ := marshal(msg)
	var b bytes.Buffer
	b.WriteString("{\n  \"error\": ")
	b.Write(q)
	if inner := bytes.TrimSpace(t[1 : len(t)-1]); len(inner) > 0 {
		b.WriteString(",\n  ")
		b.Write(inner)
	}
	b.WriteString("\n}\n")
	return b.Bytes()
}

func errorBody(msg string) []byte {
	b, _ := marshalIndent(map[string]string{"error": msg})
	return b
}

func writeError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(errorBody(msg))
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := marshalIndent(v)
	if err != nil {
		writeError(w, http.StatusInternalServerError, "encode the response: "+err.Error())
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// marshalIndent encodes like the CLI's -o json: two-space indent, no HTML
// escaping, trailing newline.
func marshalIndent(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	err := enc.Encode(v)
	return b.Bytes(), err
}

func marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	err := enc.Encode(v)
	return bytes.TrimSpace(b.Bytes()), err
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// cappedBuffer is a bytes.Buffer that refuses to grow past max.
type cappedBuffer struct {
	bytes.Buffer
	max      int
	overflow bool
}

var errOutputTooLarge = errors.New("output limit reached")

func (b *cappedBuffer) Write(p []byte) (int, error) {
	if b.Len()+len(p) > b.max {
		b.overflow = true
		return 0, errOutputTooLarge
	}
	return b.Buffer.Write(p)
}

func (b *cappedBuffer) WriteString(s string) (int, error) { return b.Write([]byte(s)) }

// limitListener accepts at most n connections at once: Accept waits for
// one to close before taking the next (as golang.org/x/net/netutil's
// LimitListener does).
func limitListener(ln net.Listener, n int) net.Listener {
	return &limitedListener{Listener: ln, sem: make(chan struct{}, n), done: make(chan struct{})}
}

type limitedListener struct {
	net.Listener
	sem       chan struct{}
	closeOnce sync.Once
	done      chan struct{}
}

func (l *limitedListener) Accept() (net.Conn, error) {
	select {
	case l.sem <- struct{}{}:
	case <-l.done:
		return nil, net.ErrClosed
	}
	c, err := l.Listener.Accept()
	if err != nil {
		<-l.sem
		return nil, err
	}
	return &limitedConn{Conn: c, release: func() { <-l.sem }}, nil
}

func (l *limitedListener) Close() error {
	l.closeOnce.Do(func() { close(l.done) })
	return l.Listener.Close()
}

type limitedConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *limitedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}
