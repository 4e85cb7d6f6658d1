package bench

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gpuplan/gpuplan/internal/benchtest"
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

// cpuTime is this process's user+system CPU time so far.
func cpuTime(tb testing.TB) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		tb.Skip("getrusage:", err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// TestHelperFakeServer is not a test: BenchmarkHarnessExternalServer runs
// the test binary again with GPUPLAN_BENCH_FAKE_SERVER=1 so that the fake
// server lives in its own process and the harness's CPU time can be
// measured alone. It prints the base URL and serves until stdin closes
// (bounded to 10 minutes).
func TestHelperFakeServer(t *testing.T) {
	if os.Getenv("GPUPLAN_BENCH_FAKE_SERVER") != "1" {
		t.Skip("helper process for BenchmarkHarnessExternalServer")
	}
	srv := benchtest.New(benchtest.Options{Tokens: 16})
	defer srv.Close()
	fmt.Println(srv.BaseURL())
	done := make(chan struct{})
	go func() { _, _ = io.Copy(io.Discard, os.Stdin); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Minute):
	}
}

// BenchmarkHarnessExternalServer drives the fake server in a separate
// process and reports the harness's own CPU time per streamed request and
// the rate two fully available cores would sustain at that cost
// (2 s of CPU per second / CPU per request), a figure that other load on
// the machine does not distort, next to the wall-clock rate.
func BenchmarkHarnessExternalServer(b *testing.B) {
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperFakeServer$")
	cmd.Env = append(os.Environ(), "GPUPLAN_BENCH_FAKE_SERVER=1", "GOMAXPROCS=1")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	defer func() { _ = stdin.Close(); _ = cmd.Wait() }()
	url, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || !strings.HasPrefix(url, "http://127.0.0.1:") {
		b.Fatalf("helper server: %q %v", url, err)
	}
	url = strings.TrimSpace(url)
	go func() { _, _ = io.Copy(io.Discard, out) }()
	for _, c := range []int{16, 64} {
		b.Run("c="+strconv.Itoa(c), func(b *testing.B) {
			cl := newTestClient(b, url, true, c)
			n := max(b.N, 4*c)
			cfg := RunConfig{Client: cl, Prompts: SyntheticPrompts(64, 32, 1), OutputTokens: 16, Force: ForceOff,
				Levels: []Level{{Concurrency: c}}, Requests: n, Duration: 5 * time.Minute, Warmup: c, Timeout: 30 * time.Second}
			b.ResetTimer()
			cpu0 := cpuTime(b)
			res, err := Run(context.Background(), cfg)
			cpu := cpuTime(b) - cpu0
			b.StopTimer()
			if err != nil {
				b.Fatal(err)
			}
			l := res.Levels[0]
			if l.Failed > 0 {
				b.Fatalf("%d failures: %v", l.Failed, l.Errors)
			}
			perReq := cpu.Seconds() / float64(n+c+1) // measured + warm-up + probe
			b.ReportMetric(l.RequestsPerS, "req/s")
			b.ReportMetric(perReq*1e6, "cpu-µs/req")
			b.ReportMetric(2/perReq, "req/s@2cores")
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
