package bench

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/gpuplan/gpuplan/bench/benchtest"
)

// BenchmarkHarnessStreamed measures how many streamed requests per second
// the harness drives against the in-process fake server on loopback (16
// content chunks per request, no server-side delays), so both sides share
// the CPUs: run with -cpu 2 for the two-core figure in docs/bench.md.
func BenchmarkHarnessStreamed(b *testing.B) {
	for _, c := range []int{16, 64} {
		b.Run("c="+strconv.Itoa(c), func(b *testing.B) {
			srv := benchtest.New(benchtest.Options{Tokens: 16})
			defer srv.Close()
			cl, err := NewClient(Target{URL: srv.BaseURL(), Model: "m", API: APIChat, Stream: true}, nil, time.Now, c)
			if err != nil {
				b.Fatal(err)
			}
			n := max(b.N, c)
			b.ResetTimer()
			res, err := Run(context.Background(), RunConfig{Client: cl, Prompts: SyntheticPrompts(64, 32, 1), OutputTokens: 16, Force: ForceOff,
				Levels: []Level{{Concurrency: c}}, Requests: n, Duration: time.Minute, Warmup: 0, Timeout: 30 * time.Second})
			b.StopTimer()
			if err != nil {
				b.Fatal(err)
			}
			l := res.Levels[0]
			if l.Failed > 0 {
				b.Fatalf("%d failures: %v", l.Failed, l.Errors)
			}
			b.ReportMetric(l.RequestsPerS, "req/s")
			b.ReportMetric(l.OutputTokensPerS, "chunks/s")
		})
	}
}
