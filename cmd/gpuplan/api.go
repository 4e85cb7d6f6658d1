package main

import (
	"reflect"

	"github.com/gpuplan/gpuplan/cost"
	"github.com/gpuplan/gpuplan/cost/guide"
	"github.com/gpuplan/gpuplan/hardware"
	"github.com/gpuplan/gpuplan/memory"
	"github.com/gpuplan/gpuplan/model"
	"github.com/gpuplan/gpuplan/perf"
	"github.com/gpuplan/gpuplan/plan"
)

// apiExposure is the HTTP API's decision about one flag: a request
// parameter, or never settable by a client and why.
type apiExposure int

const (
	// apiParam: the flag is a request parameter (snake_case name).
	apiParam apiExposure = iota + 1
	// apiFormat: the output format; the API always answers JSON.
	apiFormat
	// apiLocalFile: the flag reads or writes a file on the machine that
	// runs the command; a client must never choose a server path.
	apiLocalFile
	// apiLocalInput: the flag only applies to an input the API refuses (a
	// local GGUF file), so a parameter would be dead or misleading.
	apiLocalInput
)

// apiFlags declares, per flag name, whether the HTTP API exposes the flag
// of a served command. One name means one thing across commands (--context
// is always the context length, --calibration always a file), so the table
// is keyed by the name. A flag that is not in the table is not served, and
// TestAPIFlagDecisions fails until it is added here: a new flag is never
// exposed by accident, nor hidden without a decision.
var apiFlags = map[string]apiExposure{
	"output": apiFormat,

	// Files and paths on the server: read (calibration points, traces) or
	// written (plans, plots). docs/security.md, "What it resolves".
	"calibration": apiLocalFile,
	"plot":        apiLocalFile,
	"trace":       apiLocalFile,
	"save":        apiLocalFile,
	"pick":        apiLocalFile, // chooses the row --save writes
	"pick-cpu":    apiLocalFile, // chooses the CPU row --save writes
	// llama.cpp's --flash-attn matters only for a GGUF file given by path.
	"flash-attn": apiLocalInput,

	// Model and serving.
	"precision": apiParam, "kv-dtype": apiParam, "engine": apiParam, "context": apiParam,
	"concurrency": apiParam, "gpu-memory-utilization": apiParam, "max-num-seqs": apiParam,
	"max-num-batched-tokens": apiParam, "table": apiParam,
	"speculative": apiParam, "spec-tokens": apiParam, "acceptance-rate": apiParam,
	// Hardware and parallelism.
	"gpu": apiParam, "gpu-memory": apiParam, "vm": apiParam, "cpu": apiParam, "cores": apiParam,
	"tp": apiParam, "pp": apiParam, "ep": apiParam, "dp-attention": apiParam,
	"vendor": apiParam, "region": apiParam, "currency": apiParam, "image-arch": apiParam,
	// Workload and targets.
	"input-tokens": apiParam, "output-tokens": apiParam, "input-tokens-stddev": apiParam,
	"output-tokens-stddev": apiParam, "length-distribution": apiParam, "cache-rate": apiParam,
	"rps": apiParam, "rpm": apiParam, "avg-rpm": apiParam, "arrival": apiParam, "requests": apiParam,
	"seed": apiParam, "simulate": apiParam, "think-time-ms": apiParam, "think-time-s": apiParam,
	"load-from": apiParam, "load-throughput": apiParam,
	"ttft-slo-ms": apiParam, "tpot-slo-ms": apiParam, "e2e-slo-ms": apiParam,
	"slo-percentile": apiParam, "slo-confidence": apiParam,
	// Plan and cost.
	"budget-usd-month": apiParam, "deployment": apiParam, "hours-per-day": apiParam, "managed": apiParam,
	"objective": apiParam, "pricing": apiParam, "target": apiParam, "top": apiParam,
}

// apiExposed reports whether a served command's flag is a request
// parameter.
func apiExposed(flag string) bool { return apiFlags[flag] == apiParam }

// apiOutputs are the Go types each served command prints with -o json, one
// per shape; the OpenAPI document's answers are generated from them
// (server/schema.go). TestAPIOutputSchemas runs the commands and checks
// that the keys they print and the keys of these types are the same.
var apiOutputs = map[string][]reflect.Type{
	"models": {reflect.TypeFor[model.CatalogListing]()},
	// size: the memory budget; --table the quick rule; llama.cpp targets
	// (--engine llamacpp, a CPU --vm or --cpu) llama.cpp's own buffers.
	"size":   {reflect.TypeFor[memory.Budget](), reflect.TypeFor[memory.QuickRuleTable](), reflect.TypeFor[perf.LlamaCPPSizeReport]()},
	"gpus":   {reflect.TypeFor[hardware.GPUsReport](), reflect.TypeFor[hardware.GPUDetailReport]()},
	"prices": {reflect.TypeFor[hardware.PricesReport]()},
	"plan":   {reflect.TypeFor[plan.Report]()},
	"ptu":    {reflect.TypeFor[cost.PTUReport]()},
	"guide":  {reflect.TypeFor[guide.Guide]()},
	// perf: the steady-state model; --simulate; CPU targets.
	"perf": {reflect.TypeFor[perf.Report](), reflect.TypeFor[perf.SimReport](), reflect.TypeFor[perf.CPUReport]()},
}
