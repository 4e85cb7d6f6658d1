package bench

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeClock is an injected clock that only moves when a scripted body
// delivers its next piece, so every timestamp the client takes is known.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

var epoch = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) set(t time.Time) {
	c.mu.Lock()
	c.now = t
	c.mu.Unlock()
}

// step is one piece of a response body, delivered at offset at from epoch.
type step struct {
	at   time.Duration
	data string
	err  error // returned after data instead of continuing
}

type scriptedBody struct {
	clock *fakeClock
	steps []step
	i     int
	rest  string
}

func (b *scriptedBody) Read(p []byte) (int, error) {
	if b.rest == "" {
		if b.i >= len(b.steps) {
			return 0, io.EOF
		}
		s := b.steps[b.i]
		b.i++
		b.clock.set(epoch.Add(s.at))
		if s.err != nil && s.data == "" {
			return 0, s.err
		}
		b.rest = s.data
	}
	n := copy(p, b.rest)
	b.rest = b.rest[n:]
	return n, nil
}

func (b *scriptedBody) Close() error { return nil }

// scriptedTransport answers every request with the same status, headers
// and scripted body, without any network.
type scriptedTransport struct {
	clock  *fakeClock
	status int
	header http.Header
	steps  []step
}

func (s *scriptedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	s.clock.set(epoch) // request start
	h := s.header
	if h == nil {
		h = http.Header{"Content-Type": {"text/event-stream"}}
	}
	return &http.Response{StatusCode: s.status, Header: h, Body: &scriptedBody{clock: s.clock, steps: s.steps}, Request: req}, nil
}

func chatChunk(content string) string {
	return `data: {"choices":[{"index":0,"delta":{"content":"` + content + `"},"finish_reason":null}]}` + "\n\n"
}

const (
	roleChunk  = `data: {"choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}` + "\n\n"
	finalChunk = `data: {"choices":[{"index":0,"delta":{"content":"!"},"finish_reason":"length"}]}` + "\n\n"
	doneChunk  = "data: [DONE]\n\n"
)

func usageChunk(p, c int) string {
	return `data: {"choices":[],"usage":{"prompt_tokens":` + itoa(p) + `,"completion_tokens":` + itoa(c) + `}}` + "\n\n"
}

func itoa(i int) string { return strconv.Itoa(i) }

func scriptedClient(t *testing.T, tr *scriptedTransport, stream bool) *Client {
	t.Helper()
	cl, err := NewClient(Target{URL: "http://127.0.0.1:1/v1", Model: "m", API: APIChat, Stream: stream}, &http.Client{Transport: tr}, tr.clock.Now, 1)
	if err != nil {
		t.Fatal(err)
	}
	return cl
}

func msD(f float64) time.Duration { return time.Duration(f * float64(time.Millisecond)) }

// TestClientStreamTimingExact drives one streamed request through an
// injected clock: the role chunk at 5 ms carries no text and must not count
// as the first token; content arrives at 40, 50, 65 and 70 ms; usage says
// 4 tokens.
func TestClientStreamTimingExact(t *testing.T) {
	clk := &fakeClock{now: epoch}
	tr := &scriptedTransport{clock: clk, status: 200, steps: []step{
		{at: msD(5), data: roleChunk},
		{at: msD(40), data: chatChunk("a")},
		{at: msD(50), data: chatChunk("b")},
		{at: msD(65), data: chatChunk("c")},
		{at: msD(70), data: finalChunk},
		{at: msD(71), data: usageChunk(12, 4)},
		{at: msD(72), data: doneChunk},
	}}
	rec := scriptedClient(t, tr, true).Do(context.Background(), "r1", []byte("{}"), 0)
	if !rec.OK() {
		t.Fatalf("failed: %v", rec.String())
	}
	want := []time.Duration{msD(40), msD(50), msD(65), msD(70)}
	if len(rec.Chunks) != len(want) {
		t.Fatalf("chunks %v, want %v", rec.Chunks, want)
	}
	for i := range want {
		if rec.Chunks[i] != want[i] {
			t.Errorf("chunk %d at %v, want %v", i, rec.Chunks[i], want[i])
		}
	}
	if rec.E2E != msD(70) || rec.OutputTokens != 4 || rec.PromptTokens != 12 || !rec.UsageReported {
		t.Errorf("e2e %v out %d prompt %d usage %v", rec.E2E, rec.OutputTokens, rec.PromptTokens, rec.UsageReported)
	}
	if got := rec.Done.Sub(rec.Start); got != msD(72) {
		t.Errorf("done after %v, want 72ms", got)
	}
	// TTFT 40; ITL 10, 15, 5; TPOT (70-40)/(4-1) = 10; E2E 70.
	m := ComputeMetrics([]RequestRecord{rec}, SLO{TTFTms: 40, TPOTms: 10})
	if m.TTFT.Mean != 40 || m.TPOT.Mean != 10 || m.E2E.Mean != 70 {
		t.Errorf("ttft %v tpot %v e2e %v", m.TTFT, m.TPOT, m.E2E)
	}
	if m.ITL.Mean != 10 || m.ITL.P50 != 10 || m.ITL.P99 != 14.9 {
		t.Errorf("itl %+v, want mean 10, p50 10, p99 14.9", *m.ITL)
	}
	// Duration 72 ms: 1/0.072 requests/s, 4/0.072 tokens/s, goodput the same
	// (TTFT 40 ≤ 40 and TPOT 10 ≤ 10 meet the SLOs, boundaries included).
	if m.RequestsPerS != 1/0.072 || m.OutputTokensPerS != 4/0.072 || *m.GoodputPerS != 1/0.072 {
		t.Errorf("rates %v %v %v", m.RequestsPerS, m.OutputTokensPerS, *m.GoodputPerS)
	}
}

func TestClientNoUsageCountsChunks(t *testing.T) {
	clk := &fakeClock{now: epoch}
	tr := &scriptedTransport{clock: clk, status: 200, steps: []step{
		{at: msD(10), data: chatChunk("a")}, {at: msD(20), data: chatChunk("b") + finalChunk + doneChunk},
	}}
	rec := scriptedClient(t, tr, true).Do(context.Background(), "r", []byte("{}"), 33)
	if !rec.OK() || rec.UsageReported || rec.OutputTokens != 3 || rec.PromptTokens != 33 {
		t.Fatalf("%+v", rec)
	}
	// Two chunks in one read share a timestamp: a zero gap, as vLLM records.
	if rec.Chunks[1] != msD(20) || rec.Chunks[2] != msD(20) {
		t.Errorf("chunks %v", rec.Chunks)
	}
}

func TestClientUsageWithoutCounts(t *testing.T) {
	clk := &fakeClock{now: epoch}
	tr := &scriptedTransport{clock: clk, status: 200, steps: []step{
		{at: msD(10), data: chatChunk("a") + finalChunk + `data: {"choices":[],"usage":{}}` + "\n\n" + doneChunk},
	}}
	rec := scriptedClient(t, tr, true).Do(context.Background(), "r", []byte("{}"), 0)
	if !rec.OK() || rec.UsageReported || rec.OutputTokens != 2 {
		t.Fatalf("usage without completion_tokens must fall back to chunks: %+v", rec)
	}
}

func TestClientErrorClasses(t *testing.T) {
	cut := errors.New("connection reset by peer")
	tests := []struct {
		name   string
		status int
		header http.Header
		steps  []step
		want   ErrorClass
	}{
		{"500", 500, http.Header{}, []step{{data: `{"error":"x"}`}}, "http_500"},
		{"429", 429, http.Header{"Retry-After": {"3"}}, nil, "http_429"},
		{"cut mid-stream", 200, nil, []step{{at: msD(1), data: chatChunk("a")}, {at: msD(2), err: cut}}, ErrDisconnect},
		{"clean EOF without finish", 200, nil, []step{{at: msD(1), data: chatChunk("a")}}, ErrDisconnect},
		{"EOF inside an event", 200, nil, []step{{at: msD(1), data: chatChunk("a") + "data: {\"choi"}}, ErrDisconnect},
		{"malformed JSON", 200, nil, []step{{at: msD(1), data: "data: {not json}\n\n"}}, ErrMalformedEvent},
		{"error object in stream", 200, nil, []step{{at: msD(1), data: `data: {"error":{"message":"oom"}}` + "\n\n"}}, ErrStreamError},
		{"error event type", 200, nil, []step{{at: msD(1), data: "event: error\ndata: boom\n\n"}}, ErrStreamError},
		{"named events are skipped", 200, nil, []step{{at: msD(1), data: "event: ping\ndata: not json\n\n" + chatChunk("a") + finalChunk + doneChunk}}, ""},
		{"no content", 200, nil, []step{{at: msD(1), data: roleChunk + finalChunkEmpty + doneChunk}}, ErrNoContent},
		{"line too long", 200, nil, []step{{at: msD(1), data: "data: " + strings.Repeat("x", DefaultMaxSSELine+10) + "\n\n"}}, ErrMalformedEvent},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := &fakeClock{now: epoch}
			tr := &scriptedTransport{clock: clk, status: tt.status, header: tt.header, steps: tt.steps}
			rec := scriptedClient(t, tr, true).Do(context.Background(), "r", []byte("{}"), 0)
			if rec.Err != tt.want {
				t.Fatalf("class %q (%s), want %q", rec.Err, rec.ErrDetail, tt.want)
			}
			if tt.status == 429 && rec.RetryAfter != 3*time.Second {
				t.Errorf("retry-after %v, want 3s", rec.RetryAfter)
			}
		})
	}
}

const finalChunkEmpty = `data: {"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}` + "\n\n"

func TestClientNonStreamed(t *testing.T) {
	clk := &fakeClock{now: epoch}
	tr := &scriptedTransport{clock: clk, status: 200, header: http.Header{"Content-Type": {"application/json"}}, steps: []step{
		{at: msD(250), data: `{"choices":[{"message":{"role":"assistant","content":"42"}}],"usage":{"prompt_tokens":9,"completion_tokens":2}}`},
	}}
	cl := scriptedClient(t, tr, false)
	cl.KeepText = true
	rec := cl.Do(context.Background(), "r", []byte("{}"), 0)
	if !rec.OK() || rec.Text != "42" || rec.E2E != msD(250) || rec.OutputTokens != 2 || len(rec.Chunks) != 0 {
		t.Fatalf("%+v", rec)
	}
	m := ComputeMetrics([]RequestRecord{rec}, SLO{})
	if m.TTFT != nil || m.TPOT != nil || m.ITL != nil || m.E2E.P50 != 250 || m.GoodputPerS != nil {
		t.Errorf("non-streamed metrics: %+v", m)
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		in   string
		want time.Duration
	}{
		{"", 0}, {"5", 5 * time.Second}, {"0", 0}, {"-3", 0}, {"soon", 0},
		{"Fri, 01 May 2026 12:00:30 GMT", 30 * time.Second}, // RFC 9110 IMF-fixdate
		{"Fri, 01 May 2026 11:00:00 GMT", 0},                // in the past
	} {
		if got := parseRetryAfter(tt.in, now); got != tt.want {
			t.Errorf("parseRetryAfter(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}
