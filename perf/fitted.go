package perf

// fittedGPUFactors and fittedEngineFactors are Fit's output on the embedded
// TensorRT-LLM v0.17 points (data/trtllm-0.17-max-throughput.json);
// TestFittedFactorsAreCurrent refits them and fails when they drift.
var fittedGPUFactors = []GPUFactors{
	{GPU: "a100-80gb-sxm", Engine: "trtllm", EngineVersion: "0.17", BandwidthEfficiency: 0.8, ComputeEfficiency: 0.7},
	{GPU: "h100-sxm", Engine: "trtllm", EngineVersion: "0.17", BandwidthEfficiency: 0.8, ComputeEfficiency: 0.7},
	{GPU: "l40s", Engine: "trtllm", EngineVersion: "0.17", BandwidthEfficiency: 0.8, ComputeEfficiency: 0.7},
}

var fittedEngineFactors = []EngineFactors{
	{Engine: "trtllm", EngineVersion: "0.17", StepOverheadMS: 1,
		Links: map[string]LinkFactors{"nvlink": {Efficiency: 0.7, DecodeEfficiency: 0.1, AllReduceLatencyUS: 10}, "pcie": {Efficiency: 0.5, DecodeEfficiency: 0.3, AllReduceLatencyUS: 10}}},
}
