package hfhub

import (
	"testing"
	"time"
)

// FuzzParseContentRange: server headers are untrusted; an accepted range
// must be well-formed.
func FuzzParseContentRange(f *testing.F) {
	for _, s := range []string{"bytes 0-99/1000", "bytes */500", "bytes 10-19/*", "bytes 5-4/10", "bytes 0-9223372036854775807/*"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, b, total, ok := parseContentRange(s)
		if !ok {
			return
		}
		if total < -1 || (a == -1) != (b == -1) {
			t.Fatalf("%q → %d %d %d", s, a, b, total)
		}
		if a >= 0 && (b < a || (total >= 0 && b >= total)) {
			t.Fatalf("%q → %d-%d/%d", s, a, b, total)
		}
		_, _ = retryAfter(s, time.Unix(0, 0))
	})
}
