package plan

import (
	"fmt"
	"math"
	"strings"

	"github.com/gpuplan/gpuplan/perf"
)

// The best rows are replayed in perf's discrete-event simulation before
// they are printed: the steady-state model finds and prices every
// feasible offer cheaply, then the rows a reader will look at get tails
// from queues, bursts and batching played out request by request, with the
// same calibrated step model (docs/perf.md, "Simulation").
const (
	// simulatedRows is how many rows must pass the simulation; at most
	// twice as many are tried.
	simulatedRows = 5
	// simRequests is the requests simulated per row.
	simRequests = 2000
	// simSeed fixes the simulation, so a plan is reproducible.
	simSeed = 1
	// simResizes bounds the extra simulations a row that misses an SLO
	// gets while the search looks for the fewest replicas that hold it.
	simResizes = 4
	// simMaxScale bounds how many times the steady-state VM count (or
	// replica count, for replicas spanning VMs) the search goes to; a
	// closed loop also stops at one user per replica.
	simMaxScale = 8
)

// simInput is what a row needs to be simulated: its prepared replica and
// the per-replica load, and the offer to build the row again from with
// more replicas.
type simInput struct {
	dep  *perf.Deployment
	w    perf.Workload
	spec *rowSpec
}

// simulateTop (unless Request.NoSimulate) replays the best rows in the
// simulation, in rank order, until simulatedRows pass: a row whose
// simulated latencies miss an SLO (judged as the steady-state rows are:
// --slo-percentile, point or band), or whose arrivals outrun service, gets
// more replicas of its VM (resize) and is dropped into why-not, with the
// simulated figures, only when no count up to the bound holds; the rows
// that pass print the simulated latencies,
// headroom and throughput. The users are a population: lengths spread
// around the means (perf.Deployment.Population says why identical
// requests would not do). The caller ranks again.
func (s *searcher) simulateTop() {
	if s.r.NoSimulate || len(s.rows) == 0 {
		return
	}
	out := s.rows[:0:0]
	passed, tried := 0, 0
	for _, row := range s.rows {
		if row.sim == nil || passed >= simulatedRows || tried >= 2*simulatedRows {
			out = append(out, row)
			continue
		}
		tried++
		res, err := s.simulate(row.sim.dep, row.sim.w)
		if err != nil {
			out = append(out, row)
			continue
		}
		if reason := s.simulatedMiss(res); reason != "" {
			grown, gres, lightest, ok := s.resize(row, res)
			if !ok {
				c := row.Candidate
				if lightest != "" {
					reason += "; " + lightest
				}
				s.reject(Rejection{Family: s.familyOf(c.VM, row.Target), VM: c.VM, Precision: c.Engine.Precision, TP: c.Engine.TP, PP: c.Engine.PP, VMs: c.VMCount,
					Kind: RejectSLOMissed, Reason: fmt.Sprintf("%s × %d: simulated %s", c.VM, c.VMCount, reason)})
				continue
			}
			row, res = grown, gres
		}
		p := &row.Candidate.Predictions
		p.TTFTMs, p.TPOTMs, p.ITLMs, p.E2EMs = latencyOf(res.TTFT), latencyOf(res.TPOT), latencyOf(res.ITL), latencyOf(res.E2E)
		p.Simulated, p.SpeedModel, p.SimulatedRequests, p.SimulationSeed = true, SpeedModelSimulation, res.Requests, res.Seed
		// Throughput of the replicas at this load: an open loop serves
		// its offered rate (the run kept up); N closed-loop users send
		// N ÷ (think time + mean response) requests a second (Little's
		// law on the simulated E2E).
		replicas := float64(row.Candidate.Replicas)
		perReplica := row.sim.w.RPS
		if row.sim.w.Concurrency > 0 && res.E2E.Mean > 0 {
			perReplica = float64(row.sim.w.Concurrency) / (s.r.ThinkTimeS + res.E2E.Mean/1000)
		}
		if perReplica > 0 && replicas > 0 {
			p.RequestsPerS = perReplica * replicas
			p.OutputTokensPerS = p.RequestsPerS * float64(s.r.OutputTokens)
		}
		if s.r.TTFTSLOMs > 0 || s.r.TPOTSLOMs > 0 {
			// The headroom follows the printed (simulated) latencies,
			// judged as the steady-state ones are.
			h := 1.0
			if v := s.judged(res.TTFT); s.r.TTFTSLOMs > 0 && v > 0 {
				h = math.Min(h, 1-v/s.r.TTFTSLOMs)
			}
			if v := s.judged(res.TPOT); s.r.TPOTSLOMs > 0 && v > 0 {
				h = math.Min(h, 1-v/s.r.TPOTSLOMs)
			}
			row.Headroom = math.Round(h*1000) / 1000
		}
		passed++
		out = append(out, row)
	}
	s.rows = out
	s.rank()
}

// simulate replays n requests of a replica's load w (simRequests of the
// population, seeded).
func (s *searcher) simulate(dep *perf.Deployment, w perf.Workload) (perf.SimResult, error) {
	cfg := dep.Population(perf.SimConfig{Requests: simRequests, Seed: simSeed, ThinkTimeS: s.r.ThinkTimeS, NoSustainable: true})
	return dep.Simulate(w, cfg)
}

// resize gives a row whose simulation (res) misses an SLO more replicas:
// the load each carries (users or requests per second) steps down until
// the simulation holds the SLO, in whole VMs (or whole replicas, for
// replicas spanning VMs), at most simMaxScale times the steady-state
// count and, for a closed loop, down to one user per replica. The
// steady-state model, scaled by how far the simulation sat above it (at
// the last failing count, or interpolated between a failing and a passing
// one), picks the count to simulate next, until a passing count is one
// above a failing one: the fewest that hold (when simResizes simulations
// suffice to show it; otherwise the fewest shown to hold). It returns the
// rebuilt row and its simulation, or, when no count tried holds, what the
// lightest load tried simulated to.
func (s *searcher) resize(row Row, res perf.SimResult) (Row, perf.SimResult, string, bool) {
	spec := row.sim.spec
	if spec == nil || spec.replicasUnit < 1 {
		return row, res, "", false
	}
	unit := spec.replicasUnit
	u0 := row.Candidate.Replicas / unit
	maxU := u0 * simMaxScale
	if s.r.Concurrency > 0 {
		maxU = min(maxU, (s.r.Concurrency+unit-1)/unit)
	}
	if maxU <= u0 {
		return row, res, fmt.Sprintf("already at one user per replica (%s)", plural(row.Candidate.Replicas, "replica")), false
	}
	// steady is the steady-state model's miss ratio at u units.
	steady := func(u int) float64 {
		e, err := spec.fit.dep.Predict(s.spread(u * unit))
		if err != nil {
			return math.Inf(1)
		}
		return s.missRatio(latencyOf(e.TTFT), latencyOf(e.TPOT), e.Saturated)
	}
	simRatio := func(r perf.SimResult) float64 {
		return s.missRatio(latencyOf(r.TTFT), latencyOf(r.TPOT), r.Saturated)
	}
	// inflation is how far the simulation sits above the steady state
	// (twice, when the simulation fell behind its arrivals).
	inflation := func(u int, r perf.SimResult) float64 {
		if st := steady(u); st > 0 && !math.IsInf(st, 1) {
			if r.Saturated {
				return 2
			}
			return math.Max(simRatio(r)/st, 1)
		}
		return 1
	}
	lo, k := u0, inflation(u0, res)
	hi, hiRes := 0, perf.SimResult{}
	lightest, lightRes := u0, res
	for range simResizes {
		if hi > 0 && hi <= lo+1 {
			break
		}
		// kAt is the inflation to apply at u units: the last failing
		// count's, or between a failing and a passing count, linear in
		// the per-replica load (1/u) between theirs.
		kAt := func(u int) float64 { return k }
		top := maxU
		if hi > 0 {
			top = hi - 1
			xl, xh := 1/float64(lo), 1/float64(hi)
			kl, kh := k, inflation(hi, hiRes)
			kAt = func(u int) float64 { return kh + (kl-kh)*(1/float64(u)-xh)/(xl-xh) }
		}
		// The fewest units the inflated steady state says hold: bisect
		// on (lo, top] (latency falls as replicas are added); top when
		// none does (to find, or rule out, a count that holds).
		u := top
		if steady(top)*kAt(top) <= 1 {
			a, b := lo, top
			for a+1 < b {
				m := a + (b-a)/2
				if steady(m)*kAt(m) <= 1 {
					b = m
				} else {
					a = m
				}
			}
			u = b
		}
		if u <= lo || (hi > 0 && u >= hi) {
			break
		}
		r, err := s.simulate(spec.fit.dep, s.spread(u*unit))
		if err != nil {
			break
		}
		if s.simulatedMiss(r) == "" {
			hi, hiRes = u, r
			continue
		}
		lo, k = u, inflation(u, r)
		if u > lightest {
			lightest, lightRes = u, r
		}
		if u == maxU {
			break
		}
	}
	if hi == 0 {
		w := s.spread(lightest * unit)
		load := fmt.Sprintf("%g req/s", math.Round(w.RPS*1000)/1000)
		if w.Concurrency > 0 {
			load = plural(w.Concurrency, "user")
		}
		return row, res, fmt.Sprintf("still %s with %s (%s each), the most tried", s.simulatedFigure(lightRes), plural(lightest*unit, "replica"), load), false
	}
	e, err := spec.fit.dep.Predict(s.spread(hi * unit))
	if err != nil {
		return row, res, "", false
	}
	grown, ok := s.buildRow(spec, hi*unit, e)
	if !ok {
		return row, res, "", false
	}
	w0 := row.sim.w
	before, after := fmt.Sprintf("%g req/s", math.Round(w0.RPS*1000)/1000), fmt.Sprintf("%g req/s", math.Round(grown.sim.w.RPS*1000)/1000)
	if w0.Concurrency > 0 {
		before, after = plural(w0.Concurrency, "user"), plural(grown.sim.w.Concurrency, "user")
	}
	note := fmt.Sprintf("simulated, %s (%s) at %s each miss the SLO (%s): %s (%s) at %s each meet it",
		plural(row.Candidate.Replicas, "replica"), plural(row.Candidate.VMCount, "VM"), before, s.simulatedFigure(res),
		plural(grown.Candidate.Replicas, "replica"), plural(grown.Candidate.VMCount, "VM"), after)
	p := &grown.Candidate.Predictions
	p.SteadyStateReplicas, p.SimulationNote = row.Candidate.Replicas, note
	if c := int64(grown.sim.w.Concurrency); c > 0 && c < p.MaxConcurrency {
		// The steady state's per-replica capacity is more users than
		// the simulation held the SLO with: the most it showed to hold
		// is what the row (and an autoscaler sized from it) can count on.
		p.MaxConcurrency = c
	}
	grown.Candidate.Notes = append(grown.Candidate.Notes, note)
	grown.Candidate.Reason += "; " + note
	return grown, hiRes, "", true
}

// missRatio is how far judged latencies sit from the SLOs: the larger of
// judged ÷ SLO for TTFT and TPOT (above 1 misses); +Inf when saturated.
func (s *searcher) missRatio(ttft, tpot Latency, saturated bool) float64 {
	if saturated {
		return math.Inf(1)
	}
	m := 0.0
	if v := judgedValue(ttft, s.r.SLOPercentile, s.r.SLOBand); s.r.TTFTSLOMs > 0 {
		m = math.Max(m, v/s.r.TTFTSLOMs)
	}
	if v := judgedValue(tpot, s.r.SLOPercentile, s.r.SLOBand); s.r.TPOTSLOMs > 0 {
		m = math.Max(m, v/s.r.TPOTSLOMs)
	}
	return m
}

// simulatedFigure states a simulation's judged latencies against the
// SLOs ("p90 TTFT 372 ms").
func (s *searcher) simulatedFigure(r perf.SimResult) string {
	if r.Saturated {
		return fmt.Sprintf("%d requests: arrivals outran service", r.Requests)
	}
	var parts []string
	if s.r.TTFTSLOMs > 0 {
		parts = append(parts, fmt.Sprintf("%s TTFT %.0f ms", s.sloWords(), s.judged(r.TTFT)))
	}
	if s.r.TPOTSLOMs > 0 {
		parts = append(parts, fmt.Sprintf("%s TPOT %.1f ms", s.sloWords(), s.judged(r.TPOT)))
	}
	return strings.Join(parts, ", ")
}

// simulatedMiss says which SLO a simulated row misses (or that arrivals
// outran service), or "".
func (s *searcher) simulatedMiss(r perf.SimResult) string {
	if r.Saturated {
		return fmt.Sprintf("%d requests: arrivals outran service", r.Requests)
	}
	switch {
	case s.r.TTFTSLOMs > 0 && s.judged(r.TTFT) > s.r.TTFTSLOMs:
		return fmt.Sprintf("TTFT %s %.0f ms exceeds the %.0f ms SLO", s.r.SLOPercentile, s.judged(r.TTFT), s.r.TTFTSLOMs)
	case s.r.TPOTSLOMs > 0 && s.judged(r.TPOT) > s.r.TPOTSLOMs:
		return fmt.Sprintf("TPOT %s %.1f ms exceeds the %.1f ms SLO", s.r.SLOPercentile, s.judged(r.TPOT), s.r.TPOTSLOMs)
	}
	return ""
}
