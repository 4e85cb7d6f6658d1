package perf

import (
	"fmt"
	"math"
	"sort"
	"strings"
	"testing"

	"github.com/gpuplan/gpuplan/hardware"
	"github.com/gpuplan/gpuplan/internal/golden"
	"github.com/gpuplan/gpuplan/stats"
)

type sparecoresRow struct {
	Source    string  `json:"source"`
	VM        string  `json:"vm_size"`
	CPU       string  `json:"cpu"`
	Cores     int     `json:"cores"`
	Model     string  `json:"model"`
	Params    float64 `json:"params"`
	Quant     string  `json:"quant"`
	NPrompt   int     `json:"n_prompt"`
	NGen      int     `json:"n_gen"`
	PromptTPS float64 `json:"prompt_tok_s"`
	GenTPS    float64 `json:"gen_tok_s"`
}

// q4KMBitsPerWeight is LLaMA-7B's Q4_K_M file (4.08 GB, TheBloke's GGUF as
// benchmarked) over its 6,738,415,616 parameters: 4.84 bits per weight,
// standing in for every Q4_K_M model in these rows.
const q4KMBitsPerWeight = 4.08e9 * 8 / 6738415616

func cpuRelErr(pred, meas float64) float64 { return math.Abs(pred/meas - 1) }

// TestCPUSpeedAccuracy predicts llama-bench's prompt and generation
// tokens/s for every Spare Cores row whose VM size is in the hardware CPU
// catalog, from the catalog's bandwidth (measured or estimated) and the
// fitted per-CPU rates, and requires a median error of at most 25% on
// each; docs/accuracy.md gets the per-CPU table.
func TestCPUSpeedAccuracy(t *testing.T) {
	var f struct {
		Rows []sparecoresRow `json:"rows"`
	}
	readTestdata(t, "cpu-llm-sparecores.json", &f)
	cat := hardware.DefaultCPUs()
	type agg struct{ pp, tg []float64 }
	per := map[string]*agg{}
	var allPP, allTG []float64
	skipped := 0
	for _, r := range f.Rows {
		vm, ok := cat.LookupVM(r.VM)
		if !ok {
			skipped++
			continue
		}
		sp, ok := LookupCPUSpeed(vm.CPU)
		if !ok {
			t.Fatalf("no CPU speed for %s (%s)", vm.CPU, vm.Name)
		}
		bw := cat.VMBandwidth(vm)
		e, err := EstimateCPU(CPUTarget{Name: vm.Name, Speed: sp, Cores: r.Cores, BandwidthGBPerS: bw.GBPerS},
			CPUWorkload{WeightBytes: r.Params * q4KMBitsPerWeight / 8, Params: r.Params, InputTokens: r.NPrompt, Concurrency: 1})
		if err != nil {
			t.Fatal(err)
		}
		a := per[vm.CPU]
		if a == nil {
			a = &agg{}
			per[vm.CPU] = a
		}
		if r.PromptTPS > 0 {
			x := cpuRelErr(e.PrefillTokensPerS, r.PromptTPS)
			a.pp, allPP = append(a.pp, x), append(allPP, x)
		}
		if r.GenTPS > 0 {
			// llama-bench's tg starts from an empty cache: step cost at
			// context 0.
			x := cpuRelErr(e.DecodeTokensPerS, r.GenTPS)
			a.tg, allTG = append(a.tg, x), append(allTG, x)
		}
	}
	if len(allPP) < 200 || len(allTG) < 200 {
		t.Fatalf("only %d prompt and %d generation rows matched the catalog", len(allPP), len(allTG))
	}
	mPP, mTG := stats.Median(allPP), stats.Median(allTG)
	if mPP > 0.25 || mTG > 0.25 {
		t.Errorf("median error prompt %.1f%%, generation %.1f%%; the goal is 25%%", 100*mPP, 100*mTG)
	}
	ids := make([]string, 0, len(per))
	for id := range per {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	var s strings.Builder
	fmt.Fprintf(&s, "llama-bench (b4753, Q4_K_M, -t physical cores) on Azure VM sizes, Spare Cores inspector data (CC BY-SA 4.0; `perf/testdata/cpu-llm-sparecores.json`), against `perf.EstimateCPU` with the catalog's bandwidth for each size. %d rows on sizes outside the CPU catalog are left out.\n\n", skipped)
	s.WriteString("| CPU | prompt rows | prompt median error | generation rows | generation median error |\n|---|---|---|---|---|\n")
	for _, id := range ids {
		a := per[id]
		fmt.Fprintf(&s, "| %s | %d | %.1f%% | %d | %.1f%% |\n", id, len(a.pp), 100*stats.Median(a.pp), len(a.tg), 100*stats.Median(a.tg))
	}
	fmt.Fprintf(&s, "| **all** | %d | **%.1f%%** | %d | **%.1f%%** |\n", len(allPP), 100*mPP, len(allTG), 100*mTG)
	golden.Section(t, "../docs/accuracy.md", "cpu-speed", s.String(), *update)
}

func TestEstimateCPUPhysics(t *testing.T) {
	sp, _ := LookupCPUSpeed("epyc-9v45")
	tgt := CPUTarget{Name: "Standard_F16as_v7", Speed: sp, Cores: 16, BandwidthGBPerS: 116.8}
	w := CPUWorkload{WeightBytes: 4e9, Params: 7e9, InputTokens: 512, OutputTokens: 128, Concurrency: 1}
	one, err := EstimateCPU(tgt, w)
	if err != nil {
		t.Fatal(err)
	}
	// A 4 GB model on 116.8 GB/s cannot decode faster than bandwidth allows.
	if one.DecodeTokensPerS > 116.8e9*sp.BandwidthEfficiency/4e9 {
		t.Errorf("decode %.1f tok/s beats the bandwidth bound", one.DecodeTokensPerS)
	}
	w.Concurrency = 4
	four, _ := EstimateCPU(tgt, w)
	if !(four.AggregateTokensPerS > one.AggregateTokensPerS && four.DecodeTokensPerS < one.DecodeTokensPerS) {
		t.Errorf("batching 4: aggregate %.1f vs %.1f, per-sequence %.1f vs %.1f", four.AggregateTokensPerS, one.AggregateTokensPerS, four.DecodeTokensPerS, one.DecodeTokensPerS)
	}
	tgt.Cores = 8
	half, _ := EstimateCPU(tgt, w)
	if math.Abs(half.PrefillTokensPerS*2-four.PrefillTokensPerS) > 1e-6 {
		t.Error("prefill should scale with cores")
	}
	if _, err := EstimateCPU(CPUTarget{Name: "x"}, w); err == nil {
		t.Error("a target without rates was estimated")
	}
}
