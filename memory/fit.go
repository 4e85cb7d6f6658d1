package memory

import (
	"math"

	"github.com/gpuplan/gpuplan/engine"
	"github.com/gpuplan/gpuplan/stats"
	"github.com/gpuplan/gpuplan/units"
)

// Startup is what a vLLM start-up log says about memory (rank 0).
type Startup struct {
	Weights    units.Bytes `json:"weights_bytes"`
	Activation units.Bytes `json:"activation_bytes"`
	NonTorch   units.Bytes `json:"non_torch_bytes"`
	CUDAGraphs units.Bytes `json:"cuda_graphs_bytes"`
	KVPool     units.Bytes `json:"kv_pool_bytes"`
	KVTokens   int64       `json:"kv_cache_tokens"`
	Blocks     int64       `json:"num_gpu_blocks"`
}

// Observation pairs a sizing request with the start-up it produced.
type Observation struct {
	Name     string
	Request  Request
	Measured Startup
}

// FitVLLM fits the vLLM profile's constants on observations, starting from
// base (whose values seed the split between sampler- and forward-dominated
// runs). Each constant is a median over the observations it governs, so one
// odd log cannot drag it:
//   - non-torch memory and CUDA-graph memory: medians per TP degree (PP = 1);
//   - SamplerBytesPerLogit: over runs whose sampler warm-up is the peak,
//     (activation − final hidden states) ÷ (sequences × vocabulary) minus the
//     logits' own element size;
//   - ForwardActivationFactor: over runs whose forward pass is the peak,
//     activation ÷ the forward live set.
//
// Results are rounded to the precision they are quoted with (0.01 GiB, 0.1
// byte, 0.01).
func FitVLLM(obs []Observation, base engine.VLLMConstants) engine.VLLMConstants {
	c := base
	nonTorch, graphs := map[int][]float64{}, map[int][]float64{}
	for _, o := range obs {
		if o.Request.PP > 1 {
			continue
		}
		tp := max(o.Request.TP, 1)
		if o.Measured.NonTorch > 0 {
			nonTorch[tp] = append(nonTorch[tp], o.Measured.NonTorch.GiB())
		}
		if o.Measured.CUDAGraphs > 0 {
			graphs[tp] = append(graphs[tp], o.Measured.CUDAGraphs.GiB())
		}
	}
	c.NonTorchByTP = medianByTP(nonTorch)
	c.CUDAGraphByTP = medianByTP(graphs)

	for iter := 0; iter < 4; iter++ {
		var samplerFits, forwardFits []float64
		for _, o := range obs {
			r := o.Request
			if r.PP > 1 || o.Measured.Activation <= 0 || r.Model == nil {
				continue
			}
			prec, err := resolvePrecision(r.Model, r.Precision)
			if err != nil {
				continue
			}
			seqs, tokens := engine.VLLMBatchDefaults(r.GPU.CUDAMemory, r.GPU.ID)
			if r.Scheduler.MaxTokens > 0 {
				tokens = r.Scheduler.MaxTokens
			}
			if r.Scheduler.MaxSeqs > 0 {
				seqs = r.Scheduler.MaxSeqs
			}
			t := engine.ProfileRunTerms(r.Model, unquantizedDType(r.Model, prec).Bits()/8, tokens, seqs, max(r.TP, 1))
			act, hidden, logits, forwardLive := t.ActBytes, t.Hidden, t.Logits, t.ForwardLive
			sampler := hidden + logits*(act+c.SamplerBytesPerLogit)
			forward := forwardLive * c.ForwardActivationFactor
			m := float64(o.Measured.Activation)
			if sampler >= forward {
				samplerFits = append(samplerFits, (m-hidden)/logits-act)
			} else {
				forwardFits = append(forwardFits, m/forwardLive)
			}
		}
		if len(samplerFits) > 0 {
			c.SamplerBytesPerLogit = math.Round(stats.Median(samplerFits)*10) / 10
		}
		if len(forwardFits) > 0 {
			c.ForwardActivationFactor = math.Round(stats.Median(forwardFits)*100) / 100
		}
	}
	return c
}

func medianByTP(m map[int][]float64) map[int]units.Bytes {
	out := map[int]units.Bytes{}
	for tp, xs := range m {
		out[tp] = units.FromGiB(math.Round(stats.Median(xs)*100) / 100)
	}
	return out
}
