package bench

import (
	"bufio"
	"bytes"
	"errors"
	"io"
)

// DefaultMaxSSELine is the longest SSE line the reader accepts. bufio.Scanner
// stops at 64 KiB by default, which truncates large `data:` lines (ollama's
// api/client.go raises its buffer for the same reason). One streamed chat chunk is a few hundred bytes;
// 1 MiB leaves room for servers that put long logprobs or tool calls in one
// event while bounding what a hostile server can make us buffer.
const DefaultMaxSSELine = 1 << 20

// ErrSSELineTooLong means a line exceeded the reader's limit.
var ErrSSELineTooLong = errors.New("sse: line longer than the limit")

// ErrSSEIncomplete means the stream ended in the middle of an event (data
// read but no terminating blank line). Per the WHATWG server-sent events
// specification the partial event is discarded; callers treat the stream as
// cut short.
var ErrSSEIncomplete = errors.New("sse: stream ended inside an event")

// SSEEvent is one dispatched server-sent event.
type SSEEvent struct {
	// Type is the `event:` field, "message" when absent (the spec's default).
	Type string
	// Data is the concatenation of the event's `data:` lines joined by "\n".
	// It is only valid until the next call to Next.
	Data []byte
	// ID is the last `id:` field seen, as the spec's last-event-ID buffer.
	ID string
}

// SSEReader parses a text/event-stream body following the WHATWG HTML
// specification, section "Server-sent events", "Interpreting an event
// stream": lines end in CRLF, LF or CR; a line starting with ':' is a
// comment; "field: value" drops one space after the colon; `data` lines are
// joined with "\n"; a blank line dispatches the event; an event whose data
// buffer is empty is not dispatched; `retry` is ignored (we never reconnect).
type SSEReader struct {
	sc        *bufio.Scanner
	split     lineSplitter
	data      []byte
	out       []byte
	hasData   bool
	eventType string
	id        string
	first     bool
	partial   bool // a non-blank line was seen since the last dispatch
}

// NewSSEReader returns a reader of r whose lines may be at most maxLine bytes
// (DefaultMaxSSELine when maxLine ≤ 0). The buffer starts small and grows
// only as long lines require.
func NewSSEReader(r io.Reader, maxLine int) *SSEReader {
	if maxLine <= 0 {
		maxLine = DefaultMaxSSELine
	}
	s := &SSEReader{sc: bufio.NewScanner(r), first: true}
	initial := 4096
	if initial > maxLine {
		initial = maxLine
	}
	// bufio.Scanner needs room for the line plus its terminator.
	s.sc.Buffer(make([]byte, 0, initial), maxLine+2)
	s.sc.Split(s.split.split)
	return s
}

var (
	fieldData  = []byte("data")
	fieldEvent = []byte("event")
	fieldID    = []byte("id")
	utf8BOM    = []byte("\xef\xbb\xbf")
)

// Next returns the next dispatched event. It returns io.EOF at a clean end
// of stream, ErrSSEIncomplete when the stream ended inside an event,
// ErrSSELineTooLong for an over-long line, or the underlying read error.
func (s *SSEReader) Next() (SSEEvent, error) {
	for s.sc.Scan() {
		line := s.sc.Bytes()
		if s.first {
			s.first = false
			line = bytes.TrimPrefix(line, utf8BOM)
		}
		if len(line) == 0 {
			if ev, ok := s.dispatch(); ok {
				return ev, nil
			}
			continue
		}
		s.partial = true
		if line[0] == ':' {
			continue // comment (servers use them as keep-alive pings)
		}
		field, value := line, []byte(nil)
		if i := bytes.IndexByte(line, ':'); i >= 0 {
			field, value = line[:i], line[i+1:]
			if len(value) > 0 && value[0] == ' ' {
				value = value[1:]
			}
		}
		switch {
		case bytes.Equal(field, fieldData):
			if s.hasData {
				s.data = append(s.data, '\n')
			}
			s.data = append(s.data, value...)
			s.hasData = true
		case bytes.Equal(field, fieldEvent):
			s.eventType = string(value)
		case bytes.Equal(field, fieldID):
			if bytes.IndexByte(value, 0) < 0 {
				s.id = string(value)
			}
		}
	}
	err := s.sc.Err()
	if errors.Is(err, bufio.ErrTooLong) {
		return SSEEvent{}, ErrSSELineTooLong
	}
	if err != nil {
		return SSEEvent{}, err
	}
	if s.partial || s.split.pendingTail {
		return SSEEvent{}, ErrSSEIncomplete
	}
	return SSEEvent{}, io.EOF
}

func (s *SSEReader) dispatch() (SSEEvent, bool) {
	s.partial = false
	typ := s.eventType
	s.eventType = ""
	if !s.hasData {
		return SSEEvent{}, false
	}
	if typ == "" {
		typ = "message"
	}
	// Hand out a copy that stays valid while the scanner refills, and reuse
	// both buffers across events to keep the hot path allocation-free.
	s.out = append(s.out[:0], s.data...)
	s.data = s.data[:0]
	s.hasData = false
	return SSEEvent{Type: typ, Data: s.out, ID: s.id}, true
}

// lineSplitter is a bufio.SplitFunc that ends lines at CRLF, LF or a lone CR
// without waiting for the byte after a CR (a CR at the end of a read is
// taken as a line end at once, and a following LF is skipped), so that an
// event is dispatched as soon as its blank line arrives.
type lineSplitter struct {
	skipLF      bool
	pendingTail bool // bytes without a line terminator were left at EOF
}

func (l *lineSplitter) split(data []byte, atEOF bool) (int, []byte, error) {
	if l.skipLF && len(data) > 0 {
		l.skipLF = false
		if data[0] == '\n' {
			return 1, nil, nil
		}
	}
	if i := bytes.IndexAny(data, "\r\n"); i >= 0 {
		if data[i] == '\r' {
			if i+1 < len(data) {
				if data[i+1] == '\n' {
					return i + 2, data[:i], nil
				}
			} else {
				l.skipLF = true
			}
		}
		return i + 1, data[:i], nil
	}
	if atEOF && len(data) > 0 {
		// An unterminated last line is not a line (WHATWG: pending data at
		// end of file is discarded); remember it so Next reports it.
		l.pendingTail = true
		return len(data), nil, nil
	}
	return 0, nil, nil
}
