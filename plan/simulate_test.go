package plan

import (
	"testing"
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
