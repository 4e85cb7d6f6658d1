package bench

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"
)

// Level is one load level: a closed loop at Concurrency parallel requests,
// or an open loop of Poisson arrivals at RPS requests per second.
type Level struct {
	Concurrency int     `json:"concurrency,omitempty"`
	RPS         float64 `json:"rps,omitempty"`
}

// Mode names the level's load model.
func (l Level) Mode() string {
	if l.RPS > 0 {
		return "rps"
	}
	return "concurrency"
}

func (l Level) String() string {
	if l.RPS > 0 {
		return fmt.Sprintf("rps=%g", l.RPS)
	}
	return fmt.Sprintf("c=%d", l.Concurrency)
}

// ForceMode controls ignore_eos/min_tokens (fixed-length answers).
type ForceMode string

// Force modes. Auto sends the parameters, and if the server answers the
// probe request with 400 or 422, drops them and says so in the result.
const (
	ForceAuto ForceMode = "auto"
	ForceOn   ForceMode = "on"
	ForceOff  ForceMode = "off"
)

// Progress is a snapshot passed to RunConfig.Progress while a level runs.
type Progress struct {
	Level, Levels int
	Load          Level
	Warmup        bool
	Done, Target  int
	Failed        int
	Elapsed       time.Duration
}

// RunConfig configures Run.
type RunConfig struct {
	Client  *Client
	Prompts []Prompt
	// OutputTokens is max_tokens for prompts that set none.
	OutputTokens int
	Force        ForceMode
	Levels       []Level
	// Requests is the number of measured requests per level (> 0), and
	// Duration the longest a level keeps starting requests (> 0): a level
	// stops at whichever comes first, then waits for requests in flight
	// (each bounded by Timeout).
	Requests int
	Duration time.Duration
	// Warmup requests are sent before each level at its concurrency and not
	// measured; negative means "one per concurrent slot".
	Warmup int
	// Timeout bounds one request, from sending to the last byte.
	Timeout time.Duration
	// MaxInflight caps requests in flight in open-loop levels; an arrival
	// that finds the cap reached waits (counted in ClientWaits).
	MaxInflight int
	// Seed makes the Poisson arrivals reproducible.
	Seed uint64
	SLO  SLO
	// MaxRetryAfter caps one Retry-After pause (DefaultMaxRetryAfter when 0).
	MaxRetryAfter time.Duration
	// Progress, when set, is called about twice a second and at the end of
	// each level, from one goroutine at a time.
	Progress func(Progress)
	// KeepRecords keeps every request record in the level results (for the
	// HTML report's distributions and for tests).
	KeepRecords bool
}

// LevelResult is one level's outcome.
type LevelResult struct {
	Mode        string  `json:"mode"`
	Concurrency int     `json:"concurrency,omitempty"`
	RPS         float64 `json:"rps,omitempty"`
	LevelMetrics
	// StoppedBy is "requests", "duration" or "interrupted".
	StoppedBy string `json:"stopped_by"`
	// WarmupRequests and WarmupErrors describe the unmeasured warm-up.
	WarmupRequests int                `json:"warmup_requests"`
	WarmupErrors   map[ErrorClass]int `json:"warmup_errors,omitempty"`
	// RateLimitPauseS is the time the level held back new requests because
	// of Retry-After headers.
	RateLimitPauseS float64 `json:"rate_limit_pause_s,omitempty"`
	// ClientWaits counts open-loop arrivals delayed by MaxInflight.
	ClientWaits int `json:"client_waits,omitempty"`
	// Records are the measured requests when RunConfig.KeepRecords is set.
	Records []RequestRecord `json:"-"`
}

// RunResult is the outcome of Run.
type RunResult struct {
	Levels []LevelResult `json:"levels"`
	// ForceLength says whether ignore_eos/min_tokens were sent.
	ForceLength bool `json:"force_output_length"`
	// Notes are things the user should know (e.g. dropped parameters).
	Notes []string `json:"notes,omitempty"`
	// Interrupted is true when the context ended the run early; the levels
	// hold everything measured up to then.
	Interrupted bool `json:"interrupted,omitempty"`
}

// ErrAllWarmupFailed means every warm-up request of a level failed, which
// almost always means a wrong URL, model name or credential.
var ErrAllWarmupFailed = errors.New("every warm-up request failed")

func (cfg *RunConfig) validate() error {
	switch {
	case cfg.Client == nil:
		return errors.New("bench: RunConfig.Client is nil")
	case len(cfg.Prompts) == 0:
		return errors.New("bench: no prompts")
	case len(cfg.Levels) == 0:
		return errors.New("bench: no load levels")
	case cfg.Requests <= 0:
		return errors.New("bench: Requests must be positive so that every level is bounded")
	case cfg.Duration <= 0:
		return errors.New("bench: Duration must be positive so that every level is bounded")
	case cfg.Timeout <= 0:
		return errors.New("bench: Timeout must be positive")
	}
	for _, l := range cfg.Levels {
		if (l.Concurrency > 0) == (l.RPS > 0) {
			return fmt.Errorf("bench: level %+v must set exactly one of Concurrency and RPS", l)
		}
		if l.RPS > 0 && (math.IsInf(l.RPS, 0) || math.IsNaN(l.RPS)) {
			return fmt.Errorf("bench: level rps %v is not finite", l.RPS)
		}
	}
	if !cfg.Client.target.Stream && (cfg.SLO.TTFTms > 0 || cfg.SLO.TPOTms > 0) {
		return errors.New("TTFT and TPOT objectives need a streamed run; drop --no-stream or the SLO flags")
	}
	return nil
}

// Run measures every level in order. It returns the results gathered so
// far together with ctx's error when ctx ends early, so that nothing
// completed is lost.
func Run(ctx context.Context, cfg RunConfig) (*RunResult, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if cfg.MaxInflight <= 0 {
		cfg.MaxInflight = 1024
	}
	if cfg.MaxRetryAfter <= 0 {
		cfg.MaxRetryAfter = DefaultMaxRetryAfter
	}
	r := &runner{cfg: cfg, res: &RunResult{}}
	force, note, err := r.probe(ctx)
	if err != nil {
		return nil, err
	}
	r.force = force
	r.res.ForceLength = force
	if note != "" {
		r.res.Notes = append(r.res.Notes, note)
	}
	for li, lv := range cfg.Levels {
		lr, err := r.level(ctx, li, lv)
		if lr != nil {
			r.res.Levels = append(r.res.Levels, *lr)
		}
		if ctx.Err() != nil {
			r.res.Interrupted = true
			return r.res, ctx.Err()
		}
		if err != nil {
			return r.res, err
		}
	}
	return r.res, nil
}

type runner struct {
	cfg   RunConfig
	res   *RunResult
	force bool
	// bodies caches the marshalled body of each prompt.
	bodies [][]byte
	// pauseUntil (unix ns, wall clock) holds back new requests after a 429
	// with Retry-After.
	pauseUntil atomic.Int64
	pausedNs   atomic.Int64
	cursor     atomic.Uint64
}

// prepare marshals every prompt's body once, so the send path does no JSON
// work.
func (r *runner) prepare(force bool) error {
	r.bodies = make([][]byte, len(r.cfg.Prompts))
	for i, p := range r.cfg.Prompts {
		out := p.OutputTokens
		if out == 0 {
			out = r.cfg.OutputTokens
		}
		b, err := r.cfg.Client.Body(Request{Prompt: p.Text, MaxTokens: out, ForceLength: force})
		if err != nil {
			return fmt.Errorf("encode prompt %d: %w", i, err)
		}
		r.bodies[i] = b
	}
	return nil
}

// probe sends one request to learn whether the server takes the
// fixed-length parameters and to fail fast on a wrong URL or model.
func (r *runner) probe(ctx context.Context) (force bool, note string, err error) {
	force = r.cfg.Force != ForceOff
	if err := r.prepare(force); err != nil {
		return false, "", err
	}
	rec := r.send(ctx, "probe", 0)
	if rec.OK() {
		return force, "", nil
	}
	if ctx.Err() != nil {
		return false, "", ctx.Err()
	}
	if r.cfg.Force == ForceAuto && (rec.Status == 400 || rec.Status == 422) {
		if err := r.prepare(false); err != nil {
			return false, "", err
		}
		rec2 := r.send(ctx, "probe-2", 0)
		if rec2.OK() {
			return false, "the server rejected ignore_eos/min_tokens (HTTP " + fmt.Sprint(rec.Status) +
				"), so they were not sent: answers may be shorter than --output-tokens, and output_tokens_mean shows the real length", nil
		}
		rec = rec2
	}
	return false, "", fmt.Errorf("first request to %s failed: %s: %s%s", r.cfg.Client.Endpoint(), rec.Err, rec.ErrDetail, hint(rec))
}

func hint(rec RequestRecord) string {
	switch {
	case rec.Err == ErrConnect:
		return " (is the server running, and is --url right?)"
	case rec.Status == 401 || rec.Status == 403:
		return " (check the API key: --api-key-env names the variable that holds it)"
	case rec.Status == 404:
		return " (check --url, which should end in /v1 for OpenAI-compatible servers, and --model)"
	case rec.Err == ErrTimeout:
		return " (the server did not answer within --timeout)"
	}
	return ""
}

// send runs one request under the request timeout with the run's next
// prompt: prompts are taken in order across the probe, warm-ups and levels
// (cycling at the end), so a measured request never repeats a prompt a
// warm-up just sent, which prefix caching would answer from cache.
func (r *runner) send(ctx context.Context, id string, _ int) RequestRecord {
	k := int((r.cursor.Add(1) - 1) % uint64(len(r.bodies)))
	rctx, cancel := context.WithTimeout(ctx, r.cfg.Timeout)
	defer cancel()
	rec := r.cfg.Client.Do(rctx, id, r.bodies[k], r.cfg.Prompts[k].InputTokens)
	if rec.Status == 429 && rec.RetryAfter > 0 {
		d := min(rec.RetryAfter, r.cfg.MaxRetryAfter)
		until := time.Now().Add(d).UnixNano()
		for {
			cur := r.pauseUntil.Load()
			if cur >= until || r.pauseUntil.CompareAndSwap(cur, until) {
				break
			}
		}
	}
	return rec
}

// waitPause sleeps while a Retry-After pause is in force, at most until
// stop closes.
func (r *runner) waitPause(ctx context.Context, stop <-chan struct{}) {
	for {
		d := time.Until(time.Unix(0, r.pauseUntil.Load()))
		if d <= 0 {
			return
		}
		t := time.NewTimer(d)
		start := time.Now()
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return
		case <-stop:
			t.Stop()
			return
		}
		r.pausedNs.Add(int64(time.Since(start)))
	}
}

type counters struct {
	done, failed atomic.Int64
}

// level runs warm-up and the measured phase of one level.
func (r *runner) level(ctx context.Context, li int, lv Level) (*LevelResult, error) {
	lr := &LevelResult{Mode: lv.Mode(), Concurrency: lv.Concurrency, RPS: lv.RPS}
	r.pausedNs.Store(0)

	warm := r.cfg.Warmup
	slots := lv.Concurrency
	if lv.RPS > 0 {
		slots = max(1, min(int(math.Ceil(lv.RPS)), r.cfg.MaxInflight))
	}
	if warm < 0 {
		warm = slots
	}
	if warm > 0 {
		recs, _ := r.closed(ctx, li, lv, min(slots, warm), warm, true)
		lr.WarmupRequests = len(recs)
		failed := 0
		for i := range recs {
			if !recs[i].OK() {
				if lr.WarmupErrors == nil {
					lr.WarmupErrors = map[ErrorClass]int{}
				}
				lr.WarmupErrors[recs[i].Err]++
				failed++
			}
		}
		if ctx.Err() != nil {
			lr.StoppedBy = "interrupted"
			lr.LevelMetrics = ComputeMetrics(nil, r.cfg.SLO)
			return lr, ctx.Err()
		}
		if failed == len(recs) && failed > 0 {
			return nil, fmt.Errorf("%w at %s: %s: %s%s", ErrAllWarmupFailed, lv, recs[0].Err, recs[0].ErrDetail, hint(recs[0]))
		}
	}

	var (
		recs      []RequestRecord
		stoppedBy string
		waits     int
	)
	if lv.RPS > 0 {
		recs, stoppedBy, waits = r.open(ctx, li, lv)
	} else {
		recs, stoppedBy = r.closed(ctx, li, lv, lv.Concurrency, r.cfg.Requests, false)
	}
	if ctx.Err() != nil {
		stoppedBy = "interrupted"
	}
	lr.LevelMetrics = ComputeMetrics(recs, r.cfg.SLO)
	lr.StoppedBy = stoppedBy
	lr.ClientWaits = waits
	lr.RateLimitPauseS = time.Duration(r.pausedNs.Load()).Seconds()
	if r.cfg.KeepRecords {
		lr.Records = recs
	}
	return lr, nil
}

// collector gathers records from many goroutines.
type collector struct {
	mu   sync.Mutex
	recs []RequestRecord
}

func (c *collector) add(rec RequestRecord) {
	c.mu.Lock()
	c.recs = append(c.recs, rec)
	c.mu.Unlock()
}

// progressLoop reports progress until stop closes, then once more.
func (r *runner) progressLoop(li int, lv Level, warm bool, target int, cn *counters, stop <-chan struct{}, wg *sync.WaitGroup) {
	defer wg.Done()
	if r.cfg.Progress == nil {
		return
	}
	start := time.Now()
	report := func() {
		r.cfg.Progress(Progress{Level: li + 1, Levels: len(r.cfg.Levels), Load: lv, Warmup: warm,
			Done: int(cn.done.Load()), Target: target, Failed: int(cn.failed.Load()), Elapsed: time.Since(start)})
	}
	tk := time.NewTicker(500 * time.Millisecond)
	defer tk.Stop()
	for {
		select {
		case <-tk.C:
			report()
		case <-stop:
			report()
			return
		}
	}
}

// closed runs n requests with c workers, each sending its next request as
// soon as its previous one ends. New requests stop after Duration.
func (r *runner) closed(ctx context.Context, li int, lv Level, c, n int, warm bool) ([]RequestRecord, string) {
	var (
		next    atomic.Int64
		cn      counters
		col     collector
		wg, pwg sync.WaitGroup
		timeUp  atomic.Bool
	)
	stop := make(chan struct{})
	timer := time.AfterFunc(r.cfg.Duration, func() { timeUp.Store(true); close(stop) })
	done := make(chan struct{})
	pwg.Add(1)
	go r.progressLoop(li, lv, warm, n, &cn, done, &pwg)
	col.recs = make([]RequestRecord, 0, min(n, 1<<16))
	for w := 0; w < c; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				if timeUp.Load() || ctx.Err() != nil {
					return
				}
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				r.waitPause(ctx, stop)
				if timeUp.Load() || ctx.Err() != nil {
					return
				}
				rec := r.send(ctx, requestID(li, i, warm), i)
				col.add(rec)
				cn.done.Add(1)
				if !rec.OK() {
					cn.failed.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	if timer.Stop() {
		close(stop)
	}
	close(done)
	pwg.Wait()
	by := "requests"
	if timeUp.Load() && len(col.recs) < n {
		by = "duration"
	}
	return col.recs, by
}

// PoissonSchedule returns n arrival offsets of a Poisson process at rate
// rps: the first request at 0, then exponential inter-arrival gaps with mean
// 1/rps (vLLM's default request-rate model, burstiness 1, which also sends
// its first request at once), reproducible for a seed.
func PoissonSchedule(n int, rps float64, seed uint64) []time.Duration {
	rng := rand.New(rand.NewPCG(seed, 0x706f6973736f6e)) // "poisson"
	out := make([]time.Duration, n)
	var t float64
	for i := 1; i < n; i++ {
		t += rng.ExpFloat64() / rps
		out[i] = time.Duration(t * float64(time.Second))
	}
	return out
}

// open sends Requests requests at Poisson arrival times regardless of how
// many are in flight (up to MaxInflight), stopping new arrivals after
// Duration.
func (r *runner) open(ctx context.Context, li int, lv Level) ([]RequestRecord, string, int) {
	n := r.cfg.Requests
	sched := PoissonSchedule(n, lv.RPS, r.cfg.Seed+uint64(li))
	var (
		cn      counters
		col     collector
		wg, pwg sync.WaitGroup
		waits   int
	)
	sem := make(chan struct{}, r.cfg.MaxInflight)
	done := make(chan struct{})
	pwg.Add(1)
	go r.progressLoop(li, lv, false, n, &cn, done, &pwg)
	start := time.Now()
	stop := make(chan struct{})
	var timeUp atomic.Bool
	timer := time.AfterFunc(r.cfg.Duration, func() { timeUp.Store(true); close(stop) })
	by := "requests"
dispatch:
	for i := 0; i < n; i++ {
		if d := time.Until(start.Add(sched[i])); d > 0 {
			t := time.NewTimer(d)
			select {
			case <-t.C:
			case <-stop:
				t.Stop()
				break dispatch
			case <-ctx.Done():
				t.Stop()
				break dispatch
			}
		}
		r.waitPause(ctx, stop)
		select {
		case sem <- struct{}{}:
		default:
			waits++
			select {
			case sem <- struct{}{}:
			case <-stop:
				break dispatch
			case <-ctx.Done():
				break dispatch
			}
		}
		if timeUp.Load() || ctx.Err() != nil {
			<-sem
			break
		}
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			defer func() { <-sem }()
			rec := r.send(ctx, requestID(li, i, false), i)
			col.add(rec)
			cn.done.Add(1)
			if !rec.OK() {
				cn.failed.Add(1)
			}
		}(i)
	}
	if timeUp.Load() && len(sched) > 0 {
		by = "duration"
	}
	wg.Wait()
	if timer.Stop() {
		close(stop)
	}
	close(done)
	pwg.Wait()
	if timeUp.Load() && len(col.recs) == n {
		by = "requests"
	}
	return col.recs, by, waits
}
