package perf

import (
	"github.com/gpuplan/gpuplan/engine"
	"github.com/gpuplan/gpuplan/hardware"
)

// ReportSetup is the deployment Report and SimReport echo first: the
// model, the GPU and how many, the parallelism, the engine@version and the
// precision the engine resolved. Embedded, so its keys lead each report.
type ReportSetup struct {
	Model     string `json:"model"`
	GPU       string `json:"gpu"`
	GPUs      int    `json:"gpus"`
	TP        int    `json:"tp"`
	PP        int    `json:"pp"`
	Engine    string `json:"engine"`
	Precision string `json:"precision"`
}

// Report is what `gpuplan perf` prints with -o json or -o yaml, and what
// the API's /api/v1/perf answers: the setup echoed and one Estimate per
// load level, with the cold start when asked for.
type Report struct {
	ReportSetup
	// VM is the size named by --vm; EP, DPAttention and Speculative echo
	// the MoE layout and speculative decoding.
	VM           string             `json:"vm,omitempty"`
	EP           int                `json:"ep,omitempty"`
	DPAttention  bool               `json:"dp_attention,omitempty"`
	Speculative  *Speculative       `json:"speculative,omitempty"`
	KVDType      string             `json:"kv_dtype"`
	InputTokens  int                `json:"input_tokens"`
	OutputTokens int                `json:"output_tokens"`
	CacheRate    float64            `json:"cache_rate,omitempty"`
	Calibrated   bool               `json:"calibrated"`
	Rows         []Estimate         `json:"rows"`
	ColdStart    *ColdStartEstimate `json:"cold_start,omitempty"`
	Notes        []string           `json:"notes,omitempty"`
}

// SimReport is what `gpuplan perf --simulate` prints with -o json or -o
// yaml: the setup echoed and one simulation result per load level.
type SimReport struct {
	ReportSetup
	InputTokens  int         `json:"input_tokens"`
	OutputTokens int         `json:"output_tokens"`
	CacheRate    float64     `json:"cache_rate"`
	Calibrated   bool        `json:"calibrated"`
	SLO          SLO         `json:"slo"`
	Rows         []SimResult `json:"rows"`
	Notes        []string    `json:"notes,omitempty"`
}

// CPUHost is a resolved CPU target (an Azure CPU VM size, a chip with a
// core count, or a probed host): the CPU, its memory bandwidth and its
// speed figures.
type CPUHost struct {
	Name      string             `json:"name"`
	CPU       hardware.CPU       `json:"cpu"`
	Cores     int                `json:"cores"`
	MemoryGiB float64            `json:"memory_gib,omitempty"`
	Bandwidth hardware.Bandwidth `json:"bandwidth"`
	Speed     CPUSpeed           `json:"speed"`
}

// CPUReport is what `gpuplan perf MODEL --vm CPU-SIZE` (or --cpu) prints
// with -o json or -o yaml: llama.cpp's speed per concurrency level.
type CPUReport struct {
	Model        string         `json:"model"`
	Precision    string         `json:"precision"`
	WeightBytes  int64          `json:"weight_bytes"`
	Params       int64          `json:"params"`
	KVPerToken   int64          `json:"kv_bytes_per_token"`
	InputTokens  int            `json:"input_tokens"`
	OutputTokens int            `json:"output_tokens"`
	Host         CPUHost        `json:"host"`
	Rows         []CPUReportRow `json:"rows"`
	Fits         bool           `json:"fits"`
	Notes        []string       `json:"notes,omitempty"`
	Assumptions  []string       `json:"assumptions"`
}

// CPUReportRow is one load level of a CPUReport.
type CPUReportRow struct {
	Concurrency int `json:"concurrency"`
	CPUEstimate
}

// LlamaCPPSizeReport is what `gpuplan size MODEL --engine llamacpp` (or a
// CPU --vm/--cpu) prints with -o json or -o yaml: llama.cpp's own four
// buffers, as its start-up log prints them, and whether they fit the host.
type LlamaCPPSizeReport struct {
	Model       string `json:"model"`
	Context     int64  `json:"context"`
	Concurrency int64  `json:"concurrency"`
	FlashAttn   bool   `json:"flash_attention"`
	// Exact is true for a GGUF file (the tensors are read); false for a
	// model known by its architecture (one block of weights at
	// --precision, llama's compute graph).
	Exact bool `json:"exact"`
	engine.LlamaCPPBuffersResult
	// Host is the CPU VM or chip (--vm/--cpu) and Fits whether the
	// buffers fit its memory.
	Host *CPUHost `json:"host,omitempty"`
	Fits *bool    `json:"fits,omitempty"`
}
