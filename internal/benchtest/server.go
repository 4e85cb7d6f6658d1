// Package benchtest is a fake OpenAI-compatible server for testing and
// self-benchmarking the bench package: it streams chat or completions
// answers over server-sent events with controlled timing, injects faults on
// chosen requests, and records when it sent every chunk so that a test can
// measure the harness's own timing error.
//
// It binds only to 127.0.0.1 (httptest.NewServer) and every handler is
// bounded in time.
package benchtest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// FaultKind selects a misbehaviour.
type FaultKind int

// Faults the server can inject.
const (
	None           FaultKind = iota
	SlowFirstToken           // wait Fault.Delay before the first token
	DropMidStream            // abort the connection after Fault.After chunks
	Status                   // answer with Fault.Code (and Retry-After: Fault.RetryAfter)
	MalformedEvent           // send a non-JSON data event after Fault.After chunks
	Hang                     // never answer (until the client goes away or MaxHang)
	ErrorEvent               // send {"error": …} inside the 200 stream after Fault.After chunks
)

// Fault is what to do to one request.
type Fault struct {
	Kind       FaultKind
	Delay      time.Duration
	After      int
	Code       int
	RetryAfter string
}

// Options configure the server.
type Options struct {
	// TTFT is the delay before the first token, ITL between tokens.
	TTFT, ITL time.Duration
	// Tokens overrides the answer length; 0 uses the request's max_tokens
	// (16 when absent). Capped at 4096.
	Tokens int
	// NoUsage leaves the usage chunk out even when asked for.
	NoUsage bool
	// Fault picks a fault for the n-th request received (1-based) and its
	// X-Request-Id; nil means none.
	Fault func(n int64, id string) Fault
	// RecordSends keeps every chunk's send time, keyed by X-Request-Id.
	RecordSends bool
	// RejectExtras answers 400 to bodies with ignore_eos or min_tokens, as
	// the OpenAI API does.
	RejectExtras bool
	// APIKey, when set, is required as "Bearer KEY" or as the api-key header.
	APIKey string
	// Answer, when set, makes the answer text (sent as one chunk per
	// space-separated word when streaming); Tokens is then ignored.
	Answer func(req Request) string
	// MaxHang bounds a Hang fault (10 s when 0).
	MaxHang time.Duration
}

// Request is the parsed body of one request.
type Request struct {
	Model       string  `json:"model"`
	Prompt      *string `json:"prompt"`
	MaxTokens   int     `json:"max_tokens"`
	Stream      bool    `json:"stream"`
	Temperature *float64
	IgnoreEOS   bool `json:"ignore_eos"`
	MinTokens   int  `json:"min_tokens"`
	Messages    []struct {
		Role    string `json:"role"`
		Content string `json:"content"`
	} `json:"messages"`
	StreamOptions *struct {
		IncludeUsage bool `json:"include_usage"`
	} `json:"stream_options"`
	// Path and Query are the request's URL path and raw query; Header its
	// headers.
	Path   string      `json:"-"`
	Query  string      `json:"-"`
	Header http.Header `json:"-"`
}

// Text returns the prompt (completions) or the last user message (chat).
func (r Request) Text() string {
	if r.Prompt != nil {
		return *r.Prompt
	}
	for i := len(r.Messages) - 1; i >= 0; i-- {
		if r.Messages[i].Role == "user" {
			return r.Messages[i].Content
		}
	}
	return ""
}

// Server is a running fake endpoint.
type Server struct {
	*httptest.Server
	opts  Options
	count atomic.Int64

	mu    sync.Mutex
	sends map[string][]time.Time
	last  []Request
}

// New starts a server on 127.0.0.1. Close it when done.
func New(opts Options) *Server {
	s := &Server{opts: opts, sends: map[string][]time.Time{}}
	s.Server = httptest.NewServer(http.HandlerFunc(s.handle))
	return s
}

// URL of the OpenAI-style base, e.g. http://127.0.0.1:PORT/v1.
func (s *Server) BaseURL() string { return s.Server.URL + "/v1" }

// Count is the number of requests received.
func (s *Server) Count() int64 { return s.count.Load() }

// Sends returns the recorded send times of content chunks for a request id.
func (s *Server) Sends(id string) []time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Time(nil), s.sends[id]...)
}

// Requests returns the last (up to 64) parsed requests.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.last...)
}

func (s *Server) handle(w http.ResponseWriter, r *http.Request) {
	n := s.count.Add(1)
	if r.Method != http.MethodPost {
		http.Error(w, "POST only", http.StatusMethodNotAllowed)
		return
	}
	chat := strings.HasSuffix(r.URL.Path, "/chat/completions")
	if !chat && !strings.HasSuffix(r.URL.Path, "/completions") {
		http.Error(w, `{"error":{"message":"not found"}}`, http.StatusNotFound)
		return
	}
	if k := s.opts.APIKey; k != "" && r.Header.Get("Authorization") != "Bearer "+k && r.Header.Get("api-key") != k {
		http.Error(w, `{"error":{"message":"bad key"}}`, http.StatusUnauthorized)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 64<<20))
	if err != nil {
		return
	}
	var req Request
	if err := json.Unmarshal(body, &req); err != nil {
		http.Error(w, `{"error":{"message":"bad json"}}`, http.StatusBadRequest)
		return
	}
	req.Path, req.Query, req.Header = r.URL.Path, r.URL.RawQuery, r.Header.Clone()
	if s.opts.Answer != nil || s.opts.RejectExtras {
		s.mu.Lock()
		if len(s.last) >= 64 {
			s.last = s.last[1:]
		}
		s.last = append(s.last, req)
		s.mu.Unlock()
	} else if n <= 64 {
		s.mu.Lock()
		s.last = append(s.last, req)
		s.mu.Unlock()
	}
	if s.opts.RejectExtras && (req.IgnoreEOS || req.MinTokens > 0) {
		http.Error(w, `{"error":{"message":"Unrecognized request argument supplied: ignore_eos"}}`, http.StatusBadRequest)
		return
	}
	var f Fault
	if s.opts.Fault != nil {
		f = s.opts.Fault(n, r.Header.Get("X-Request-Id"))
	}
	switch f.Kind {
	case Status:
		if f.RetryAfter != "" {
			w.Header().Set("Retry-After", f.RetryAfter)
		}
		http.Error(w, `{"error":{"message":"injected"}}`, f.Code)
		return
	case Hang:
		maxHang := s.opts.MaxHang
		if maxHang <= 0 {
			maxHang = 10 * time.Second
		}
		select {
		case <-r.Context().Done():
		case <-time.After(maxHang):
		}
		return
	}

	words := s.answer(req)
	id := r.Header.Get("X-Request-Id")
	if !req.Stream {
		s.writeJSON(w, req, chat, words)
		return
	}
	s.stream(w, r, req, chat, words, id, f)
}

func (s *Server) answer(req Request) []string {
	if s.opts.Answer != nil {
		return strings.SplitAfter(s.opts.Answer(req), " ")
	}
	k := s.opts.Tokens
	if k == 0 {
		k = req.MaxTokens
	}
	if k <= 0 {
		k = 16
	}
	k = min(k, 4096)
	out := make([]string, k)
	for i := range out {
		out[i] = "tok "
	}
	return out
}

func promptTokens(req Request) int { return len(strings.Fields(req.Text())) }

func (s *Server) writeJSON(w http.ResponseWriter, req Request, chat bool, words []string) {
	text := strings.Join(words, "")
	if s.opts.TTFT > 0 {
		time.Sleep(s.opts.TTFT)
	}
	w.Header().Set("Content-Type", "application/json")
	var choice any
	if chat {
		choice = map[string]any{"index": 0, "message": map[string]string{"role": "assistant", "content": text}, "finish_reason": "stop"}
	} else {
		choice = map[string]any{"index": 0, "text": text, "finish_reason": "stop"}
	}
	resp := map[string]any{"id": "x", "object": "completion", "model": req.Model, "choices": []any{choice}}
	if !s.opts.NoUsage {
		pt := promptTokens(req)
		resp["usage"] = map[string]int{"prompt_tokens": pt, "completion_tokens": len(words), "total_tokens": pt + len(words)}
	}
	_ = json.NewEncoder(w).Encode(resp)
}

// Pre-rendered pieces of the stream, so that the server spends its time on
// I/O rather than JSON, and can keep up with the harness in benchmarks.
var (
	chatRole  = []byte("data: {\"id\":\"x\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"},\"finish_reason\":null}]}\n\n")
	doneEvent = []byte("data: [DONE]\n\n")
)

func tokenEvent(chat bool, piece string, finish bool) []byte {
	fin := "null"
	if finish {
		fin = `"length"`
	}
	p, _ := json.Marshal(piece)
	if chat {
		return []byte(`data: {"id":"x","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":` + string(p) + `},"finish_reason":` + fin + "}]}\n\n")
	}
	return []byte(`data: {"id":"x","object":"text_completion","choices":[{"index":0,"text":` + string(p) + `,"finish_reason":` + fin + "}]}\n\n")
}

var (
	chatTok   = tokenEvent(true, "tok ", false)
	complTok  = tokenEvent(false, "tok ", false)
	chatLast  = tokenEvent(true, "tok ", true)
	complLast = tokenEvent(false, "tok ", true)
)

func (s *Server) stream(w http.ResponseWriter, r *http.Request, req Request, chat bool, words []string, id string, f Fault) {
	fl, ok := w.(http.Flusher)
	if !ok {
		http.Error(w, "no flusher", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	if chat {
		_, _ = w.Write(chatRole)
	}
	fl.Flush()
	var sends []time.Time
	if s.opts.RecordSends {
		sends = make([]time.Time, 0, len(words))
	}
	ttft := s.opts.TTFT
	if f.Kind == SlowFirstToken {
		ttft = f.Delay
	}
	sleep := func(d time.Duration) bool {
		if d <= 0 {
			return true
		}
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C:
			return true
		case <-r.Context().Done():
			return false
		}
	}
	if !sleep(ttft) {
		return
	}
	for i, wd := range words {
		if i > 0 && !sleep(s.opts.ITL) {
			return
		}
		if i == f.After {
			switch f.Kind {
			case DropMidStream:
				// ErrAbortHandler makes net/http drop the connection without
				// the chunked terminator: the client sees a cut stream.
				panic(http.ErrAbortHandler)
			case MalformedEvent:
				_, _ = w.Write([]byte("data: {\"choices\": [{\"delta\": {\"content\": \"unterminated\n\n"))
				fl.Flush()
				return
			case ErrorEvent:
				_, _ = w.Write([]byte("data: {\"error\":{\"message\":\"engine died\",\"code\":500}}\n\n"))
				fl.Flush()
				return
			}
		}
		last := i == len(words)-1
		var ev []byte
		switch {
		case s.opts.Answer != nil:
			ev = tokenEvent(chat, wd, last)
		case chat && last:
			ev = chatLast
		case chat:
			ev = chatTok
		case last:
			ev = complLast
		default:
			ev = complTok
		}
		_, _ = w.Write(ev)
		fl.Flush()
		if sends != nil {
			sends = append(sends, time.Now())
		}
	}
	// Publish the send times before the stream ends, so a client that has
	// read [DONE] always finds them.
	if sends != nil && id != "" {
		s.mu.Lock()
		s.sends[id] = sends
		s.mu.Unlock()
	}
	if !s.opts.NoUsage && req.StreamOptions != nil && req.StreamOptions.IncludeUsage {
		pt := promptTokens(req)
		fmt.Fprintf(w, "data: {\"id\":\"x\",\"choices\":[],\"usage\":{\"prompt_tokens\":%d,\"completion_tokens\":%d,\"total_tokens\":%d}}\n\n", pt, len(words), pt+len(words))
	}
	_, _ = w.Write(doneEvent)
	fl.Flush()
}

// RetryAfterSeconds formats a Retry-After value.
func RetryAfterSeconds(s int) string { return strconv.Itoa(s) }
