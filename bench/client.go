package bench

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// ErrorClass names why a request failed; the empty class is success.
// docs/bench.md lists them.
type ErrorClass string

// Error classes. HTTP failures use "http_" plus the status code, e.g.
// "http_500" or "http_429" (HTTPClass).
const (
	ErrTimeout        ErrorClass = "timeout"            // no complete answer within the request timeout
	ErrConnect        ErrorClass = "connect"            // could not open a connection or send the request
	ErrDisconnect     ErrorClass = "disconnect"         // the stream was cut before it finished
	ErrMalformedEvent ErrorClass = "malformed_event"    // an SSE event or a JSON body that does not parse
	ErrStreamError    ErrorClass = "stream_error"       // the server sent an error object inside a 200 stream
	ErrNoContent      ErrorClass = "no_content"         // 200 OK but not one generated token
	ErrCancelled      ErrorClass = "cancelled"          // the run was interrupted while the request was in flight
	ErrTooLarge       ErrorClass = "response_too_large" // the body exceeded the size limit
)

// HTTPClass is the error class of a non-2xx status.
func HTTPClass(status int) ErrorClass { return ErrorClass("http_" + strconv.Itoa(status)) }

// Limits on what a server can make the harness read.
const (
	// maxResponseBytes bounds one response body (streamed or not). A
	// 32K-token answer streamed as one chunk per token is about 8 MiB of
	// SSE; 64 MiB is far above any real answer.
	maxResponseBytes = 64 << 20
	// maxErrorBody is how much of a failed response is kept for the message.
	maxErrorBody = 512
	// DefaultMaxRetryAfter caps how long one Retry-After pauses the run.
	DefaultMaxRetryAfter = 60 * time.Second
)

// RequestRecord is everything measured about one request. Offsets are from
// Start, as read on the injected clock.
type RequestRecord struct {
	ID    string    `json:"id"`
	Start time.Time `json:"start"`
	// Chunks are the arrival offsets of the streamed chunks that carried
	// generated text; Chunks[0] is the TTFT. Empty for non-streamed requests.
	Chunks []time.Duration `json:"-"`
	// E2E is the time to the last content chunk (streamed, as vLLM measures
	// it) or to the end of the body (not streamed).
	E2E time.Duration `json:"-"`
	// Done is when the response was fully read or the request failed.
	Done time.Time `json:"-"`
	// PromptTokens and OutputTokens come from the server's usage object;
	// without one, OutputTokens is the number of content chunks and
	// UsageReported is false.
	PromptTokens  int  `json:"prompt_tokens"`
	OutputTokens  int  `json:"output_tokens"`
	UsageReported bool `json:"usage_reported"`
	// Err is empty on success.
	Err        ErrorClass    `json:"error,omitempty"`
	ErrDetail  string        `json:"error_detail,omitempty"`
	Status     int           `json:"status,omitempty"`
	RetryAfter time.Duration `json:"-"`
	// Text is the generated text (kept only when the caller asks for it).
	Text string `json:"-"`
}

// OK reports whether the request succeeded.
func (r *RequestRecord) OK() bool { return r.Err == "" }

// TTFT returns the time to the first content chunk, false when unknown.
func (r *RequestRecord) TTFT() (time.Duration, bool) {
	if len(r.Chunks) == 0 {
		return 0, false
	}
	return r.Chunks[0], true
}

// Client sends single requests to a Target and measures them.
type Client struct {
	target   Target
	endpoint string
	http     *http.Client
	now      func() time.Time
	// KeepText keeps the generated text in each record (quality runs).
	KeepText bool
	// MaxSSELine bounds one SSE line (DefaultMaxSSELine when 0).
	MaxSSELine int
}

// NewClient validates t and returns a client that uses hc (a pooled
// transport sized for maxConns parallel streams when hc is nil) and reads
// time from now (time.Now when nil).
func NewClient(t Target, hc *http.Client, now func() time.Time, maxConns int) (*Client, error) {
	ep, err := t.Endpoint()
	if err != nil {
		return nil, err
	}
	if t.Model == "" && !t.Azure() {
		return nil, errors.New("model name is empty; pass --model with the name the server serves (GET /v1/models lists them)")
	}
	if hc == nil {
		hc = NewHTTPClient(maxConns)
	}
	if now == nil {
		now = time.Now
	}
	return &Client{target: t, endpoint: ep, http: hc, now: now}, nil
}

// NewHTTPClient returns an HTTP client for benchmarking: one pooled
// transport that keeps up to maxConns idle connections per host (so a
// closed loop at concurrency c reuses c warm connections), no transparent
// gzip (compression would buffer the event stream), and bounded dial and
// TLS handshake times. Request deadlines come from contexts.
func NewHTTPClient(maxConns int) *http.Client {
	if maxConns < 1 {
		maxConns = 1
	}
	tr := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		TLSHandshakeTimeout:   10 * time.Second,
		TLSClientConfig:       &tls.Config{MinVersion: tls.VersionTLS12},
		MaxIdleConns:          maxConns + 16,
		MaxIdleConnsPerHost:   maxConns + 16,
		IdleConnTimeout:       90 * time.Second,
		DisableCompression:    true,
		ExpectContinueTimeout: time.Second,
		ForceAttemptHTTP2:     true,
	}
	return &http.Client{Transport: tr}
}

// Endpoint is the URL requests go to.
func (c *Client) Endpoint() string { return c.endpoint }

// Request is one prompt to send.
type Request struct {
	ID     string
	Prompt string
	// System is an optional system message (chat only).
	System string
	// MaxTokens is the output budget (max_tokens); 0 leaves it to the server.
	MaxTokens int
	// ForceLength adds ignore_eos and min_tokens=MaxTokens so that every
	// answer has exactly MaxTokens tokens (vLLM and SGLang accept these
	// extra sampling parameters; OpenAI and Azure OpenAI reject them).
	ForceLength bool
	// Temperature, when non-nil, is sent as "temperature".
	Temperature *float64
	// PromptTokens is the caller's own estimate of the prompt length, used
	// when the server reports no usage.
	PromptTokens int
}

type chatMessage struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

type streamOptions struct {
	IncludeUsage bool `json:"include_usage"`
}

type requestBody struct {
	Model         string         `json:"model,omitempty"`
	Messages      []chatMessage  `json:"messages,omitempty"`
	Prompt        *string        `json:"prompt,omitempty"`
	MaxTokens     int            `json:"max_tokens,omitempty"`
	Temperature   *float64       `json:"temperature,omitempty"`
	Stream        bool           `json:"stream,omitempty"`
	StreamOptions *streamOptions `json:"stream_options,omitempty"`
	IgnoreEOS     bool           `json:"ignore_eos,omitempty"`
	MinTokens     int            `json:"min_tokens,omitempty"`
}

// Body returns the JSON request body for r.
func (c *Client) Body(r Request) ([]byte, error) {
	b := requestBody{Model: c.target.Model, MaxTokens: r.MaxTokens, Temperature: r.Temperature}
	if c.target.API == APICompletions {
		p := r.Prompt
		if r.System != "" {
			p = r.System + "\n\n" + p
		}
		b.Prompt = &p
	} else {
		if r.System != "" {
			b.Messages = append(b.Messages, chatMessage{Role: "system", Content: r.System})
		}
		b.Messages = append(b.Messages, chatMessage{Role: "user", Content: r.Prompt})
	}
	if c.target.Stream {
		b.Stream = true
		// Usage in the last chunk gives exact token counts from the
		// server's own tokenizer (OpenAI API: stream_options.include_usage).
		b.StreamOptions = &streamOptions{IncludeUsage: true}
	}
	if r.ForceLength && r.MaxTokens > 0 {
		b.IgnoreEOS = true
		b.MinTokens = r.MaxTokens
	}
	return json.Marshal(b)
}

// Do sends one request with the prepared body and measures it. It never
// returns an error: failures are classified in the record.
func (c *Client) Do(ctx context.Context, id string, body []byte, promptTokens int) RequestRecord {
	rec := RequestRecord{ID: id, PromptTokens: promptTokens}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.endpoint, bytes.NewReader(body))
	if err != nil {
		rec.Err, rec.ErrDetail = ErrConnect, err.Error()
		rec.Start = c.now()
		rec.Done = rec.Start
		return rec
	}
	req.Header.Set("Content-Type", "application/json")
	if c.target.Stream {
		req.Header.Set("Accept", "text/event-stream")
	} else {
		req.Header.Set("Accept", "application/json")
	}
	req.Header.Set("X-Request-Id", id)
	if c.target.APIKey != "" {
		if c.target.Azure() {
			req.Header.Set("api-key", c.target.APIKey)
		} else {
			req.Header.Set("Authorization", "Bearer "+c.target.APIKey)
		}
	}
	rec.Start = c.now()
	resp, err := c.http.Do(req)
	if err != nil {
		rec.Err, rec.ErrDetail = classifyTransport(ctx, err)
		rec.Done = c.now()
		return rec
	}
	defer resp.Body.Close()
	rec.Status = resp.StatusCode
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		rec.Err = HTTPClass(resp.StatusCode)
		rec.RetryAfter = parseRetryAfter(resp.Header.Get("Retry-After"), c.now())
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
		rec.ErrDetail = strings.TrimSpace(string(msg))
		rec.Done = c.now()
		return rec
	}
	body2 := &limitedBody{r: resp.Body, left: maxResponseBytes}
	ct := resp.Header.Get("Content-Type")
	if c.target.Stream && !strings.HasPrefix(ct, "application/json") {
		c.readStream(ctx, body2, &rec)
	} else {
		c.readJSON(ctx, body2, &rec)
	}
	rec.Done = c.now()
	return rec
}

// errBodyTooLarge marks a response past maxResponseBytes.
var errBodyTooLarge = errors.New("response body exceeds the size limit")

type limitedBody struct {
	r    io.Reader
	left int64
}

func (l *limitedBody) Read(p []byte) (int, error) {
	if l.left <= 0 {
		return 0, errBodyTooLarge
	}
	if int64(len(p)) > l.left {
		p = p[:l.left]
	}
	n, err := l.r.Read(p)
	l.left -= int64(n)
	return n, err
}

type usageObj struct {
	PromptTokens     int `json:"prompt_tokens"`
	CompletionTokens int `json:"completion_tokens"`
}

type streamChunk struct {
	Choices []struct {
		Text  string `json:"text"`
		Delta struct {
			Content          string `json:"content"`
			ReasoningContent string `json:"reasoning_content"`
			Reasoning        string `json:"reasoning"`
		} `json:"delta"`
		FinishReason *string `json:"finish_reason"`
	} `json:"choices"`
	Usage *usageObj       `json:"usage"`
	Error json.RawMessage `json:"error"`
}

var doneMarker = []byte("[DONE]")

// jsonUnmarshal decodes one event; a variable so benchmarks measure the
// same call the read loop makes.
var jsonUnmarshal = json.Unmarshal

func (c *Client) readStream(ctx context.Context, body io.Reader, rec *RequestRecord) {
	sr := NewSSEReader(body, c.MaxSSELine)
	var (
		finished bool
		text     strings.Builder
		last     time.Duration
	)
	for {
		ev, err := sr.Next()
		if err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			rec.Err, rec.ErrDetail = classifyStreamErr(ctx, err)
			return
		}
		t := c.now()
		switch ev.Type {
		case "message":
		case "error":
			rec.Err, rec.ErrDetail = ErrStreamError, truncate(string(ev.Data))
			return
		default:
			continue // named events (pings, metadata) carry no OpenAI chunk
		}
		data := bytes.TrimSpace(ev.Data)
		if bytes.Equal(data, doneMarker) {
			finished = true
			break
		}
		ch, err := decodeChunk(data)
		if err != nil {
			rec.Err, rec.ErrDetail = ErrMalformedEvent, "event data is not JSON: "+truncate(string(data))
			return
		}
		if ch.errRaw != nil {
			rec.Err, rec.ErrDetail = ErrStreamError, truncate(string(ch.errRaw))
			return
		}
		if ch.usage != nil {
			rec.UsageReported = true
			rec.OutputTokens = ch.usage.CompletionTokens
			if ch.usage.PromptTokens > 0 {
				rec.PromptTokens = ch.usage.PromptTokens
			}
		}
		if !ch.choices {
			continue // usage-only or Azure prompt-filter chunk
		}
		piece := ch.piece
		if ch.finished {
			finished = true
		}
		if piece == "" {
			continue // role-only or finish chunk: not a token
		}
		off := t.Sub(rec.Start)
		rec.Chunks = append(rec.Chunks, off)
		last = off
		if c.KeepText {
			text.WriteString(piece)
		}
	}
	if !finished {
		rec.Err, rec.ErrDetail = ErrDisconnect, "stream ended without a finish_reason or [DONE]"
		return
	}
	if len(rec.Chunks) == 0 {
		rec.Err, rec.ErrDetail = ErrNoContent, "the stream carried no generated text"
		return
	}
	rec.E2E = last
	if rec.UsageReported && rec.OutputTokens == 0 {
		// A usage object without completion_tokens: count chunks instead.
		rec.UsageReported = false
	}
	if !rec.UsageReported {
		rec.OutputTokens = len(rec.Chunks)
	}
	rec.Text = text.String()
}

type jsonResponse struct {
	Choices []struct {
		Text    string `json:"text"`
		Message struct {
			Content          string `json:"content"`
			ReasoningContent string `json:"reasoning_content"`
		} `json:"message"`
	} `json:"choices"`
	Usage *usageObj       `json:"usage"`
	Error json.RawMessage `json:"error"`
}

func (c *Client) readJSON(ctx context.Context, body io.Reader, rec *RequestRecord) {
	b, err := io.ReadAll(body)
	if err != nil {
		rec.Err, rec.ErrDetail = classifyStreamErr(ctx, err)
		return
	}
	rec.E2E = c.now().Sub(rec.Start)
	var jr jsonResponse
	if err := json.Unmarshal(b, &jr); err != nil {
		rec.Err, rec.ErrDetail = ErrMalformedEvent, "response is not JSON: "+truncate(string(b))
		return
	}
	if len(jr.Error) > 0 && string(jr.Error) != "null" {
		rec.Err, rec.ErrDetail = ErrStreamError, truncate(string(jr.Error))
		return
	}
	if len(jr.Choices) == 0 {
		rec.Err, rec.ErrDetail = ErrNoContent, "response has no choices"
		return
	}
	txt := jr.Choices[0].Text + jr.Choices[0].Message.Content
	if jr.Usage != nil {
		rec.UsageReported = true
		rec.OutputTokens = jr.Usage.CompletionTokens
		if jr.Usage.PromptTokens > 0 {
			rec.PromptTokens = jr.Usage.PromptTokens
		}
	}
	if txt == "" && jr.Choices[0].Message.ReasoningContent == "" && rec.OutputTokens == 0 {
		rec.Err, rec.ErrDetail = ErrNoContent, "response has no generated text"
		return
	}
	rec.Text = txt
}

func truncate(s string) string {
	if len(s) > maxErrorBody {
		return s[:maxErrorBody] + "…"
	}
	return s
}

// classifyTransport maps an error from http.Client.Do (no response yet).
func classifyTransport(ctx context.Context, err error) (ErrorClass, string) {
	if cls, ok := ctxClass(ctx); ok {
		return cls, err.Error()
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return ErrTimeout, err.Error()
	}
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return ErrConnect, err.Error()
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNRESET) {
		// The server closed the connection before sending a status line.
		return ErrDisconnect, err.Error()
	}
	return ErrConnect, err.Error()
}

// classifyStreamErr maps an error while reading a 2xx body.
func classifyStreamErr(ctx context.Context, err error) (ErrorClass, string) {
	if cls, ok := ctxClass(ctx); ok {
		return cls, err.Error()
	}
	switch {
	case errors.Is(err, ErrSSELineTooLong):
		return ErrMalformedEvent, err.Error()
	case errors.Is(err, errBodyTooLarge):
		return ErrTooLarge, err.Error()
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return ErrTimeout, err.Error()
	}
	return ErrDisconnect, err.Error()
}

// ctxClass tells a request deadline (timeout) from an interrupted run.
func ctxClass(ctx context.Context) (ErrorClass, bool) {
	switch {
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		return ErrTimeout, true
	case ctx.Err() != nil:
		return ErrCancelled, true
	}
	return "", false
}

// parseRetryAfter reads a Retry-After value, either delay-seconds or an
// HTTP-date (RFC 9110 section 10.2.3); 0 when absent or unparsable.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if s, err := strconv.ParseFloat(v, 64); err == nil {
		if s <= 0 || s > 1e6 {
			return 0
		}
		return time.Duration(s * float64(time.Second))
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := t.Sub(now); d > 0 {
			return d
		}
	}
	return 0
}

// String describes a record for logs.
func (r *RequestRecord) String() string {
	if r.OK() {
		return fmt.Sprintf("%s ok %d tokens in %s", r.ID, r.OutputTokens, r.E2E)
	}
	return fmt.Sprintf("%s %s: %s", r.ID, r.Err, r.ErrDetail)
}
