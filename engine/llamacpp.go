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

// OllamaImage is the Ollama release whose bundled llama.cpp (de4c07f) this
// profile's memory rules model; deploy runs it on Azure CPU sizes. The
// image is multi-arch (amd64 and arm64): Docker Hub ollama/ollama, tag
// 0.9.0 (https://hub.docker.com/r/ollama/ollama/tags).
const OllamaImage = "docker.io/ollama/ollama:0.9.0"

// llamacppOllama090 is named after the llama.cpp commit Ollama v0.9.0
// bundles (Makefile.sync FETCH_HEAD de4c07f).
var llamacppOllama090 = &LlamaCPP{Profile: withImages(Profile{
	EngineName: "llamacpp", EngineVersion: "de4c07f", DisplayName: "llama.cpp",
	Summary: "llama.cpp llama-server at commit de4c07f (the build Ollama v0.9.0 bundles): GGUF files on CUDA, HIP or CPU",
	Source: "https://github.com/ggml-org/llama.cpp/blob/de4c07f/common/common.h (defaults n_batch 2048, n_ubatch 512, n_parallel); " +
		"engine/llamacpp_buffers.go (buffers per llama.cpp de4c07f: KV for n_ctx × slots padded to 32 cells, compute buffer by replaying ggml-alloc.c, checked against Ollama v0.9.0 CPU logs); " +
		"https://github.com/gpustack/gguf-parser-go/blob/8dc7a622149dd1e477c86778fc1123fc1c0a316a/file_estimate__llamacpp.go (250 MiB CUDA platform footprint, assumed); " +
		"https://github.com/ollama/ollama/blob/v0.9.0/Makefile.sync (the llama.cpp commit Ollama v0.9.0 bundles)",
	DefaultUtilization: 1.0,
	BlockSize:          1,
	GGUFBufferModel:    true,
	// tools/server/README.md: --port 8080 by default, GET /health, and
	// Prometheus /metrics with --metrics (llamacpp:requests_deferred).
	Endpoints: Endpoints{Port: 8080, Health: "/health", Metrics: "/metrics", QueueMetric: "llamacpp:requests_deferred"},
	Flags: SchedulerFlags{MaxSeqs: "parallel", MaxSeqsFlag: "--parallel",
		MaxTokens: "batch_size", MaxTokensFlag: "--batch-size",
		MicroBatch: "ubatch_size", MicroBatchFlag: "--ubatch-size"},
	Notes: []string{
		"llama.cpp allocates the KV cache for context × parallel slots at start-up; memory beyond it stays free (no KV pool fills it)",
		"llama.cpp buffers (model, KV, compute, output) follow llama.cpp's own rules, checked against Ollama v0.9.0 logs on the CPU backend",
	},
})}

// llama.cpp common/common.h defaults.
const (
	llamacppBatch  = 2048
	llamacppUBatch = 512
)

// llamacppFootprint is the CUDA context and driver memory outside
// llama.cpp's buffers. It is not in any buffer llama.cpp logs, so the
// exact rules cannot give it; this is gguf-parser-go's default non-UMA
// platform footprint of 250 MiB VRAM (its --platform-footprint "150,250"),
// an assumption, not a measurement.
const llamacppFootprint = 250 * units.MiB

// Scheduler: one slot per concurrent request (--parallel), logical batch
// 2048 and physical micro-batch 512 tokens.
func (e *LlamaCPP) Scheduler(in SchedulerInput) Scheduler {
	return Scheduler{MaxSeqs: max(in.Concurrency, 1), MaxTokens: llamacppBatch, MicroBatch: llamacppUBatch, Flags: e.Flags,
		Note: "llama.cpp: one slot per concurrent request (--parallel), --batch-size 2048, --ubatch-size 512 tokens per forward pass"}
}

// Account is llama.cpp's own buffer accounting (LlamaCPPBuffers, the one
// llama.cpp memory model; the CPU backend's buffers match Ollama v0.9.0's
// logs) on a GPU: the model buffer (weights), the KV buffer for n_ctx =
// context × slots padded to 32 cells, and the compute buffer from
// replaying ggml's allocator over the reserve graph, all allocated at
// start, plus the assumed CUDA context footprint. On CUDA the same rules
// produce "CUDA0 model/KV/compute buffer"; the output buffer is a
// CUDA_Host (pinned system memory) buffer, so it is not counted in VRAM.
// With --split-mode layer the layers, and so the model and KV buffers,
// are divided over the GPUs; each GPU keeps a whole compute buffer.
func (e *LlamaCPP) Account(in MemoryInput) MemoryAccount {
	a := MemoryAccount{
		Requested:       units.Bytes(float64(in.CUDAMemory) * in.Utilization),
		OverheadLabel:   "CUDA context (assumed)",
		ActivationLabel: "compute buffer",
		NonTorch:        llamacppFootprint,
		KVPool:          in.KVForRequest,
	}
	gpus := int64(max(in.TP, 1) * max(in.PP, 1))
	slots := max(in.Concurrency, 1)
	req := LlamaCPPRequest{Context: max(in.Context, 1), Parallel: slots,
		Batch: int64(in.Scheduler.MaxTokens), UBatch: int64(in.Scheduler.MicroBatch)}
	bufs, err := LlamaCPPBuffers(LlamaCPPModelFromSpec(in.Model, int64(in.WeightsPerGPU)*gpus), req)
	if err == nil {
		a.Activation = bufs.Compute
		a.KVPool = bufs.KV / units.Bytes(gpus)
		a.Notes = append(a.Notes,
			fmt.Sprintf("%s memory: llama.cpp's buffer rules: weights + F16 KV for %d cells (context %d × %d slot(s), padded to 32) + compute buffer for a %d-token micro-batch (ggml allocator replay) + %s assumed CUDA context; output buffer (%s) is CUDA_Host memory, not VRAM",
				e.ID(), bufs.KVCells, req.Context, slots, bufs.MicroBatch, llamacppFootprint, bufs.Output),
			"llama.cpp buffers are measured on the CPU backend (Ollama v0.9.0 logs, within 0.01 MiB); CUDA buffers are assumed to follow the same rules (not measured on a GPU), and the CUDA context footprint is gguf-parser-go's 250 MiB default")
	} else {
		a.Notes = append(a.Notes, fmt.Sprintf("%s memory: llama.cpp buffer rules failed (%v); KV is the requested context × slots, compute buffer not counted", e.ID(), err))
	}
	a.NonKV = in.WeightsPerGPU + a.Activation + a.NonTorch
	a.KVRoom = a.Requested - a.NonKV
	a.Notes = append(a.Notes, "scheduler: "+in.Scheduler.Describe())
	a.Notes = append(a.Notes, e.Notes...)
	return a
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
