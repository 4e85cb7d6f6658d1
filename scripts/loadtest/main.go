// Command loadtest drives a running `gpuplan serve` on loopback with a
// mixed load of size, perf and plan requests for a fixed time and prints
// requests/s, p50/p99 latency per endpoint and the server's resident
// memory (RSS, from /proc) before the run, after a warm-up and after the
// run (docs/server.md, "Load test"). It is bounded: loopback addresses
// only, at most 64 clients, at most 10 minutes.
//
//	scripts/loadtest.sh            # builds gpuplan, serves it, runs 2 minutes
//	go run ./scripts/loadtest -addr 127.0.0.1:8080 -pid PID -duration 2m
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "the server's host:port (loopback only)")
	pid := flag.Int("pid", 0, "the server's process id, to read its RSS from /proc (0: do not report RSS)")
	duration := flag.Duration("duration", 2*time.Minute, "length of the measured run (at most 10m)")
	warmup := flag.Duration("warmup", 15*time.Second, "unmeasured warm-up before the run")
	clients := flag.Int("clients", 16, "concurrent clients (1 to 64)")
	flag.Parse()
	if err := run(*addr, *pid, *duration, *warmup, *clients); err != nil {
		fmt.Fprintln(os.Stderr, "loadtest:", err)
		os.Exit(1)
	}
}

// mix is the request mix: mostly size (the page's first answer), then
// perf and plan; each client varies the load so no two requests repeat.
var mix = []struct {
	endpoint, query string
	weight          int
}{
	{"size", "model=llama-3.1-8b-instruct&gpu=h100-sxm&context=8192&concurrency=%d", 6},
	{"size", "model=qwen3-30b-a3b&gpu=h200&tp=2&context=%d000", 2},
	{"perf", "model=llama-3.1-8b-instruct&gpu=h100-sxm&input_tokens=1000&output_tokens=200&concurrency=%d", 3},
	{"plan", "model=llama-3.1-8b-instruct&context=8192&concurrency=%d&input_tokens=1000&output_tokens=200", 1},
}

func run(addr string, pid int, duration, warmup time.Duration, clients int) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("-addr %q: %w", addr, err)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return fmt.Errorf("-addr %s is not a loopback address; this load test only runs against 127.0.0.1 or ::1", addr)
	}
	if duration <= 0 || duration > 10*time.Minute || warmup < 0 || warmup > 5*time.Minute {
		return errors.New("-duration must be in (0, 10m] and -warmup in [0, 5m]")
	}
	if clients < 1 || clients > 64 {
		return errors.New("-clients must be 1 to 64")
	}
	base := "http://" + addr + "/api/v1/"
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients, MaxConnsPerHost: clients}, Timeout: time.Minute}
	if resp, err := client.Get("http://" + addr + "/healthz"); err != nil {
		return fmt.Errorf("the server at %s does not answer: %w", addr, err)
	} else {
		resp.Body.Close()
	}
	rss0 := rss(pid)
	fmt.Printf("# %s, %d clients, warm-up %s, run %s\n", time.Now().UTC().Format(time.RFC3339), clients, warmup, duration)
	fmt.Printf("RSS before:        %s\n", mb(rss0))
	load(client, base, clients, warmup, nil)
	rss1 := rss(pid)
	fmt.Printf("RSS after warm-up: %s\n", mb(rss1))
	res := map[string]*stats{}
	for _, m := range mix {
		res[m.endpoint] = &stats{}
	}
	start := time.Now()
	load(client, base, clients, duration, res)
	elapsed := time.Since(start)
	rss2 := rss(pid)
	var all stats
	names := make([]string, 0, len(res))
	for n := range res {
		names = append(names, n)
	}
	sort.Strings(names)
	fmt.Printf("\n%-8s %9s %9s %7s %10s %10s %10s\n", "ENDPOINT", "REQUESTS", "REQ/S", "ERRORS", "P50", "P99", "MAX")
	for _, n := range names {
		s := res[n]
		s.print(n, elapsed)
		all.lat = append(all.lat, s.lat...)
		all.errs += s.errs
	}
	all.print("all", elapsed)
	fmt.Printf("\nRSS after run:     %s (%+.1f MB since warm-up)\n", mb(rss2), float64(rss2-rss1)/1e6)
	if all.errs > 0 {
		return fmt.Errorf("%d requests failed (first: %s)", all.errs, firstErr)
	}
	return nil
}

type stats struct {
	mu   sync.Mutex
	lat  []time.Duration
	errs int
}

var (
	firstErr   string
	firstErrMu sync.Mutex
)

func (s *stats) print(name string, elapsed time.Duration) {
	if len(s.lat) == 0 {
		fmt.Printf("%-8s %9d\n", name, 0)
		return
	}
	sort.Slice(s.lat, func(i, j int) bool { return s.lat[i] < s.lat[j] })
	pct := func(q float64) time.Duration { return s.lat[int(math.Ceil(q*float64(len(s.lat))))-1] }
	fmt.Printf("%-8s %9d %9.1f %7d %10s %10s %10s\n", name, len(s.lat), float64(len(s.lat))/elapsed.Seconds(), s.errs,
		pct(0.50).Round(100*time.Microsecond), pct(0.99).Round(100*time.Microsecond), s.lat[len(s.lat)-1].Round(100*time.Microsecond))
}

// load runs clients until d has passed; with res nil nothing is recorded.
func load(client *http.Client, base string, clients int, d time.Duration, res map[string]*stats) {
	total := 0
	for _, m := range mix {
		total += m.weight
	}
	deadline := time.Now().Add(d)
	var wg sync.WaitGroup
	for c := 0; c < clients; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Bounded in time and in count.
			for n := 0; n < 10_000_000 && time.Now().Before(deadline); n++ {
				k := (n*7 + c*3) % total
				i := 0
				for k >= mix[i].weight {
					k -= mix[i].weight
					i++
				}
				m := mix[i]
				u := base + m.endpoint + "?" + fmt.Sprintf(m.query, (n+c)%32+1)
				t0 := time.Now()
				resp, err := client.Get(u)
				status := 0
				if err == nil {
					_, err = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					status = resp.StatusCode
				}
				lat := time.Since(t0)
				if res == nil {
					continue
				}
				s := res[m.endpoint]
				s.mu.Lock()
				s.lat = append(s.lat, lat)
				// 422 (does not fit at this load) is a valid answer.
				if err != nil || (status != 200 && status != 422) {
					s.errs++
					firstErrMu.Lock()
					if firstErr == "" {
						firstErr = fmt.Sprintf("%s: status %d, %v", u, status, err)
					}
					firstErrMu.Unlock()
				}
				s.mu.Unlock()
			}
		}()
	}
	wg.Wait()
}

// rss is the resident set size of pid in bytes (Linux), or 0.
func rss(pid int) int64 {
	if pid <= 0 {
		return 0
	}
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			f := strings.Fields(v)
			if n, err := strconv.ParseInt(f[0], 10, 64); err == nil {
				return n << 10
			}
		}
	}
	return 0
}

func mb(b int64) string {
	if b == 0 {
		return "unknown (no -pid or no /proc)"
	}
	return fmt.Sprintf("%.1f MB", float64(b)/1e6)
}
