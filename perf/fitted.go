package perf

// The factors below are Fit's output on the embedded points: the
// TensorRT-LLM v0.17 maximum-throughput rows (data/trtllm-0.17-max-
// throughput.json, 230 rows on H100 SXM, A100 SXM4 80GB and L40S), the
// vLLM 0.15.1 online-serving stages on H100 (data/vllm-0.15.1-h100-
// serving.json, 20 stages that kept up of 24) and the SGLang 0.4 online
// stages on H200 (data/sglang-0.4-h200-serving.json, 7 that kept up of
// 9). Each engine version is fitted on its own points. TestFittedFactorsAreCurrent refits them and
// fails when they drift; it prints the literal to paste.
// What each one means (docs/perf.md, "Factors"):
//
//   - BandwidthEfficiency, ComputeEfficiency: the fraction of the chip's
//     hardware-achievable memory bandwidth (datasheet × measured copy
//     fraction) and dense matmul rate (datasheet × measured MAMF fraction
//     for the compute type) that TensorRT-LLM's kernels reach, per GPU;
//   - StepOverheadMS: fixed cost of one engine iteration (scheduling,
//     launches, synchronisation), settled by fitStart's prior because the
//     tables run large batches;
//   - SeqOverheadUS: cost per sequence per iteration (sampling and request
//     bookkeeping) that no roofline term covers;
//   - MoEEfficiency: the fused-MoE kernels' rate relative to dense GEMMs;
//   - MoEPrefillEfficiency: a further factor on prompt tokens' expert math
//     (grouped GEMMs over tokens × top_k ÷ experts rows each); absent, so
//     neutral, for every engine here: none has MoE TTFT from computed
//     prompts (TensorRT-LLM's tables are throughput only, the vLLM Mixtral
//     runs' prompts are 98.6–99.3% prefix-cache hits, SGLang's are dense);
//   - Links: all-reduce efficiency of the one-way link bandwidth for
//     prompt-token messages (large) and decode-token messages (a few MB),
//     plus a fixed 10 µs per call (aiconfigurator's p2p_latency, not fitted);
//   - RequestOverheadMS (vLLM): the fixed cost of a request outside the
//     iterations (HTTP, tokenization, detokenization, streaming), about
//     5 ms; FirstTokenIterations (vLLM): iterations between arrival and
//     the first token beyond the request's own prefill (waiting for the
//     next iteration boundary, then the API-server process receiving the
//     engine core's output one iteration later), about 1.7; PeerLatencyUS
//     (vLLM): the extra cost of each all-reduce per peer GPU, which makes
//     light-load decode slower at TP 4 than at TP 2 for the same work;
//     all three are only visible in online measurements, so the
//     TensorRT-LLM tables leave them 0. vLLM's compute efficiency and
//     prompt-token link efficiency stay at the fit's starting values (0.8,
//     0.5): the runs' prompts come from the prefix cache, so no large
//     prefill constrains them;
//   - SGLang 0.4: its public stages (two Llama models on H200, mean E2E
//     only) constrain two constants, the H200 bandwidth efficiency (0.88,
//     the decode rate at light load) and compute efficiency (0.58, the
//     Llama-3.3-70B capacity near 8 req/s); every other SGLang factor
//     stays at the fit's starting value, which the prior keeps when no
//     point moves it (1 ms per iteration, 1 µs per sequence, 5 ms per
//     request, first token one iteration after the prefill, MoE kernels at
//     the dense rate — vLLM, with the same kind of Triton fused-MoE
//     kernels, fitted 0.97; nvlink all-reduce at 0.51/0.20 of the link
//     plus 4.9 µs per peer). On other GPUs SGLang borrows the GPU factors
//     of another engine (factors.go, resolve) and stays "uncalibrated";
//   - BandLow/BandHigh: 10th–90th (per GPU) and 5th–95th (engine)
//     percentiles of measured ÷ predicted on the fit set: the error band.

var fittedGPUFactors = []GPUFactors{
	{GPU: "h200", Engine: "sglang", EngineVersion: "0.4", BandwidthEfficiency: 0.88, ComputeEfficiency: 0.58,
		BandLow: 0.87, BandHigh: 1.1, Points: 7, MedianAbsErrorPct: 7.5},
	{GPU: "a100-80gb-sxm", Engine: "trtllm", EngineVersion: "0.17", BandwidthEfficiency: 0.81, ComputeEfficiency: 0.76,
		BandLow: 0.86, BandHigh: 1.1, Points: 79, MedianAbsErrorPct: 6.0},
	{GPU: "h100-sxm", Engine: "trtllm", EngineVersion: "0.17", BandwidthEfficiency: 0.88, ComputeEfficiency: 0.81,
		BandLow: 0.88, BandHigh: 1.1, Points: 97, MedianAbsErrorPct: 5.5},
	{GPU: "l40s", Engine: "trtllm", EngineVersion: "0.17", BandwidthEfficiency: 0.84, ComputeEfficiency: 0.61,
		BandLow: 0.95, BandHigh: 1.05, Points: 54, MedianAbsErrorPct: 2.3},
	{GPU: "h100-sxm", Engine: "vllm", EngineVersion: "0.15.1", BandwidthEfficiency: 1, ComputeEfficiency: 0.8,
		BandLow: 0.95, BandHigh: 1.1, Points: 20, MedianAbsErrorPct: 3.3},
}

var fittedEngineFactors = []EngineFactors{
	{Engine: "sglang", EngineVersion: "0.4", StepOverheadMS: 1, SeqOverheadUS: 1, MoEEfficiency: 1, RequestOverheadMS: 5, FirstTokenIterations: 1,
		Links: map[string]LinkFactors{
			"nvlink": {Efficiency: 0.51, DecodeEfficiency: 0.2, AllReduceLatencyUS: 10, PeerLatencyUS: 4.9},
		},
		BandLow: 0.84, BandHigh: 1.1, Points: 7},
	{Engine: "trtllm", EngineVersion: "0.17", StepOverheadMS: 1.2, SeqOverheadUS: 1.1, MoEEfficiency: 0.75,
		Links: map[string]LinkFactors{
			"nvlink": {Efficiency: 0.54, DecodeEfficiency: 0.26, AllReduceLatencyUS: 10},
			"pcie":   {Efficiency: 0.53, DecodeEfficiency: 0.43, AllReduceLatencyUS: 10},
		},
		BandLow: 0.84, BandHigh: 1.2, Points: 230},
	{Engine: "vllm", EngineVersion: "0.15.1", StepOverheadMS: 1.8, SeqOverheadUS: 1, MoEEfficiency: 0.97, RequestOverheadMS: 5.3, FirstTokenIterations: 1.7,
		Links: map[string]LinkFactors{
			"nvlink": {Efficiency: 0.5, DecodeEfficiency: 0.25, AllReduceLatencyUS: 10, PeerLatencyUS: 3.8},
		},
		BandLow: 0.95, BandHigh: 1.1, Points: 20},
}
