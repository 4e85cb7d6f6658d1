package engine

import (
	"fmt"
	"strconv"

	"github.com/gpuplan/gpuplan/units"
)

// LlamaCPP is llama.cpp's llama-server. Unlike the paged engines it does
// not fill memory with a KV pool: it allocates the cache for the whole
// context of every parallel slot up front (F16 K and V by default), plus a
// compute buffer sized by its micro-batch and a fixed platform footprint.
// It captures no CUDA graphs into a reserve and has no memory-fraction
// knob.
type LlamaCPP struct {
	Profile
}

// llamacppOllama090 is named after the llama.cpp commit Ollama v0.9.0
// bundles (Makefile.sync FETCH_HEAD de4c07f).
var llamacppOllama090 = &LlamaCPP{Profile: Profile{
	EngineName: "llamacpp", EngineVersion: "de4c07f", DisplayName: "llama.cpp",
	Summary:            "llama.cpp llama-server at commit de4c07f (the build Ollama v0.9.0 bundles): GGUF files on CUDA, HIP or CPU",
	Source:             "llama.cpp common/common.h defaults (n_batch 2048, n_ubatch 512, n_parallel); KV for n_ctx × slots; gguf-parser-go file_estimate__llamacpp.go (compute buffer, 250 MiB platform footprint); Ollama v0.9.0 Makefile.sync",
	DefaultUtilization: 1.0,
	BlockSize:          1,
	GGUFBufferModel:    true,
	// llama.cpp docs/docker.md: server images per backend.
	Images: map[string]string{
		"nvidia/x86-64": "ghcr.io/ggml-org/llama.cpp:server-cuda",
		"amd/x86-64":    "ghcr.io/ggml-org/llama.cpp:server-rocm",
		"cpu/x86-64":    "ghcr.io/ggml-org/llama.cpp:server",
		"cpu/arm64":     "ghcr.io/ggml-org/llama.cpp:server",
	},
	ImageSource: "llama.cpp docs/docker.md (server, server-cuda, server-rocm images)",
	// tools/server/README.md: --port 8080 by default, GET /health, and
	// Prometheus /metrics with --metrics (llamacpp:requests_deferred).
	Endpoints: Endpoints{Port: 8080, Health: "/health", Metrics: "/metrics", QueueMetric: "llamacpp:requests_deferred"},
	Flags: SchedulerFlags{MaxSeqs: "parallel", MaxSeqsFlag: "--parallel",
		MaxTokens: "batch_size", MaxTokensFlag: "--batch-size",
		MicroBatch: "ubatch_size", MicroBatchFlag: "--ubatch-size"},
	Notes: []string{
		"llama.cpp allocates the KV cache for context × parallel slots at start-up; memory beyond it stays free (no KV pool fills it)",
		"llama.cpp compute buffer and platform footprint follow gguf-parser-go's estimator; exact buffer figures are not yet fitted on llama.cpp logs",
	},
}}

// llama.cpp common/common.h defaults.
const (
	llamacppBatch  = 2048
	llamacppUBatch = 512
)

// llamacppFootprint is gguf-parser-go's default non-UMA platform footprint
// of 250 MiB VRAM (its --platform-footprint "150,250").
const llamacppFootprint = 250 * units.MiB

// Scheduler: one slot per concurrent request (--parallel), logical batch
// 2048 and physical micro-batch 512 tokens.
func (e *LlamaCPP) Scheduler(in SchedulerInput) Scheduler {
	return Scheduler{MaxSeqs: max(in.Concurrency, 1), MaxTokens: llamacppBatch, MicroBatch: llamacppUBatch, Flags: e.Flags,
		Note: "llama.cpp: one slot per concurrent request (--parallel), --batch-size 2048, --ubatch-size 512 tokens per forward pass"}
}

// Account: weights + compute buffer + footprint + the KV cache for the
// requested context × slots, all allocated at start.
func (e *LlamaCPP) Account(in MemoryInput) MemoryAccount {
	a := MemoryAccount{
		Requested:       units.Bytes(float64(in.CUDAMemory) * in.Utilization),
		Activation:      llamacppCompute(in),
		OverheadLabel:   "platform footprint",
		ActivationLabel: "compute buffer",
		NonTorch:        llamacppFootprint,
	}
	a.NonKV = in.WeightsPerGPU + a.Activation + a.NonTorch
	a.KVPool = in.KVForRequest
	a.KVRoom = a.Requested - a.NonKV
	a.Notes = append(a.Notes,
		fmt.Sprintf("%s memory: weights + compute buffer (micro-batch %d tokens) + %s platform footprint + KV for %d slot(s) × context, allocated at start",
			e.ID(), in.Scheduler.StepTokens(), llamacppFootprint, max(in.Concurrency, 1)),
		"scheduler: "+in.Scheduler.Describe())
	a.Notes = append(a.Notes, e.Notes...)
	return a
}

// llamacppCompute estimates the compute buffer the way gguf-parser-go does
// for one micro-batch: layers run one after another, so the largest FFN's
// F32 gate, up and norm intermediates, plus the F32 output buffer of
// (hidden + vocab) per slot.
func llamacppCompute(in MemoryInput) units.Bytes {
	s := in.Model
	ubatch := float64(in.Scheduler.StepTokens())
	if ubatch <= 0 {
		ubatch = llamacppUBatch
	}
	ffn := 3 * MLPWidth(s) * ubatch * 4
	out := float64(s.Hidden+s.Vocab) * float64(max(in.Concurrency, 1)) * 4
	return units.Bytes(ffn + out)
}

// Serve is `llama-server` on a GGUF file (--model when a local path is
// given, else --hf-repo), every layer offloaded to the GPU.
func (e *LlamaCPP) Serve(c ServeConfig) (Command, error) {
	if err := errNoLayouts(&e.Profile, c); err != nil {
		return Command{}, err
	}
	args := []string{}
	if c.Served != "" {
		args = append(args, "--model", c.Served)
	} else {
		args = append(args, "--hf-repo", c.Model)
	}
	slots := max(c.Scheduler.MaxSeqs, 1)
	args = append(args, "--host", "0.0.0.0", "--port", strconv.Itoa(e.Endpoints.Port),
		// --ctx-size is the total over all slots.
		"--ctx-size", strconv.FormatInt(c.MaxModelLen*int64(slots), 10),
		"--parallel", strconv.Itoa(slots),
		"--n-gpu-layers", "999",
		"--metrics",
	)
	if c.Scheduler.MaxTokens > 0 {
		args = append(args, "--batch-size", strconv.Itoa(c.Scheduler.MaxTokens))
	}
	if c.Scheduler.MicroBatch > 0 {
		args = append(args, "--ubatch-size", strconv.Itoa(c.Scheduler.MicroBatch))
	}
	if c.TP > 1 {
		args = append(args, "--split-mode", "layer")
	}
	return Command{Command: []string{"/app/llama-server"}, Args: args}, nil
}
