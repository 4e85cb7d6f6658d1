package plan

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/gpuplan/gpuplan/dtype"
	"github.com/gpuplan/gpuplan/hardware"
	"github.com/gpuplan/gpuplan/perf"
)

// TestSearchSimulate: by default the best rows carry simulated latencies
// that meet the SLO as judged and say so (speed_model), the rows stay
// ranked, and the answer is the same on every run (fixed seed);
// NoSimulate keeps the steady-state model for every row.
func TestSearchSimulate(t *testing.T) {
	r := baseRequest(t, "meta-llama/Llama-3.1-8B-Instruct")
	r.TPOTSLOMs = 50
	a, err := Search(r)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Search(r)
	if err != nil {
		t.Fatal(err)
	}
	simulated := 0
	for i, row := range a.Rows {
		p := row.Candidate.Predictions
		if want := map[bool]string{true: SpeedModelSimulation, false: SpeedModelSteadyState}[p.Simulated]; p.SpeedModel != want {
			t.Errorf("rank %d: simulated %v but speed_model %q", row.Rank, p.Simulated, p.SpeedModel)
		}
		if p.Simulated {
			simulated++
			if p.SimulatedRequests != simRequests || p.SimulationSeed != simSeed {
				t.Errorf("rank %d: %d requests, seed %d; want %d, %d", row.Rank, p.SimulatedRequests, p.SimulationSeed, simRequests, simSeed)
			}
			if v := judgedValue(p.TPOTMs, a.SLOPercentile, r.SLOBand); v > r.TPOTSLOMs {
				t.Errorf("rank %d: simulated TPOT %.1f ms breaks the %g ms SLO", row.Rank, v, r.TPOTSLOMs)
			}
			if !(p.TTFTMs.P50 <= p.TTFTMs.P90 && p.TTFTMs.P90 <= p.TTFTMs.P99) {
				t.Errorf("rank %d: TTFT percentiles out of order %+v", row.Rank, p.TTFTMs)
			}
		}
		if i < len(b.Rows) && (b.Rows[i].Candidate.VM != row.Candidate.VM || b.Rows[i].Candidate.Predictions.TTFTMs != p.TTFTMs) {
			t.Errorf("rank %d differs between two runs", row.Rank)
		}
		if row.Rank != i+1 {
			t.Errorf("row %d has rank %d", i, row.Rank)
		}
	}
	if simulated == 0 || simulated > simulatedRows {
		t.Errorf("%d rows simulated, want 1 to %d", simulated, simulatedRows)
	}
	r.NoSimulate = true
	c, err := Search(r)
	if err != nil {
		t.Fatal(err)
	}
	for _, row := range c.Rows {
		if row.Candidate.Predictions.Simulated {
			t.Fatalf("rank %d simulated with NoSimulate", row.Rank)
		}
	}
}

// TestSimulateResizes: a row whose simulation misses the SLO at the
// steady-state replica count is not dropped but given more replicas of
// the same VM (fewer users each), the fewest the simulation holds the SLO
// with, and says so; when no count up to the bound holds it, the row is
// dropped with the simulated figure at the lightest load tried. Every
// threshold is checked by simulating the row's replica again here.
func TestSimulateResizes(t *testing.T) {
	const vm = "Standard_NC40ads_H100_v5" // one H100 NVL
	for _, tc := range []struct {
		name        string
		concurrency int
		rps         float64
		precision   string
		// ttftSLOMs 0: derived between the steady state at the full load
		// and the simulation at one user per replica, so no replica
		// count can meet it.
		ttftSLOMs float64
		dropped   bool
	}{
		// The example: 64 users, 3,000 in / 100 out, TTFT ≤ 300
		// ms; one H100 NVL holds it in the steady state (p90 ~162 ms) but
		// not simulated (~372 ms), which used to drop the row.
		{name: "issue example resized", concurrency: 64, precision: "fp8", ttftSLOMs: 300},
		// The same at 40 requests a second, open loop, in bf16.
		{name: "open loop resized", rps: 40, precision: "bf16", ttftSLOMs: 300},
		{name: "no count holds", concurrency: 2, precision: "fp8", dropped: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := Request{Model: spec(t, "meta-llama/Llama-3.1-8B-Instruct"), InputTokens: 3000, OutputTokens: 100,
				Concurrency: tc.concurrency, RPS: tc.rps, TTFTSLOMs: tc.ttftSLOMs, Prices: hardware.Default().Prices()}
			prec, err := dtype.LookupPrecision(tc.precision)
			if err != nil {
				t.Fatal(err)
			}
			only := r
			only.VMs, only.Precisions = []string{vm}, []dtype.Precision{prec}
			steady := only
			steady.NoSimulate = true
			if tc.ttftSLOMs == 0 {
				// Between the steady state's p90 at the full load on one
				// replica and the simulated p90 at one user.
				steady.TTFTSLOMs = 1e6
				st, err := Search(steady)
				if err != nil {
					t.Fatal(err)
				}
				row := st.Rows[0]
				lo := row.Candidate.Predictions.TTFTMs.P90
				sim := simAt(t, &row, tc.concurrency) // one user per replica
				if hi := sim.TTFT.P90; !(lo < hi) || row.Candidate.Replicas != 1 {
					t.Fatalf("cannot build the case: steady p90 %.1f ms at %d users on %d replica(s), simulated p90 %.1f ms at 1 user", lo, tc.concurrency, row.Candidate.Replicas, hi)
				} else {
					r.TTFTSLOMs = (lo + hi) / 2
				}
				only.TTFTSLOMs, steady.TTFTSLOMs = r.TTFTSLOMs, r.TTFTSLOMs
			}
			st, err := Search(steady)
			if err != nil {
				t.Fatalf("the steady state alone: %v", err)
			}
			base := st.Rows[0].Candidate
			if tc.dropped {
				res, err := Search(only)
				if !errors.Is(err, ErrInfeasible) {
					t.Fatalf("SLO %.2f ms: err = %v, rows %d; want the row dropped", only.TTFTSLOMs, err, len(res.Rows))
				}
				var why string
				for _, w := range res.WhyNot {
					if w.VM == vm && w.Kind == RejectSLOMissed {
						why = w.Reason
					}
				}
				maxReplicas := tc.concurrency // one user each
				for _, want := range []string{"simulated TTFT p90", fmt.Sprintf("with %d replicas (1 user each), the most tried", maxReplicas)} {
					if !strings.Contains(why, want) {
						t.Errorf("why-not %q lacks %q", why, want)
					}
				}
				return
			}
			res, err := Search(r)
			if err != nil {
				t.Fatal(err)
			}
			var row *Row
			for i := range res.Rows {
				if c := res.Rows[i].Candidate; c.VM == vm && c.Engine.Precision == tc.precision {
					row = &res.Rows[i]
				}
			}
			if row == nil {
				t.Fatalf("the %s %s row was dropped; why-not %+v", vm, tc.precision, res.WhyNot)
			}
			c := row.Candidate
			p := c.Predictions
			if !p.Simulated || p.SteadyStateReplicas != base.Replicas || c.Replicas <= base.Replicas {
				t.Fatalf("replicas %d (steady state %d, recorded %d), simulated %v: want more replicas than the steady state's", c.Replicas, base.Replicas, p.SteadyStateReplicas, p.Simulated)
			}
			if p.TTFTMs.P90 > r.TTFTSLOMs {
				t.Errorf("simulated p90 TTFT %.1f ms > %g ms SLO at %d replicas", p.TTFTMs.P90, r.TTFTSLOMs, c.Replicas)
			}
			if fewer := simAt(t, row, c.Replicas-1); fewer.TTFT.P90 <= r.TTFTSLOMs {
				t.Errorf("with %d replicas the simulated p90 TTFT is %.1f ms, within the %g ms SLO: %d is not the fewest", c.Replicas-1, fewer.TTFT.P90, r.TTFTSLOMs, c.Replicas)
			}
			if at := simAt(t, row, base.Replicas); at.TTFT.P90 <= r.TTFTSLOMs {
				t.Errorf("at the steady state's %d replicas the simulation holds the SLO (p90 %.1f ms): nothing to resize", base.Replicas, at.TTFT.P90)
			}
			// One replica per VM: the bill is the steady-state row's
			// per-VM bill times the VMs now needed.
			if c.VMCount != c.Replicas || math.Abs(*c.Prices.USDPerMonth-*base.Prices.USDPerMonth/float64(base.VMCount)*float64(c.VMCount)) > 0.01 {
				t.Errorf("%d VMs for %d replicas, $%.2f/month; want one VM each at $%.2f", c.VMCount, c.Replicas, *c.Prices.USDPerMonth, *base.Prices.USDPerMonth/float64(base.VMCount))
			}
			if tc.concurrency > 0 {
				each := (tc.concurrency + c.Replicas - 1) / c.Replicas
				if row.ConcurrencyPerReplica != each || p.MaxConcurrency > int64(each) {
					t.Errorf("%d users per replica (max %d) for %d users on %d replicas", row.ConcurrencyPerReplica, p.MaxConcurrency, tc.concurrency, c.Replicas)
				}
			}
			if !strings.Contains(p.SimulationNote, fmt.Sprintf("%d replicas (%d VMs)", c.Replicas, c.VMCount)) || !slices.Contains(c.Notes, p.SimulationNote) || !strings.Contains(c.Reason, p.SimulationNote) {
				t.Errorf("note %q (notes %q, reason %q) does not say the simulation changed the replicas", p.SimulationNote, c.Notes, c.Reason)
			}
			// Ranked again by bill.
			for i := 1; i < len(res.Rows); i++ {
				a, b := res.Rows[i-1].Candidate.Prices.USDPerMonth, res.Rows[i].Candidate.Prices.USDPerMonth
				if a != nil && b != nil && *a > *b {
					t.Errorf("rank %d ($%.2f) above rank %d ($%.2f)", i, *a, i+1, *b)
				}
			}
		})
	}
}

// simAt simulates row's replica with the load of n replicas sharing the
// request's users (or requests per second), as plan does (2,000 requests
// of the population, seed 1).
func simAt(t *testing.T, row *Row, n int) perf.SimResult {
	t.Helper()
	w := row.sim.w
	if all := row.Candidate.Workload; all.Concurrency > 0 {
		w.Concurrency = (int(all.Concurrency) + n - 1) / n
	} else {
		w.RPS = all.RPS / float64(n)
	}
	res, err := row.sim.dep.Simulate(w, row.sim.dep.Population(perf.SimConfig{Requests: 2000, Seed: 1, NoSustainable: true}))
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// BenchmarkSearchResize is the issue-14 example (64 users, 3,000 in / 100
// out tokens, TTFT ≤ 300 ms) over the whole catalog with the simulation:
// three of the best rows miss the SLO simulated and are re-sized
// (docs/perf.md reports it).
func BenchmarkSearchResize(b *testing.B) {
	r := Request{Model: spec(b, "meta-llama/Llama-3.1-8B-Instruct"), InputTokens: 3000, OutputTokens: 100,
		Concurrency: 64, TTFTSLOMs: 300, Prices: hardware.Default().Prices()}
	for b.Loop() {
		res, err := Search(r)
		if err != nil {
			b.Fatal(err)
		}
		if !slices.ContainsFunc(res.Rows, func(r Row) bool { return r.Candidate.Predictions.SteadyStateReplicas > 0 }) {
			b.Fatal("no row was re-sized")
		}
	}
}
