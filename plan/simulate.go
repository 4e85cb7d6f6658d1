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

// simulateTop replays the best rows in the simulation, in rank order,
// until simulatedRows pass: a row whose simulated latencies miss an SLO on
// the band's upper edge, or whose arrivals outrun service, is dropped
// (reported in why-not); the others print the simulated latencies. Rows
// are then numbered again.
func (s *searcher) simulateTop() {
	if len(s.rows) == 0 {
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
		res, err := row.sim.dep.Simulate(row.sim.w, perf.SimConfig{Requests: simRequests, Seed: simSeed, NoSustainable: true})
		if err != nil {
			out = append(out, row)
			continue
		}
		if reason := s.simulatedMiss(res); reason != "" {
			s.reject(s.familyOf(row), "slo_missed", fmt.Sprintf("%s × %d: simulated %s", row.Candidate.VM, row.Candidate.VMCount, reason))
			continue
		}
		p := &row.Candidate.Predictions
		p.TTFTMs, p.TPOTMs, p.ITLMs, p.E2EMs = Latency(res.TTFT), Latency(res.TPOT), Latency(res.ITL), Latency(res.E2E)
		p.Simulated = true
		if s.r.TTFTSLOMs > 0 || s.r.TPOTSLOMs > 0 {
			// The headroom follows the printed (simulated) latencies.
			h := 1.0
			if s.r.TTFTSLOMs > 0 && res.TTFT.High > 0 {
				h = math.Min(h, 1-res.TTFT.High/s.r.TTFTSLOMs)
			}
			if s.r.TPOTSLOMs > 0 && res.TPOT.High > 0 {
				h = math.Min(h, 1-res.TPOT.High/s.r.TPOTSLOMs)
			}
			row.Headroom = math.Round(h*1000) / 1000
		}
		passed++
		out = append(out, row)
	}
	s.rows = out
	for i := range s.rows {
		s.rows[i].Rank = i + 1
		s.rows[i].Candidate.Rank = i + 1
	}
}

// simulatedMiss says why a simulated row fails, or "".
func (s *searcher) simulatedMiss(r perf.SimResult) string {
	switch {
	case r.Saturated:
		return fmt.Sprintf("%d requests: arrivals outran service", r.Requests)
	case s.r.TTFTSLOMs > 0 && r.TTFT.High > s.r.TTFTSLOMs:
		return fmt.Sprintf("TTFT upper band %.0f ms exceeds the %.0f ms SLO", r.TTFT.High, s.r.TTFTSLOMs)
	case s.r.TPOTSLOMs > 0 && r.TPOT.High > s.r.TPOTSLOMs:
		return fmt.Sprintf("TPOT upper band %.1f ms exceeds the %.1f ms SLO", r.TPOT.High, s.r.TPOTSLOMs)
	}
	return ""
}

// familyOf is the VM series of a row, for why-not grouping.
func (s *searcher) familyOf(row Row) string {
	if vm, err := s.r.Hardware.LookupVM(row.Candidate.VM); err == nil {
		return vm.Series
	}
	return row.Candidate.VM
}
