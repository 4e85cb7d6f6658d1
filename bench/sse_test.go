package bench

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

type sseWant struct {
	typ, data, id string
}

func readAll(t testing.TB, r io.Reader, maxLine int) ([]sseWant, error) {
	t.Helper()
	sr := NewSSEReader(r, maxLine)
	var out []sseWant
	for i := 0; i < 100000; i++ {
		ev, err := sr.Next()
		if err != nil {
			if errors.Is(err, io.EOF) {
				return out, nil
			}
			return out, err
		}
		out = append(out, sseWant{ev.Type, string(ev.Data), ev.ID})
	}
	t.Fatal("reader did not end")
	return nil, nil
}

// The cases follow the parsing rules of the WHATWG HTML standard, section
// 9.2.6 "Interpreting an event stream" (https://html.spec.whatwg.org/multipage/server-sent-events.html).
func TestSSEReaderSpec(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []sseWant
		err  error
	}{
		{"openai chunk", "data: {\"a\":1}\n\ndata: [DONE]\n\n", []sseWant{{"message", `{"a":1}`, ""}, {"message", "[DONE]", ""}}, nil},
		{"crlf", "data: x\r\n\r\ndata: y\r\n\r\n", []sseWant{{"message", "x", ""}, {"message", "y", ""}}, nil},
		{"lone cr", "data: x\r\rdata: y\r\r", []sseWant{{"message", "x", ""}, {"message", "y", ""}}, nil},
		{"multi-line data joined by LF", "data: a\ndata: b\n\n", []sseWant{{"message", "a\nb", ""}}, nil},
		{"no space after colon", "data:x\n\n", []sseWant{{"message", "x", ""}}, nil},
		{"only one space is dropped", "data:  x\n\n", []sseWant{{"message", " x", ""}}, nil},
		{"comment ignored", ": ping\n\ndata: x\n\n", []sseWant{{"message", "x", ""}}, nil},
		{"event type and id", "event: error\nid: 7\ndata: boom\n\n", []sseWant{{"error", "boom", "7"}}, nil},
		{"type resets after dispatch", "event: a\ndata: 1\n\ndata: 2\n\n", []sseWant{{"a", "1", ""}, {"message", "2", ""}}, nil},
		{"event without data not dispatched", "event: a\n\ndata: 2\n\n", []sseWant{{"message", "2", ""}}, nil},
		{"field without colon is the field name", "data\n\n", []sseWant{{"message", "", ""}}, nil},
		{"unknown field ignored", "retry: 10\nfoo: bar\ndata: x\n\n", []sseWant{{"message", "x", ""}}, nil},
		{"leading BOM stripped", "\xef\xbb\xbfdata: x\n\n", []sseWant{{"message", "x", ""}}, nil},
		{"incomplete event at EOF discarded", "data: x\n\ndata: y\n", []sseWant{{"message", "x", ""}}, ErrSSEIncomplete},
		{"unterminated last line", "data: x\n\ndata: y", []sseWant{{"message", "x", ""}}, ErrSSEIncomplete},
		{"empty stream", "", nil, nil},
		{"blank lines only", "\n\n\r\n", nil, nil},
		{"id with NUL ignored", "id: a\x00b\ndata: x\n\n", []sseWant{{"message", "x", ""}}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Byte-at-a-time reads exercise every split point, including a
			// CR at the end of one read and its LF at the start of the next.
			for _, r := range []io.Reader{strings.NewReader(tt.in), iotest.OneByteReader(strings.NewReader(tt.in))} {
				got, err := readAll(t, r, 0)
				if !errors.Is(err, tt.err) && !(err == nil && tt.err == nil) {
					t.Fatalf("err = %v, want %v", err, tt.err)
				}
				if len(got) != len(tt.want) {
					t.Fatalf("got %q, want %q", got, tt.want)
				}
				for i := range got {
					if got[i] != tt.want[i] {
						t.Errorf("event %d = %q, want %q", i, got[i], tt.want[i])
					}
				}
			}
		})
	}
}

func TestSSEReaderLineLimit(t *testing.T) {
	long := "data: " + strings.Repeat("x", 100) + "\n\n"
	if _, err := readAll(t, strings.NewReader(long), 50); !errors.Is(err, ErrSSELineTooLong) {
		t.Fatalf("err = %v, want ErrSSELineTooLong", err)
	}
	// The same line fits a raised limit; the default 64 KiB of bufio.Scanner
	// would reject a 100 KiB line, the reader's default accepts it.
	big := "data: " + strings.Repeat("y", 100<<10) + "\n\n"
	got, err := readAll(t, strings.NewReader(big), 0)
	if err != nil || len(got) != 1 || len(got[0].data) != 100<<10 {
		t.Fatalf("big line: err %v, %d events", err, len(got))
	}
}

// FuzzSSEReader checks that the reader never panics or loops, that every
// event is re-encodable, and that parsing the re-encoding gives the same
// events (the parser is a function of the event sequence it extracts).
func FuzzSSEReader(f *testing.F) {
	for _, s := range []string{
		"data: {\"choices\":[{\"delta\":{\"content\":\"hi\"}}]}\n\ndata: [DONE]\n\n",
		"event: error\ndata: x\r\n\r\n", "data:a\rdata:b\r\r", ": c\n\n", "\xef\xbb\xbfdata: x\n\n", "data: x\n", "id: 1\n\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		evs, err := readAll(t, bytes.NewReader(in), 1024)
		if err != nil && !errors.Is(err, ErrSSEIncomplete) && !errors.Is(err, ErrSSELineTooLong) {
			t.Fatalf("unexpected error %v", err)
		}
		if errors.Is(err, ErrSSELineTooLong) {
			return
		}
		var enc strings.Builder
		for _, e := range evs {
			if strings.ContainsAny(e.typ, "\r\n") || strings.ContainsAny(e.id, "\r\n") {
				t.Fatalf("field holds a line break: %q", e)
			}
			if e.typ != "message" {
				enc.WriteString("event: " + e.typ + "\n")
			}
			for _, line := range strings.Split(e.data, "\n") {
				if strings.Contains(line, "\r") {
					t.Fatalf("data line holds a CR: %q", e.data)
				}
				enc.WriteString("data: " + line + "\n")
			}
			enc.WriteString("\n")
		}
		again, err := readAll(t, strings.NewReader(enc.String()), 1<<20)
		if err != nil {
			t.Fatalf("re-parse: %v", err)
		}
		if len(again) != len(evs) {
			t.Fatalf("re-parse gave %d events, want %d", len(again), len(evs))
		}
		for i := range evs {
			if again[i].typ != evs[i].typ || again[i].data != evs[i].data {
				t.Fatalf("event %d: %q then %q", i, evs[i], again[i])
			}
		}
	})
}
