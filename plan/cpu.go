package plan

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/gpuplan/gpuplan/dtype"
	"github.com/gpuplan/gpuplan/engine"
	"github.com/gpuplan/gpuplan/hardware"
	"github.com/gpuplan/gpuplan/memory"
	"github.com/gpuplan/gpuplan/model"
	"github.com/gpuplan/gpuplan/perf"
	"github.com/gpuplan/gpuplan/stats"
)

// CPU VM offers: llama.cpp (the build Ollama v0.9.0 ships) on an Azure CPU
// size, one replica per VM, --parallel slots = the concurrency. Memory is
// llama.cpp's own buffer accounting (engine.LlamaCPPBuffers) against the
// VM's memory less an OS reserve; speed is perf.EstimateCPU on the VM's
// cores and bandwidth; the price is the CPU price book's.

// cpuLoad is the load every CPU offer is sized for: the context of one
// llama.cpp slot (--context, else input + output tokens, the longest
// request) and the slots (the concurrency; with --rps, twice the arrivals
// per second to start from, which each offer checks by Little's law).
func cpuLoad(r Request) (ctx int64, slots int) {
	slots = r.Concurrency
	if slots <= 0 && r.RPS > 0 {
		slots = max(1, int(math.Ceil(r.RPS*2)))
	}
	ctx = r.Context
	if ctx <= 0 {
		ctx = int64(r.InputTokens + r.OutputTokens)
	}
	return max(ctx, 1), max(slots, 1)
}

// cpuPricing is the region and price kind CPU offers are priced at.
func cpuPricing(r Request) (region string, kind hardware.PriceKind) {
	region, kind = r.Region, r.Pricing
	if region == "" {
		region = "eastus"
	}
	if kind == "" {
		kind = hardware.PAYG
	}
	return region, kind
}

// cpuOSReserveGiB is memory left to the OS, the container runtime and the
// server process on a CPU VM (an estimate: kubelet's default eviction
// threshold plus system daemons are of this order on AKS nodes).
const cpuOSReserveGiB = 1.5

// CPUPrecisions are the GGUF weight types the CPU search considers.
var CPUPrecisions = []string{"q8_0", "q4_k"}

// CPURow is one CPU VM offer.
type CPURow struct {
	Rank      int     `json:"rank,omitempty"`
	VM        string  `json:"vm"`
	Series    string  `json:"series"`
	CPU       string  `json:"cpu"`
	VCPU      int     `json:"vcpu"`
	Cores     int     `json:"cores"`
	MemoryGiB float64 `json:"memory_gib"`
	Precision string  `json:"precision"`
	// NeedGiB is llama.cpp's buffers (model, KV, compute, output).
	NeedGiB       float64            `json:"need_gib"`
	Bandwidth     hardware.Bandwidth `json:"bandwidth"`
	TTFTMs        float64            `json:"ttft_ms"`
	TPOTMs        float64            `json:"tpot_ms"`
	TokensPerS    float64            `json:"output_tokens_per_s"`
	USDPerHour    *float64           `json:"usd_per_hour"`
	USDPerMonth   *float64           `json:"usd_per_month"`
	USDPerMOutput *float64           `json:"usd_per_million_output_tokens"`
	PricesAsOf    string             `json:"prices_as_of,omitempty"`
	Meets         bool               `json:"meets_slo"`
	WhyNot        string             `json:"why_not,omitempty"`
}

// CPUResult is the CPU part of a plan.
type CPUResult struct {
	Engine string `json:"engine"`
	// Rows meet the memory and SLOs, cheapest first.
	Rows []CPURow `json:"rows"`
	// Closest are the best rejected offers per series, with why not.
	Closest     []CPURow `json:"closest,omitempty"`
	Evaluated   int      `json:"evaluated"`
	Assumptions []string `json:"assumptions"`
}

// SearchCPU evaluates every Azure CPU VM size × CPU precision for the
// request's model and load.
func SearchCPU(r Request) CPUResult {
	out := CPUResult{Engine: engine.LlamaCPPBuild, Assumptions: []string{
		"llama.cpp on every physical core, one replica per VM, --parallel = concurrency, context per slot = --context (default input + output)",
		fmt.Sprintf("memory: llama.cpp's buffers within the VM's memory less %.1f GiB for the OS", cpuOSReserveGiB),
		"speed: perf.EstimateCPU (per-CPU rates fitted on llama-bench runs on Azure sizes; bandwidth measured on the size where Spare Cores or Microsoft measured it, else scaled from a measured size)",
		"image: Ollama and llama.cpp server images are multi-arch, so Arm (Cobalt) sizes are offered",
	}}
	s := r.Model
	if s == nil || s.Layers == 0 || s.Hidden == 0 {
		return out
	}
	ctx, conc := cpuLoad(r)
	region, kind := cpuPricing(r)
	cc := hardware.DefaultCPUs()
	bestRejected := map[string]CPURow{}
	for _, pname := range CPUPrecisions {
		prec, err := dtype.LookupPrecision(pname)
		if err != nil {
			continue
		}
		w, err := memory.EstimateWeights(s, prec, 1, 1)
		if err != nil {
			continue
		}
		params := float64(s.Params().Total)
		kvPerTok := float64(llamacppKVPerToken(s))
		// llama.cpp's buffers depend on the model, weight type, context
		// and slots, not on the VM: build its graph once per precision
		// (it dominated the README plan's CPU time when built per VM).
		bufs, bufErr := engine.LlamaCPPBuffers(engine.LlamaCPPModelFromSpec(s, int64(w.Total)), engine.LlamaCPPRequest{Context: ctx, Parallel: int64(conc)})
		for _, vm := range cc.SortedVMs() {
			out.Evaluated++
			sp, ok := perf.LookupCPUSpeed(vm.CPU)
			if !ok {
				continue
			}
			row := CPURow{VM: vm.Name, Series: vm.Series, CPU: vm.CPU, VCPU: vm.VCPU, Cores: vm.Cores(), MemoryGiB: vm.MemoryGiB, Precision: prec.Name, Bandwidth: cc.VMBandwidth(vm)}
			c := conc
			if bufErr != nil {
				continue
			}
			row.NeedGiB = float64(bufs.Total) / (1 << 30)
			tgt := perf.CPUTarget{Name: vm.Name, Speed: sp, Cores: vm.Cores(), BandwidthGBPerS: row.Bandwidth.GBPerS}
			e, err := perf.EstimateCPU(tgt, perf.CPUWorkload{WeightBytes: float64(w.Total), Params: params, KVBytesPerToken: kvPerTok,
				InputTokens: r.InputTokens, OutputTokens: r.OutputTokens, Concurrency: c})
			if err != nil {
				continue
			}
			row.TTFTMs, row.TPOTMs, row.TokensPerS = 1000*e.TTFTSeconds, 1000*e.DecodeStepSeconds, e.AggregateTokensPerS
			if p, ok := cc.VMPrice(vm.Name, region, kind); ok {
				h := p.USDPerHour
				m := h * hardware.HoursPerMonth
				row.USDPerHour, row.USDPerMonth, row.PricesAsOf = &h, &m, p.AsOf.String()
				if e.AggregateTokensPerS > 0 {
					per := h / (e.AggregateTokensPerS * 3600) * 1e6
					row.USDPerMOutput = &per
				}
			}
			var why []string
			if row.NeedGiB > vm.MemoryGiB-cpuOSReserveGiB {
				why = append(why, fmt.Sprintf("needs %.1f GiB, has %.0f GiB", row.NeedGiB, vm.MemoryGiB))
			}
			if r.TPOTSLOMs > 0 && row.TPOTMs > r.TPOTSLOMs {
				why = append(why, fmt.Sprintf("TPOT %.0f ms > %g ms", row.TPOTMs, r.TPOTSLOMs))
			}
			if r.TTFTSLOMs > 0 && row.TTFTMs > r.TTFTSLOMs {
				why = append(why, fmt.Sprintf("TTFT %.0f ms > %g ms", row.TTFTMs, r.TTFTSLOMs))
			}
			if r.RPS > 0 {
				// Little's law: the slots must drain the arrivals.
				lat := (row.TTFTMs + float64(r.OutputTokens)*row.TPOTMs) / 1000
				if need := r.RPS * lat; need > float64(c) {
					why = append(why, fmt.Sprintf("%.2f requests/s need %.0f slots at this speed, %d modelled", r.RPS, math.Ceil(need), c))
				}
			}
			if row.USDPerHour == nil {
				why = append(why, "no "+string(kind)+" price in "+region)
			}
			if r.BudgetUSDMonth > 0 && row.USDPerMonth != nil && *row.USDPerMonth > r.BudgetUSDMonth {
				why = append(why, fmt.Sprintf("$%.0f/month over the budget", *row.USDPerMonth))
			}
			if len(why) == 0 {
				row.Meets = true
				out.Rows = append(out.Rows, row)
				continue
			}
			row.WhyNot = strings.Join(why, "; ")
			key := vm.Series
			if b, ok := bestRejected[key]; !ok || cpuCloser(row, b) {
				bestRejected[key] = row
			}
		}
	}
	sort.SliceStable(out.Rows, func(i, j int) bool { return cpuCheaper(out.Rows[i], out.Rows[j]) })
	for i := range out.Rows {
		out.Rows[i].Rank = i + 1
	}
	// Series with a meeting row need no why-not.
	meets := map[string]bool{}
	for _, r := range out.Rows {
		meets[r.Series] = true
	}
	for k, v := range bestRejected {
		if !meets[k] {
			out.Closest = append(out.Closest, v)
		}
	}
	sort.Slice(out.Closest, func(i, j int) bool { return out.Closest[i].Series < out.Closest[j].Series })
	return out
}

func cpuCheaper(a, b CPURow) bool {
	switch {
	case a.USDPerHour == nil:
		return false
	case b.USDPerHour == nil:
		return true
	case *a.USDPerHour != *b.USDPerHour:
		return *a.USDPerHour < *b.USDPerHour
	}
	return a.TPOTMs < b.TPOTMs
}

// cpuCloser prefers the rejected offer that misses by least: fits memory
// first, then the lower TPOT.
func cpuCloser(a, b CPURow) bool {
	af, bf := a.NeedGiB <= a.MemoryGiB-cpuOSReserveGiB, b.NeedGiB <= b.MemoryGiB-cpuOSReserveGiB
	if af != bf {
		return af
	}
	return a.TPOTMs < b.TPOTMs
}

// llamacppKVPerToken is the f16 K+V cache per token over all layers.
func llamacppKVPerToken(s *model.Spec) int64 {
	var elems int64
	for _, l := range s.KVLayers() {
		elems += l.ElementsPerToken()
	}
	return elems * 2
}

// CPUCandidate turns a CPU row of r's plan into the plan.json candidate
// deploy reads: llama.cpp through Ollama on one VM of row.VM, with the
// row's GGUF precision, r's context per slot and its concurrency as
// slots. GPU fields stay empty (gpu "", gpu_memory_utilization 0); the
// latencies are the row's means (the CPU model predicts no spread, so
// every percentile is the mean, which the notes say).
func CPUCandidate(r Request, row CPURow) (Candidate, error) {
	if r.Model == nil {
		return Candidate{}, fmt.Errorf("%w: no model", ErrInvalid)
	}
	cc := hardware.DefaultCPUs()
	vm, ok := cc.LookupVM(row.VM)
	if !ok {
		return Candidate{}, fmt.Errorf("%w: %q is not an Azure CPU size in the catalog", ErrInvalid, row.VM)
	}
	chip, err := cc.LookupCPU(vm.CPU)
	if err != nil {
		return Candidate{}, fmt.Errorf("CPU row %s: %w", row.VM, err)
	}
	prec, err := dtype.LookupPrecision(row.Precision)
	if err != nil {
		return Candidate{}, fmt.Errorf("%w: CPU row %s: %v", ErrInvalid, row.VM, err)
	}
	w, err := memory.EstimateWeights(r.Model, prec, 1, 1)
	if err != nil {
		return Candidate{}, fmt.Errorf("CPU row %s: %w", row.VM, err)
	}
	e, err := engine.Lookup("llamacpp")
	if err != nil {
		return Candidate{}, err
	}
	info := e.Info()
	comp := engine.Check(engine.Combination{Model: r.Model, Precision: prec, Target: engine.OnCPU(chip.HostArch()), Engine: e, TP: 1, PP: 1})
	if !comp.OK() {
		return Candidate{}, fmt.Errorf("%w: CPU row %s: %s", ErrInfeasible, row.VM, comp.Error())
	}
	ctx, slots := cpuLoad(r)
	bufs, err := engine.LlamaCPPBuffers(engine.LlamaCPPModelFromSpec(r.Model, int64(w.Total)), engine.LlamaCPPRequest{Context: ctx, Parallel: int64(slots)})
	if err != nil {
		return Candidate{}, fmt.Errorf("CPU row %s: %w", row.VM, err)
	}
	sched := e.Scheduler(engine.SchedulerInput{Concurrency: slots})
	region, kind := cpuPricing(r)
	hours := r.HoursPerDay
	if hours == 0 {
		hours = 24
	}
	mean := func(ms float64) Latency {
		return Latency{Latency: stats.Latency{Mean: ms, P50: ms, P90: ms, P95: ms, P99: ms}}
	}
	e2e := row.TTFTMs + float64(r.OutputTokens)*row.TPOTMs
	var rps float64
	if e2e > 0 {
		rps = float64(slots) / (e2e / 1000)
	}
	params := r.Model.Params()
	c := Candidate{
		SchemaVersion: SchemaVersion,
		Model:         ModelRef{ID: r.Model.ID, Source: r.Model.Source, Revision: r.Model.Revision, ParamsTotal: params.Total, ParamsActive: params.Active},
		Region:        region, VM: vm.Name, VMCount: 1,
		Replicas: 1, NodesPerReplica: 1, HostCPU: string(chip.HostArch()),
		Engine: Engine{
			Name: info.EngineName, Version: info.EngineVersion, Image: engine.OllamaImage,
			Precision: prec.Name, Checkpoint: "gguf", KVCacheDType: "f16",
			TP: 1, PP: 1, MaxModelLen: ctx, MaxNumBatchedTokens: sched.MaxTokens, MaxNumSeqs: slots,
			MicroBatchTokens: sched.MicroBatch, BlockSize: info.BlockSize,
		},
		Workload: Workload{InputTokens: int64(r.InputTokens), OutputTokens: int64(r.OutputTokens), Concurrency: int64(r.Concurrency),
			RPS: r.RPS, HoursPerDay: hours, TTFTSLOMs: r.TTFTSLOMs, TPOTSLOMs: r.TPOTSLOMs, CacheRate: r.CacheRate},
		Predictions: Predictions{
			TTFTMs: mean(row.TTFTMs), TPOTMs: mean(row.TPOTMs), ITLMs: mean(row.TPOTMs), E2EMs: mean(e2e),
			OutputTokensPerS: row.TokensPerS, RequestsPerS: rps, MaxConcurrency: int64(slots),
			// llama.cpp allocates the KV cache for context × slots at start.
			KVCacheTokens: bufs.KVCells,
		},
		Prices: Prices{Currency: "USD", Pricing: string(kind), USDPerHour: row.USDPerHour, USDPerMonth: row.USDPerMonth,
			USDPerMillionOutput: row.USDPerMOutput, PriceAsOf: row.PricesAsOf},
		WeightsBytes:  int64(w.Total),
		Compatibility: comp.Verdict,
		Reason: fmt.Sprintf("CPU row %d: llama.cpp (Ollama) on %s, %d cores, %s, %d slots of %d tokens; llama.cpp's buffers %.2f GiB",
			row.Rank, vm.Name, row.Cores, prec.Name, slots, ctx, row.NeedGiB),
		Notes: append([]string{
			"CPU rows predict mean latencies only: the percentiles repeat the mean",
			"e2e = TTFT + output tokens × TPOT; requests/s = slots / e2e",
		}, comp.Texts()...),
	}
	return c, nil
}
