package perf

import (
	"errors"
	"fmt"
	"github.com/gpuplan/gpuplan/internal/jsonl"
	"io"
	"math"
	"math/rand/v2"
	"slices"

	"github.com/gpuplan/gpuplan/stats"
)

// The simulation (docs/perf.md, "Simulation") replays continuous batching
// request by request: arrivals, admission under the engine's sequence limit
// and KV pool, chunked prefill within the token budget, decode, preemption
// when the pool runs out, and prefix-cache hits. Every iteration costs what
// the calibrated step model (step.go) says for the tokens it carries, so
// the simulation and the steady-state model share one set of factors; the
// simulation adds what a fluid model cannot see: queues, length spread,
// bursts and the tails they cause.

// Arrival processes of an open loop.
const (
	ArrivalPoisson  = "poisson"
	ArrivalConstant = "constant"
	ArrivalBurst    = "burst"
)

// Length distributions of the simulated requests.
const (
	LengthFixed     = "fixed"
	LengthNormal    = "normal"
	LengthLognormal = "lognormal"
	LengthUniform   = "uniform"
)

// Arrivals lists the arrival processes (--arrival).
func Arrivals() []string { return []string{ArrivalPoisson, ArrivalConstant, ArrivalBurst} }

// LengthDistributions lists the length distributions
// (--length-distribution).
func LengthDistributions() []string {
	return []string{LengthFixed, LengthNormal, LengthLognormal, LengthUniform}
}

// CheckArrival checks an --arrival value ("" is poisson).
func CheckArrival(s string) error {
	if s != "" && !slices.Contains(Arrivals(), s) {
		return fmt.Errorf("--arrival %q: want poisson, constant or burst", s)
	}
	return nil
}

// CheckLengthDistribution checks a --length-distribution value ("" is
// fixed).
func CheckLengthDistribution(s string) error {
	if s != "" && !slices.Contains(LengthDistributions(), s) {
		return fmt.Errorf("--length-distribution %q: want fixed, normal, lognormal or uniform", s)
	}
	return nil
}

// burstShape is the shape of the gamma-distributed gaps of the "burst"
// arrival process: 0.25, a squared coefficient of variation of 4 (the
// gaps' variance is four times a Poisson process's). vLLM's serving
// benchmark draws gaps the same way (`--burstiness`, the gamma shape; 1 is
// Poisson, lower is burstier).
const burstShape = 0.25

// MaxSimRequests bounds a simulation's request count (and a trace's
// records).
const MaxSimRequests = 1_000_000

// maxSimOutputTokens bounds a run's total output tokens (each is at least
// one engine iteration's share of work): 50 million keeps the worst case —
// one sequence at a time — to seconds, and a public server's request
// bounded.
const maxSimOutputTokens = 50_000_000

// DefaultSimRequests is how many requests a simulation runs when
// SimConfig.Requests is 0.
const DefaultSimRequests = 2000

// PopulationLengthCV is the spread (standard deviation ÷ mean) of request
// lengths that Population gives a load stated by mean lengths alone.
//
// Why a spread at all: closed-loop users whose requests are token for
// token identical lock together. Two requests admitted in the same
// iteration finish in the same iteration and come back together, and
// users who come back while a prefill runs are served in the next one,
// so groups only ever merge. The mean TTFT of such a run depends on how
// long it is simulated, not on the load: Llama-3.1-8B fp8 on one A100
// PCIe, 32 users of 1000 in / 200 out, gave 771, 1183 and 1246 ms for
// 500, 2,000 and 4,000 requests, against 115 ms from the steady-state
// model, while TPOT and E2E stayed within 3% of it (the waves move time
// from decode into the wait for a prefill, not more work). A population
// of users asking different questions does not send identical lengths;
// an even ±17% spread (vLLM's `bench serve --random-range-ratio 0.17`
// draws the same uniform lengths) is enough to keep them apart, and past
// it the answer hardly moves: the same row gives 171, 169 and 165 ms at
// spreads of 5%, 10% and 30% and at every run length
// (TestSimulatePopulationIsStationary). The steady-state model is the
// limit of such a population, which is why the two agree on it
// (TestSimulateMatchesSteadyState).
const PopulationLengthCV = 0.1

// Population returns cfg with the request lengths of a user population
// around the deployment's mean lengths: uniform with PopulationLengthCV
// spread. A trace or an explicit length distribution is kept as asked.
func (p *Deployment) Population(cfg SimConfig) SimConfig {
	if len(cfg.Trace) > 0 || (cfg.Lengths != "" && cfg.Lengths != LengthFixed) {
		return cfg
	}
	cfg.Lengths = LengthUniform
	cfg.InputStddev = PopulationLengthCV * float64(p.r.Workload.InputTokens)
	cfg.OutputStdev = PopulationLengthCV * float64(p.r.Workload.OutputTokens)
	return cfg
}

// SimConfig configures a simulation. The load (closed-loop users or an
// open-loop rate) and the mean lengths come from the Workload.
type SimConfig struct {
	// Requests is how many requests to simulate (0: DefaultSimRequests;
	// a trace's own count when Trace is set).
	Requests int
	// Seed makes the run reproducible: the same inputs and seed give the
	// same answer.
	Seed uint64
	// Arrival is the open loop's arrival process: poisson (default),
	// constant or burst.
	Arrival string
	// ThinkTimeS is the closed loop's think time between a user's
	// response and their next request, seconds (exponentially distributed
	// with this mean; 0: none).
	ThinkTimeS float64
	// Lengths is the length distribution (fixed by default) with the
	// Workload's lengths as means and these standard deviations.
	Lengths                  string
	InputStddev, OutputStdev float64
	// Trace replays recorded requests instead (arrival times, lengths,
	// cached tokens); the load and lengths of the Workload are ignored.
	Trace []TraceRequest
	// SLO judges goodput: a request counts when its TTFT, TPOT and E2E
	// are within the limits that are > 0 (milliseconds).
	SLO SLO
	// NoSustainable skips the extra run that measures the highest
	// sustainable rate (SimResult.SustainableRPS stays 0).
	NoSustainable bool
}

// SLO holds latency limits in milliseconds (0: no limit).
type SLO struct {
	TTFTMS float64 `json:"ttft_ms,omitempty"`
	TPOTMS float64 `json:"tpot_ms,omitempty"`
	E2EMS  float64 `json:"e2e_ms,omitempty"`
}

// TraceRequest is one record of a trace (JSON Lines).
type TraceRequest struct {
	ArrivalS     float64 `json:"arrival_s"`
	InputTokens  int     `json:"input_tokens"`
	OutputTokens int     `json:"output_tokens"`
	CachedTokens int     `json:"cached_tokens,omitempty"`
}

// maxTraceLineBytes bounds one trace line.
const maxTraceLineBytes = 4096

// ReadTrace reads a JSON Lines trace, named name in errors: one
// {"arrival_s", "input_tokens", "output_tokens", "cached_tokens"} object per
// line (blank lines skipped), at most MaxSimRequests records of at most
// 4 KiB each, arrival times non-negative and non-decreasing. Errors wrap
// ErrInvalid and name the file and line (jsonl.Read).
func ReadTrace(r io.Reader, name string) ([]TraceRequest, error) {
	last := 0.0
	out, err := jsonl.Read(r, name, jsonl.Limits{MaxLineBytes: maxTraceLineBytes, MaxRecords: MaxSimRequests, Records: "requests"},
		func(_ int, t *TraceRequest) error {
			if err := t.check(); err != nil {
				return err
			}
			if t.ArrivalS < last {
				return fmt.Errorf("arrival_s %g is earlier than the line before (%g); sort the trace by arrival", t.ArrivalS, last)
			}
			last = t.ArrivalS
			return nil
		})
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	return out, nil
}

func (t TraceRequest) check() error {
	switch {
	case !(t.ArrivalS >= 0) || math.IsInf(t.ArrivalS, 0) || t.ArrivalS > 1e9:
		return fmt.Errorf("arrival_s %g must be a non-negative number of seconds", t.ArrivalS)
	case t.InputTokens <= 0 || t.OutputTokens <= 0:
		return errors.New("input_tokens and output_tokens must be positive")
	case t.InputTokens+t.OutputTokens > maxTokensPerRequest:
		return fmt.Errorf("input + output tokens exceed %d", maxTokensPerRequest)
	case t.CachedTokens < 0 || t.CachedTokens > t.InputTokens:
		return errors.New("cached_tokens must be between 0 and input_tokens")
	}
	return nil
}

// SimResult is what a simulation reports. Latencies are over completed
// requests (a closed loop's first round, still warming up, is
// left out), with bands from the calibration as in Estimate.
type SimResult struct {
	Load        string  `json:"load"`
	Requests    int     `json:"requests"`
	Seed        uint64  `json:"seed"`
	Arrival     string  `json:"arrival,omitempty"`
	Lengths     string  `json:"length_distribution"`
	OfferedRPS  float64 `json:"offered_requests_per_s,omitempty"`
	Concurrency int     `json:"concurrency,omitempty"`

	TTFT Latency `json:"ttft_ms"`
	TPOT Latency `json:"tpot_ms"`
	ITL  Latency `json:"itl_ms"`
	E2E  Latency `json:"e2e_ms"`

	// RequestsPerS and OutputTokensPerS are the completed rates over the
	// run.
	RequestsPerS     float64 `json:"requests_per_s"`
	OutputTokensPerS float64 `json:"output_tokens_per_s"`
	// GoodputRPS is the rate of requests that met the SLO; GoodputFraction
	// their share.
	GoodputRPS      float64 `json:"goodput_requests_per_s"`
	GoodputFraction float64 `json:"goodput_fraction"`
	// SustainableRPS is the highest rate the deployment sustains for this
	// request mix: the completion rate of a run that keeps the engine full.
	SustainableRPS float64 `json:"sustainable_requests_per_s,omitempty"`
	// Saturated is true when arrivals outran service over the run: in the
	// second half of the arrival window, fewer than 95% as many requests
	// completed as arrived.
	Saturated bool `json:"saturated"`
	// MeanBatch is the time-averaged number of running sequences;
	// Iterations the engine iterations simulated; Preemptions the
	// sequences evicted for KV room (recomputed later).
	MeanBatch   float64 `json:"mean_running_batch"`
	Iterations  int     `json:"iterations"`
	Preemptions int     `json:"preemptions"`
	DurationS   float64 `json:"duration_s"`
	Band        Band    `json:"band"`
	Calibrated  bool    `json:"calibrated"`
}

// simReq is one simulated request.
type simReq struct {
	arrival          float64
	in, out, cached  int
	target, done     int     // prompt tokens to (re)compute, computed so far
	gen              int     // output tokens produced
	firstTok, finish float64 // engine times of the first and last token
	lag              float64 // hand-off from the engine to the client, seconds
	kv               int     // KV tokens held
	user             int
	decoding         bool
}

// Simulate prepares r and simulates its Workload under cfg.
func Simulate(r Request, cfg SimConfig) (SimResult, error) {
	p, err := Prepare(r)
	if err != nil {
		return SimResult{}, err
	}
	return p.Simulate(r.Workload, cfg)
}

// Simulate runs the discrete-event simulation of the prepared deployment
// under load w (Concurrency users or an RPS rate; Max is not a simulated
// load) with the prepared mean lengths and cache rate.
func (p *Deployment) Simulate(w Workload, cfg SimConfig) (SimResult, error) {
	w.InputTokens, w.OutputTokens, w.CacheRate = p.r.Workload.InputTokens, p.r.Workload.OutputTokens, p.r.Workload.CacheRate
	if err := checkSim(w, &cfg); err != nil {
		return SimResult{}, err
	}
	s := newSim(p.d, p.d.rates(p.f), cfg)
	reqs, users, err := s.requests(w, cfg)
	if err != nil {
		return SimResult{}, err
	}
	var outTok int64
	for i := range reqs {
		outTok += int64(reqs[i].out)
	}
	if outTok > maxSimOutputTokens {
		return SimResult{}, fmt.Errorf("%w: %d requests of %d output tokens on average is too large to simulate (at most %d output tokens in all); lower --requests", ErrInvalid, len(reqs), outTok/int64(len(reqs)), maxSimOutputTokens)
	}
	if users > 0 {
		// Users who all start at once stay in lockstep (they finish
		// together and return together), which no real population does:
		// stagger the first requests uniformly over one request's
		// steady-state latency at this many users.
		st := p.d.steady(s.rt, math.Min(float64(users), p.d.capacity))
		s.stagger = st.e2e + cfg.ThinkTimeS
	}
	out := s.run(reqs, users, cfg.ThinkTimeS)
	res := out.SimResult
	res.Seed, res.Lengths, res.Band, res.Calibrated = cfg.Seed, cfg.Lengths, p.f.band, p.f.gpuCalibrated && p.f.engineCalibrated
	switch {
	case len(cfg.Trace) > 0:
		res.Load = "trace"
	case w.RPS > 0:
		res.Load, res.Arrival, res.OfferedRPS = LoadRPS, cfg.Arrival, w.RPS
	default:
		res.Load, res.Concurrency = LoadConcurrency, w.Concurrency
	}
	for _, l := range []*Latency{&res.TTFT, &res.TPOT, &res.ITL, &res.E2E} {
		if l.Mean > 0 {
			l.Low, l.High = l.Mean/res.Band.High, l.Mean/res.Band.Low
		}
	}
	if !cfg.NoSustainable {
		// Keep the engine full: every request queued at once, the mix
		// drawn the same way.
		n := min(len(reqs), 1000)
		full := make([]simReq, n)
		for i := range full {
			full[i] = simReq{in: reqs[i].in, out: reqs[i].out, cached: reqs[i].cached, user: -1}
		}
		fs := newSim(p.d, s.rt, cfg)
		res.SustainableRPS = fs.run(full, 0, 0).steadyRate
	}
	return res, nil
}

func checkSim(w Workload, cfg *SimConfig) error {
	if len(cfg.Trace) == 0 {
		if w.Max {
			return fmt.Errorf("%w: --simulate needs --concurrency or --rps (max is the offline case)", ErrInvalid)
		}
		if err := checkLoad(w); err != nil {
			return err
		}
	}
	if cfg.Requests < 0 || cfg.Requests > MaxSimRequests {
		return fmt.Errorf("%w: --requests must be between 1 and %d", ErrInvalid, MaxSimRequests)
	}
	if cfg.Requests == 0 {
		cfg.Requests = DefaultSimRequests
	}
	if err := CheckArrival(cfg.Arrival); err != nil {
		return fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	if cfg.Arrival == "" {
		cfg.Arrival = ArrivalPoisson
	}
	if err := CheckLengthDistribution(cfg.Lengths); err != nil {
		return fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	if cfg.Lengths == "" {
		cfg.Lengths = LengthFixed
	}
	for _, v := range []struct {
		name string
		v    float64
	}{{"--input-tokens-stddev", cfg.InputStddev}, {"--output-tokens-stddev", cfg.OutputStdev}, {"--think-time-ms", cfg.ThinkTimeS},
		{"--ttft-slo-ms", cfg.SLO.TTFTMS}, {"--tpot-slo-ms", cfg.SLO.TPOTMS}, {"--e2e-slo-ms", cfg.SLO.E2EMS}} {
		if !(v.v >= 0) || math.IsInf(v.v, 0) || v.v > 1e9 {
			return fmt.Errorf("%w: %s must be a non-negative number", ErrInvalid, v.name)
		}
	}
	if cfg.Lengths == LengthFixed && (cfg.InputStddev > 0 || cfg.OutputStdev > 0) {
		return fmt.Errorf("%w: --input-tokens-stddev and --output-tokens-stddev need --length-distribution normal, lognormal or uniform", ErrInvalid)
	}
	return nil
}

// sim is one simulation run's state.
type sim struct {
	d       *resolvedRequest
	rt      rates
	rng     *rand.Rand
	maxSeqs int
	budget  int
	poolTok int
	reserve bool    // admit only when the whole input + output fits (TensorRT-LLM)
	handoff float64 // iterations between the first token's iteration and the client, beyond the simulated boundary wait
	slo     SLO
	stagger float64 // closed loop: first requests spread over [0, stagger) seconds
}

func newSim(d *resolvedRequest, rt rates, cfg SimConfig) *sim {
	s := &sim{d: d, rt: rt, rng: rand.New(rand.NewPCG(cfg.Seed, 0x6770_7570_6c61_6e)), budget: d.limits.maxTokens, slo: cfg.SLO}
	s.maxSeqs = d.limits.maxSeqs
	if s.maxSeqs <= 0 {
		s.maxSeqs = math.MaxInt32
	}
	if s.budget <= 0 {
		s.budget = math.MaxInt32
	}
	// The pool holds kvCapacity sequences of isl + osl tokens.
	s.poolTok = int(math.Floor(d.kvCapacity * float64(d.isl+d.osl)))
	s.reserve = d.engine.Info().ReservesWholeRequest
	// The steady-state model's first-token iterations include the half
	// iteration an arrival waits for a boundary, which the simulation
	// plays out; the rest is the hand-off.
	s.handoff = math.Max(rt.firstIt-0.5, 0)
	return s
}

// requests draws the run's requests: arrival times for an open loop (a
// closed loop's are set as users send), lengths and cached tokens.
func (s *sim) requests(w Workload, cfg SimConfig) ([]simReq, int, error) {
	if len(cfg.Trace) > 0 {
		reqs := make([]simReq, len(cfg.Trace))
		for i, t := range cfg.Trace {
			if t.InputTokens+t.OutputTokens > s.poolTok {
				return nil, 0, fmt.Errorf("%w: trace request %d needs %d KV tokens; the pool holds %d", ErrInvalid, i+1, t.InputTokens+t.OutputTokens, s.poolTok)
			}
			reqs[i] = simReq{arrival: t.ArrivalS, in: t.InputTokens, out: t.OutputTokens, cached: min(t.CachedTokens, t.InputTokens-1), user: -1}
		}
		return reqs, 0, nil
	}
	n := cfg.Requests
	reqs := make([]simReq, n)
	in := s.lengthDraw(cfg.Lengths, float64(w.InputTokens), cfg.InputStddev)
	out := s.lengthDraw(cfg.Lengths, float64(w.OutputTokens), cfg.OutputStdev)
	t := 0.0
	for i := range reqs {
		r := &reqs[i]
		r.in, r.out = in(), out()
		if r.in+r.out > s.poolTok {
			// A drawn request longer than the pool could never run; cap
			// its output so the run stays defined (rare far tails).
			r.out = max(1, s.poolTok-r.in)
			r.in = min(r.in, s.poolTok-r.out)
		}
		r.cached = min(int(math.Round(float64(r.in)*w.CacheRate)), r.in-1)
		r.user = -1
		if w.RPS > 0 {
			switch cfg.Arrival {
			case ArrivalConstant:
				t = float64(i) / w.RPS
			case ArrivalBurst:
				if i > 0 {
					t += gammaDraw(s.rng, burstShape) / (burstShape * w.RPS)
				}
			default:
				if i > 0 {
					t += s.rng.ExpFloat64() / w.RPS
				}
			}
			r.arrival = t
		}
	}
	users := 0
	if w.RPS <= 0 {
		users = min(w.Concurrency, n)
	}
	return reqs, users, nil
}

// lengthDraw returns a sampler of token counts with the given mean and
// standard deviation, at least 1.
func (s *sim) lengthDraw(kind string, mean, sd float64) func() int {
	clampRound := func(v float64) int { return int(math.Max(1, math.Min(math.Round(v), maxTokensPerRequest/2))) }
	if sd <= 0 || kind == LengthFixed {
		v := clampRound(mean)
		return func() int { return v }
	}
	switch kind {
	case LengthNormal:
		return func() int { return clampRound(mean + sd*s.rng.NormFloat64()) }
	case LengthLognormal:
		// The log-normal with this mean and standard deviation.
		sigma2 := math.Log(1 + sd*sd/(mean*mean))
		mu, sigma := math.Log(mean)-sigma2/2, math.Sqrt(sigma2)
		return func() int { return clampRound(math.Exp(mu + sigma*s.rng.NormFloat64())) }
	default:
		// Uniform on mean ± √3·sd has this standard deviation.
		h := math.Sqrt(3) * sd
		return func() int { return clampRound(mean - h + 2*h*s.rng.Float64()) }
	}
}

// gammaDraw draws a Gamma(k, 1) variate (Marsaglia and Tsang 2000, with
// the k < 1 boost).
func gammaDraw(rng *rand.Rand, k float64) float64 {
	if k < 1 {
		u := rng.Float64()
		return gammaDraw(rng, k+1) * math.Pow(u, 1/k)
	}
	d := k - 1.0/3
	c := 1 / math.Sqrt(9*d)
	for {
		x := rng.NormFloat64()
		v := 1 + c*x
		if v <= 0 {
			continue
		}
		v = v * v * v
		u := rng.Float64()
		if u < 1-0.0331*x*x*x*x || math.Log(u) < 0.5*x*x+d*(1-v+math.Log(v)) {
			return d * v
		}
	}
}

// runResult carries the run's figures plus the steady completion rate.
type runOut struct {
	SimResult
	steadyRate float64
}

// itlSample is one iteration's duration and how many sequences decoded in
// it (each saw that gap).
type itlSample struct {
	dt    float64
	count int32
}

// run simulates reqs. With users > 0 it is a closed loop: the first users
// requests start at 0 and each completion sends the user's next request
// after the hand-off and think time; otherwise arrivals are as drawn.
func (s *sim) run(reqs []simReq, users int, think float64) runOut {
	n := len(reqs)
	// Pending arrivals in time order: an open loop's are sorted already;
	// a closed loop schedules them as users send (a small heap).
	var next int // next open-loop request to arrive
	var sendQ userHeap
	issued := 0
	if users > 0 {
		for u := 0; u < users; u++ {
			reqs[u].arrival, reqs[u].user = s.stagger*s.rng.Float64(), u
			sendQ.push(userSend{t: reqs[u].arrival, req: u})
		}
		issued = users
	}
	waiting := make([]int, 0, 64)
	running := make([]int, 0, min(s.maxSeqs, n))
	free := s.poolTok
	t := 0.0
	completed := 0
	var itl []itlSample
	var batchTime float64
	iterations, preemptions := 0, 0
	finishOrder := make([]int, 0, n)
	// handoffs are the requests whose first token came out of the last
	// iteration (their lag is set by the next one's duration).
	var handoffs []int

	arrive := func(upTo float64) {
		if users > 0 {
			for sendQ.len() > 0 && sendQ.peek().t <= upTo {
				u := sendQ.pop()
				waiting = append(waiting, u.req)
			}
			return
		}
		for next < n && reqs[next].arrival <= upTo {
			waiting = append(waiting, next)
			next++
		}
	}
	nextArrival := func() float64 {
		if users > 0 {
			if sendQ.len() > 0 {
				return sendQ.peek().t
			}
			return math.Inf(1)
		}
		if next < n {
			return reqs[next].arrival
		}
		return math.Inf(1)
	}
	// finish retires request i at t: its KV cells return to the pool and,
	// in a closed loop, its user sends the next request after the
	// hand-off, the per-request cost and the think time.
	finish := func(i int) {
		r := &reqs[i]
		r.finish = t
		free += r.kv
		r.kv = 0
		completed++
		finishOrder = append(finishOrder, i)
		if users > 0 && issued < n {
			nr := &reqs[issued]
			nr.user = r.user
			nr.arrival = t + r.lag + s.rt.request*s.thinkDraw() + think*s.thinkDraw()
			sendQ.push(userSend{t: nr.arrival, req: issued})
			issued++
		}
	}

	for completed < n {
		arrive(t)
		if len(running) == 0 && len(waiting) == 0 {
			na := nextArrival()
			if math.IsInf(na, 1) {
				break
			}
			t = na
			continue
		}
		// Admission, first come first served.
		for len(waiting) > 0 && len(running) < s.maxSeqs {
			r := &reqs[waiting[0]]
			if r.target == 0 {
				r.target = r.in
				r.done = r.cached
			}
			need := r.target + 1
			if s.reserve {
				need = r.in + r.out
			}
			if need > free {
				break
			}
			free -= need
			r.kv = need
			running = append(running, waiting[0])
			waiting = waiting[1:]
		}
		if len(running) == 0 {
			// Nothing fits until something arrives or finishes; with an
			// empty engine that means a request larger than the pool,
			// which requests() rules out. Never spin on it.
			na := nextArrival()
			if math.IsInf(na, 1) || na <= t {
				break
			}
			t = na
			continue
		}
		// Decodes first (each needs one more KV slot unless reserved),
		// then prompt chunks within the budget.
		budget := s.budget
		dec := 0
		var ctxDec float64
		if !s.reserve {
			growth := 0
			for _, i := range running {
				if reqs[i].decoding {
					growth++
				}
			}
			// Preempt the latest-admitted sequences until the decodes fit
			// (vLLM's recompute preemption): their KV is freed and they
			// start over from the waiting queue's head.
			for growth > free && len(running) > 1 {
				last := running[len(running)-1]
				r := &reqs[last]
				free += r.kv
				if r.decoding {
					growth--
				}
				r.kv, r.decoding = 0, false
				r.target = r.in + r.gen
				r.done = r.cached
				running = running[:len(running)-1]
				waiting = append([]int{last}, waiting...)
				preemptions++
			}
		}
		pre, preSeqs := 0, 0
		var ctxPre float64
		for _, i := range running {
			r := &reqs[i]
			if r.decoding && budget > 0 {
				budget--
				dec++
				ctxDec += float64(r.in + r.gen)
			}
		}
		for _, i := range running {
			r := &reqs[i]
			if r.decoding || budget <= 0 {
				continue
			}
			chunk := min(r.target-r.done, budget)
			budget -= chunk
			pre += chunk
			preSeqs++
			ctxPre += float64(chunk) * (float64(r.done) + float64(chunk)/2)
		}
		if dec > 0 {
			ctxDec /= float64(dec)
		}
		if pre > 0 {
			ctxPre /= float64(pre)
		}
		dt := s.d.step(s.rt, float64(dec), float64(pre), float64(preSeqs), ctxDec, ctxPre).total
		t += dt
		// The first tokens of the previous iteration reach the client
		// while this one runs: their hand-off scales with this
		// iteration, as the steady-state model's does with the mean.
		for _, i := range handoffs {
			reqs[i].lag = s.handoff * dt
		}
		handoffs = handoffs[:0]
		iterations++
		batchTime += dt * float64(len(running))
		if dec > 0 {
			itl = append(itl, itlSample{dt: dt, count: int32(dec)})
		}
		// Apply the iteration: tokens, first tokens, completions.
		budget = s.budget
		keep := running[:0]
		for _, i := range running {
			r := &reqs[i]
			finished := false
			if r.decoding {
				if budget > 0 {
					budget--
					r.gen++
					if !s.reserve {
						free--
						r.kv++
					}
				}
			}
			if r.gen >= r.out {
				finished = true
			}
			if finished {
				finish(i)
				continue
			}
			keep = append(keep, i)
		}
		running = keep
		for _, i := range running {
			r := &reqs[i]
			if r.decoding || budget <= 0 {
				continue
			}
			chunk := min(r.target-r.done, budget)
			budget -= chunk
			r.done += chunk
			if r.done >= r.target {
				r.decoding = true
				if r.gen == 0 {
					// The prefill's last iteration samples the first
					// token.
					r.gen = 1
					r.firstTok, r.lag = t, s.handoff*dt
					handoffs = append(handoffs, i)
				}
				if !s.reserve {
					free--
					r.kv++
				}
			}
		}
		// Completions of requests whose only token came from the prefill.
		keep = running[:0]
		for _, i := range running {
			r := &reqs[i]
			if r.decoding && r.gen >= r.out {
				finish(i)
				continue
			}
			keep = append(keep, i)
		}
		running = keep
	}
	return s.summarize(reqs, users, itl, finishOrder, t, batchTime, iterations, preemptions)
}

// thinkDraw is one exponential think time of mean 1.
func (s *sim) thinkDraw() float64 { return s.rng.ExpFloat64() }

func (s *sim) summarize(reqs []simReq, users int, itl []itlSample, finishOrder []int, end, batchTime float64, iterations, preemptions int) runOut {
	var out runOut
	n := len(reqs)
	out.Requests, out.Iterations, out.Preemptions, out.DurationS = n, iterations, preemptions, end
	if end > 0 {
		out.MeanBatch = batchTime / end
	}
	// A closed loop's first round is the warm-up: leave it out.
	skip := 0
	if users > 0 {
		skip = min(users, n/2)
	}
	ttft := make([]float64, 0, n)
	tpot := make([]float64, 0, n)
	e2e := make([]float64, 0, n)
	good := 0
	extra := s.rt.request
	for i := range reqs {
		r := &reqs[i]
		if users > 0 && i < skip {
			continue
		}
		a := r.firstTok + r.lag - r.arrival + extra
		// The last token reaches the client after the same hand-off as
		// the first.
		e := r.finish + r.lag - r.arrival + extra
		tp := 0.0
		if r.out > 1 {
			tp = (r.finish - r.firstTok) / float64(r.out-1)
		}
		ttft, e2e = append(ttft, a*1e3), append(e2e, e*1e3)
		if r.out > 1 {
			tpot = append(tpot, tp*1e3)
		}
		if s.slo.met(a*1e3, tp*1e3, e*1e3) {
			good++
		}
	}
	out.TTFT, out.TPOT, out.E2E = latencyOf(ttft), latencyOf(tpot), latencyOf(e2e)
	out.ITL = itlLatency(itl)
	// Rates over the run.
	first := math.Inf(1)
	for i := range reqs {
		first = math.Min(first, reqs[i].arrival)
	}
	if span := end - first; span > 0 {
		out.RequestsPerS = float64(n) / span
		outTok := 0
		for i := range reqs {
			outTok += reqs[i].out
		}
		out.OutputTokensPerS = float64(outTok) / span
	}
	counted := n - skip
	if counted > 0 {
		out.GoodputFraction = float64(good) / float64(counted)
		out.GoodputRPS = out.RequestsPerS * out.GoodputFraction
	}
	// Steady completion rate: completions between the 20th and 80th
	// percentile of finish order.
	if len(finishOrder) >= 10 {
		a, b := len(finishOrder)/5, len(finishOrder)*4/5
		ta, tb := reqs[finishOrder[a]].finish, reqs[finishOrder[b]].finish
		if tb > ta {
			out.steadyRate = float64(b-a) / (tb - ta)
		}
	}
	// Saturation (open loops): over the second half of the arrival window,
	// did completions keep up with arrivals?
	if users == 0 && n >= 20 {
		lastArr := reqs[n-1].arrival
		mid := reqs[n/2].arrival
		if lastArr > mid {
			arrived := n - 1 - n/2
			done := 0
			for i := range reqs {
				if f := reqs[i].finish; f > mid && f <= lastArr {
					done++
				}
			}
			out.Saturated = float64(done) < keptUpFraction*float64(arrived)
		}
	}
	return out
}

// met reports whether one request's latencies (ms) are within the limits.
func (o SLO) met(ttft, tpot, e2e float64) bool {
	return (o.TTFTMS <= 0 || ttft <= o.TTFTMS) && (o.TPOTMS <= 0 || tpot <= o.TPOTMS) && (o.E2EMS <= 0 || e2e <= o.E2EMS)
}

func latencyOf(ms []float64) Latency {
	if len(ms) == 0 {
		return Latency{}
	}
	slices.Sort(ms)
	var sum float64
	for _, v := range ms {
		sum += v
	}
	return Latency{Mean: sum / float64(len(ms)), P50: stats.PercentileSorted(ms, 50), P90: stats.PercentileSorted(ms, 90),
		P95: stats.PercentileSorted(ms, 95), P99: stats.PercentileSorted(ms, 99)}
}

// itlLatency is the distribution of all token gaps: each iteration's
// duration weighted by the sequences that decoded in it.
func itlLatency(xs []itlSample) Latency {
	if len(xs) == 0 {
		return Latency{}
	}
	slices.SortFunc(xs, func(a, b itlSample) int {
		switch {
		case a.dt < b.dt:
			return -1
		case a.dt > b.dt:
			return 1
		}
		return 0
	})
	var total, sum float64
	for _, x := range xs {
		total += float64(x.count)
		sum += x.dt * float64(x.count)
	}
	pct := func(p float64) float64 {
		target := p / 100 * total
		var acc float64
		for _, x := range xs {
			acc += float64(x.count)
			if acc >= target {
				return x.dt * 1e3
			}
		}
		return xs[len(xs)-1].dt * 1e3
	}
	return Latency{Mean: sum / total * 1e3, P50: pct(50), P90: pct(90), P95: pct(95), P99: pct(99)}
}

// userSend is a closed-loop user's next request.
type userSend struct {
	t   float64
	req int
}

// userHeap is a min-heap of sends by time (then request index, so ties
// resolve the same way every run).
type userHeap struct{ xs []userSend }

func (h *userHeap) len() int       { return len(h.xs) }
func (h *userHeap) peek() userSend { return h.xs[0] }
func (h *userHeap) less(i, j int) bool {
	a, b := h.xs[i], h.xs[j]
	return a.t < b.t || (a.t == b.t && a.req < b.req)
}
func (h *userHeap) push(u userSend) {
	h.xs = append(h.xs, u)
	i := len(h.xs) - 1
	for i > 0 {
		p := (i - 1) / 2
		if !h.less(i, p) {
			break
		}
		h.xs[i], h.xs[p] = h.xs[p], h.xs[i]
		i = p
	}
}
func (h *userHeap) pop() userSend {
	top := h.xs[0]
	last := len(h.xs) - 1
	h.xs[0] = h.xs[last]
	h.xs = h.xs[:last]
	i := 0
	for {
		l, r, m := 2*i+1, 2*i+2, i
		if l < len(h.xs) && h.less(l, m) {
			m = l
		}
		if r < len(h.xs) && h.less(r, m) {
			m = r
		}
		if m == i {
			break
		}
		h.xs[i], h.xs[m] = h.xs[m], h.xs[i]
		i = m
	}
	return top
}
