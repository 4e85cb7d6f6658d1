package bench

import (
	"context"
	"io"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gpuplan/gpuplan/bench/benchtest"
)

// The benchmarks below measure the harness itself; scripts/bench-harness.sh
// runs them on two cores and docs/bench.md records the figures.

// BenchmarkHarnessStreamed measures how many streamed requests per second
// the harness drives against the in-process fake server on loopback (16
// content chunks per request plus the role, usage and [DONE] events, no
// server-side delays). Server and harness share the CPUs, so the figure is a
// floor on what the harness alone can drive.
func BenchmarkHarnessStreamed(b *testing.B) {
	for _, c := range []int{16, 64, 256} {
		b.Run("c="+strconv.Itoa(c), func(b *testing.B) {
			srv := benchtest.New(benchtest.Options{Tokens: 16})
			defer srv.Close()
			cl := newTestClient(b, srv.BaseURL(), true, c)
			n := max(b.N, 4*c)
			b.ResetTimer()
			res, err := Run(context.Background(), RunConfig{Client: cl, Prompts: SyntheticPrompts(64, 32, 1), OutputTokens: 16, Force: ForceOff,
				Levels: []Level{{Concurrency: c}}, Requests: n, Duration: 5 * time.Minute, Warmup: c, Timeout: 30 * time.Second})
			b.StopTimer()
			if err != nil {
				b.Fatal(err)
			}
			l := res.Levels[0]
			if l.Failed > 0 {
				b.Fatalf("%d failures: %v", l.Failed, l.Errors)
			}
			b.ReportMetric(l.RequestsPerS, "req/s")
			b.ReportMetric(l.OutputTokensPerS, "tokens/s")
		})
	}
}

// BenchmarkTimingError reports the harness's timing error under load: for
// every content chunk, the time the harness stamped it minus the time the
// server stamped it right after flushing it (median and p99, in ms).
func BenchmarkTimingError(b *testing.B) {
	for _, c := range []int{1, 16, 64} {
		b.Run("c="+strconv.Itoa(c), func(b *testing.B) {
			srv := benchtest.New(benchtest.Options{Tokens: 16, ITL: time.Millisecond, RecordSends: true})
			defer srv.Close()
			cl := newTestClient(b, srv.BaseURL(), true, c)
			n := max(b.N, 2*c)
			res, err := Run(context.Background(), RunConfig{Client: cl, Prompts: SyntheticPrompts(64, 32, 1), OutputTokens: 16, Force: ForceOff,
				Levels: []Level{{Concurrency: c}}, Requests: n, Duration: 5 * time.Minute, Warmup: c, Timeout: 30 * time.Second, KeepRecords: true})
			if err != nil {
				b.Fatal(err)
			}
			var diffs []float64
			for _, r := range res.Levels[0].Records {
				sends := srv.Sends(r.ID)
				for k := range min(len(sends), len(r.Chunks)) {
					diffs = append(diffs, ms(r.Start.Add(r.Chunks[k]).Sub(sends[k])))
				}
			}
			slices.Sort(diffs)
			b.ReportMetric(Percentile(diffs, 50), "median-ms")
			b.ReportMetric(Percentile(diffs, 99), "p99-ms")
		})
	}
}

// BenchmarkSSEParse measures the SSE reader plus the decode of one OpenAI
// chat chunk, the per-token cost of the read loop; the json sub-benchmark
// decodes with encoding/json instead of the fast path, for comparison.
func BenchmarkSSEParse(b *testing.B) {
	ev := `data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":" token"},"finish_reason":null}]}` + "\n\n"
	stream := strings.Repeat(ev, 1024)
	for _, mode := range []struct {
		name   string
		decode func([]byte) (chunkInfo, error)
	}{{"fast", decodeChunk}, {"json", slowChunk}} {
		b.Run(mode.name, func(b *testing.B) {
			b.SetBytes(int64(len(stream)))
			b.ReportAllocs()
			for b.Loop() {
				sr := NewSSEReader(strings.NewReader(stream), 0)
				for {
					e, err := sr.Next()
					if err == io.EOF {
						break
					}
					if err != nil {
						b.Fatal(err)
					}
					if ci, err := mode.decode(e.Data); err != nil || ci.piece != " token" {
						b.Fatal(err)
					}
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*1024), "ns/event")
		})
	}
}
