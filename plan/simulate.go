package plan

import (
	"fmt"
	"math"

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
)

// simInput is what a row needs to be simulated: its prepared replica and
// the per-replica load.
type simInput struct {
	dep *perf.Deployment
	w   perf.Workload
}

// simulateTop (unless Request.NoSimulate) replays the best rows in the
// simulation, in rank order, until simulatedRows pass: a row whose
// simulated latencies miss an SLO (judged as the steady-state rows are:
// --slo-percentile, point or band), or whose arrivals outrun service, is
// dropped into why-not; the others print the simulated latencies,
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
		cfg := row.sim.dep.Population(perf.SimConfig{Requests: simRequests, Seed: simSeed, ThinkTimeS: s.r.ThinkTimeS, NoSustainable: true})
		res, err := row.sim.dep.Simulate(row.sim.w, cfg)
		if err != nil {
			out = append(out, row)
			continue
		}
		reason := s.simulatedMiss(res)
		if res.Saturated {
			reason = fmt.Sprintf("%d requests: arrivals outran service", res.Requests)
		}
		if reason != "" {
			c := row.Candidate
			s.reject(Rejection{Family: s.familyOf(c.VM, row.Target), VM: c.VM, Precision: c.Engine.Precision, TP: c.Engine.TP, PP: c.Engine.PP, VMs: c.VMCount,
				Kind: RejectSLOMissed, Reason: fmt.Sprintf("%s × %d: simulated %s", c.VM, c.VMCount, reason)})
			continue
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

// simulatedMiss says which SLO a simulated row misses, or "".
func (s *searcher) simulatedMiss(r perf.SimResult) string {
	switch {
	case s.r.TTFTSLOMs > 0 && s.judged(r.TTFT) > s.r.TTFTSLOMs:
		return fmt.Sprintf("TTFT %s %.0f ms exceeds the %.0f ms SLO", s.r.SLOPercentile, s.judged(r.TTFT), s.r.TTFTSLOMs)
	case s.r.TPOTSLOMs > 0 && s.judged(r.TPOT) > s.r.TPOTSLOMs:
		return fmt.Sprintf("TPOT %s %.1f ms exceeds the %.1f ms SLO", s.r.SLOPercentile, s.judged(r.TPOT), s.r.TPOTSLOMs)
	}
	return ""
}
