package main

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/pflag"

	"github.com/gpuplan/gpuplan/dtype"
	"github.com/gpuplan/gpuplan/engine"
	"github.com/gpuplan/gpuplan/hardware"
	"github.com/gpuplan/gpuplan/perf"
	"github.com/gpuplan/gpuplan/units"
)

// Flag groups: the flags that size, perf, plan and deploy share, each
// registered by one register method and turned into domain values by one
// resolve method, so a flag is parsed the same way everywhere. Numeric
// ranges are checked before any command runs (flagcheck.go); enum values
// when they are set (enumflag.go). Help text may differ per command (what
// "default" means differs), so register takes it.

// modelFlags are the serving format of the model: --precision and
// --kv-dtype.
type modelFlags struct {
	precision, kvDType enumFlag
}

// modelHelp is a command's help for the model flags. A command whose
// --precision takes a list (plan) sets precisionList and its default.
type modelHelp struct {
	precision, kvDType string
	precisionList      bool
	precisionDefault   string
}

// Precision keywords of a list-valued --precision (plan).
const (
	precisionAuto = "auto" // the checkpoint's own and fp8 quantized at load
	precisionAny  = "any"  // every precision, quantized checkpoints too
)

func (f *modelFlags) register(fs *pflag.FlagSet, h modelHelp) {
	if h.precisionList {
		f.precision.list, f.precision.extra = true, []string{precisionAuto, precisionAny}
	}
	addEnumFlag(fs, &f.precision, precisionEnum, "precision", h.precisionDefault, h.precision)
	addEnumFlag(fs, &f.kvDType, kvDTypeEnum, "kv-dtype", string(dtype.KVAuto), h.kvDType)
}

// servingFormat is what the model flags resolve to.
type servingFormat struct {
	// Precision is the one precision asked for; nil means the
	// checkpoint's own. Set by a single-valued --precision.
	Precision *dtype.Precision
	// Precisions, AllPrecisions: a list-valued --precision (nil and
	// false for auto).
	Precisions    []dtype.Precision
	AllPrecisions bool
	KVDType       dtype.KVDType
}

// resolve reads the model flags (their values were checked when set; the
// errors here are for values set without the flag parser).
func (f *modelFlags) resolve() (servingFormat, error) {
	var s servingFormat
	v := strings.TrimSpace(f.precision.value)
	switch {
	case v == "":
	case f.precision.list && strings.EqualFold(v, precisionAuto):
	case f.precision.list && strings.EqualFold(v, precisionAny):
		s.AllPrecisions = true
	default:
		items := []string{v}
		if f.precision.list {
			items = strings.Split(v, ",")
		}
		for _, name := range items {
			p, err := dtype.LookupPrecision(name)
			if err != nil {
				return s, usageErrf("--precision: %v", err)
			}
			s.Precisions = append(s.Precisions, p)
		}
		if !f.precision.list {
			s.Precision, s.Precisions = &s.Precisions[0], nil
		}
	}
	var err error
	if s.KVDType, err = dtype.ParseKVDType(f.kvDType.value); err != nil {
		return s, usageErrf("--kv-dtype: %v", err)
	}
	return s, nil
}

// engineFlags are the engine and its scheduler knobs: --engine,
// --max-num-seqs, --max-num-batched-tokens.
type engineFlags struct {
	name                            enumFlag
	maxNumSeqs, maxNumBatchedTokens int
}

// engineHelp is a command's help for the scheduler knobs; empty: the
// command has --engine only (guide).
type engineHelp struct {
	maxNumSeqs, maxNumBatchedTokens string
}

// Scheduler-knob help of the commands that predict speed (perf, plan,
// deploy).
var schedHelp = engineHelp{
	maxNumSeqs:          "most sequences per engine iteration (vLLM --max-num-seqs, SGLang --max-running-requests, TensorRT-LLM max_batch_size; default: the engine's)",
	maxNumBatchedTokens: "token budget per engine iteration (vLLM --max-num-batched-tokens, SGLang --chunked-prefill-size, TensorRT-LLM max_num_tokens; default: the engine's)",
}

func (f *engineFlags) register(fs *pflag.FlagSet, h engineHelp) {
	addEngineFlag(fs, &f.name)
	if h.maxNumSeqs != "" {
		fs.IntVar(&f.maxNumSeqs, "max-num-seqs", 0, h.maxNumSeqs)
	}
	if h.maxNumBatchedTokens != "" {
		fs.IntVar(&f.maxNumBatchedTokens, "max-num-batched-tokens", 0, h.maxNumBatchedTokens)
	}
}

// resolve is the engine profile --engine names (the default profile when
// it is empty).
func (f *engineFlags) resolve() (engine.Engine, error) {
	e, err := engine.Lookup(f.name.value)
	if err != nil {
		return nil, usageErrf("--engine: %v", err)
	}
	return e, nil
}

// scheduler is the knobs as the engine package takes them (0: the
// engine's rule).
func (f *engineFlags) scheduler() engine.Scheduler {
	return engine.Scheduler{MaxTokens: f.maxNumBatchedTokens, MaxSeqs: f.maxNumSeqs}
}

// workloadFlags are the request shape and load: --input-tokens,
// --output-tokens, --concurrency and --rps (plan, deploy; perf takes
// lists of loads, see parseLoads) and --cache-rate.
type workloadFlags struct {
	input, output int
	concurrency   int
	rps           float64
	cacheRate     float64
}

// workloadHelp is a command's help for the workload flags; empty
// concurrency/rps: the command registers its own.
type workloadHelp struct {
	input, output, concurrency, rps string
}

// requiredShapeHelp is the request-shape help of perf and plan, which
// need it.
var requiredShapeHelp = workloadHelp{input: "prompt tokens per request (required)", output: "completion tokens per request (required)"}

func (f *workloadFlags) register(fs *pflag.FlagSet, h workloadHelp) {
	fs.IntVar(&f.input, "input-tokens", 0, h.input)
	fs.IntVar(&f.output, "output-tokens", 0, h.output)
	if h.concurrency != "" {
		fs.IntVar(&f.concurrency, "concurrency", 0, h.concurrency)
	}
	if h.rps != "" {
		fs.Float64Var(&f.rps, "rps", 0, h.rps)
	}
	fs.Float64Var(&f.cacheRate, "cache-rate", 0, "fraction of prompt tokens served from the prefix cache, 0 to below 1 (as in ptu)")
}

// loadRule says how a command takes --concurrency and --rps.
type loadRule int

const (
	// loadElsewhere: the command reads its loads itself (perf's lists).
	loadElsewhere loadRule = iota
	// loadExactlyOne: one of --concurrency and --rps is required (plan).
	loadExactlyOne
	// loadAtMostOne: neither is a load the command defaults (deploy).
	loadAtMostOne
)

// resolve checks the request shape (missing is the command's message
// when a length is not given: 0 means not given, negative values never
// get past flagcheck) and the load against rule, and returns them as a
// workload.
func (f *workloadFlags) resolve(missing string, rule loadRule) (perf.Workload, error) {
	w := perf.Workload{InputTokens: f.input, OutputTokens: f.output, CacheRate: f.cacheRate}
	if f.input < 1 || f.output < 1 {
		return w, usageErrf("%s", missing)
	}
	if rule == loadElsewhere {
		return w, nil
	}
	w.Concurrency, w.RPS = f.concurrency, f.rps
	switch {
	case rule == loadExactlyOne && (w.Concurrency > 0) == (w.RPS > 0):
		return w, usageErrf("give exactly one of --concurrency and --rps")
	case rule == loadAtMostOne && w.Concurrency > 0 && w.RPS > 0:
		return w, usageErrf("give at most one of --concurrency and --rps")
	}
	return w, nil
}

// hardwareFlags are the GPU a single deployment runs on and the CPU
// target flags: --gpu, --gpu-memory, --vm, --cpu, --cores (size, perf).
type hardwareFlags struct {
	gpu       enumFlag
	gpuMemory string
	cpuFlags
}

func (f *hardwareFlags) register(fs *pflag.FlagSet) {
	f.cpuFlags.register(fs)
	addEnumFlag(fs, &f.gpu, gpuEnum, "gpu", "", "GPU id (see 'gpuplan gpus'; default "+defaultGPU+")")
	fs.StringVar(&f.gpuMemory, "gpu-memory", "", "CUDA-visible memory per GPU, e.g. 79.19GiB (overrides --gpu's figure)")
}

// gpuTarget is what the hardware flags resolve to.
type gpuTarget struct {
	// Chip is the catalog GPU (nil when only --gpu-memory was given to a
	// command that allows it) with CUDAMemory replaced by --gpu-memory.
	Chip *hardware.GPU
	// CUDAMemory is the memory sized against.
	CUDAMemory units.Bytes
	Notes      []string
}

// resolve looks up --gpu in hc (defaultGPU when neither --gpu nor, with
// memoryAlone, --gpu-memory is given; verb says what the default was used
// for: "sized", "predicted") and applies --gpu-memory.
func (f *hardwareFlags) resolve(hc *hardware.Catalog, verb string, memoryAlone bool) (gpuTarget, error) {
	var t gpuTarget
	id := f.gpu.value
	if id == "" && (f.gpuMemory == "" || !memoryAlone) {
		id = defaultGPU
		t.Notes = append(t.Notes, fmt.Sprintf("no --gpu given: %s for %s", verb, defaultGPU))
	}
	if id != "" {
		chip, err := hc.LookupGPU(id)
		if err != nil {
			return t, usageErrf("--gpu %q: %v%s", id, err, f.gpu.missing(err.Error()))
		}
		t.Chip, t.CUDAMemory = &chip, chip.CUDAMemory
	}
	if f.gpuMemory != "" {
		m, err := parseGPUMemory(f.gpuMemory)
		if err != nil {
			return t, err
		}
		t.CUDAMemory = m
		if t.Chip != nil {
			t.Chip.CUDAMemory = m
		}
	} else if t.Chip != nil && t.Chip.CUDAMemoryEstimated {
		t.Notes = append(t.Notes, fmt.Sprintf("%s CUDA memory %s is an estimate (%s); pass --gpu-memory with a measured figure", t.Chip.ID, t.Chip.CUDAMemory, t.Chip.CUDAMemoryNote))
	}
	if t.CUDAMemory <= 0 {
		return t, usageErrf("the CUDA memory of %s is unknown: pass --gpu-memory (e.g. 79.19GiB) or add it with --catalog", id)
	}
	return t, nil
}

// parseGPUMemory reads --gpu-memory: a size with a unit, at least 256 MiB.
func parseGPUMemory(s string) (units.Bytes, error) {
	if _, err := strconv.ParseFloat(strings.TrimSpace(s), 64); err == nil {
		return 0, usageErrf("--gpu-memory %s needs a unit: 79.19GiB (what CUDA reports on an 80 GB H100) or 80GB", s)
	}
	m, err := units.ParseBytes(s)
	if err != nil {
		return 0, usageErr(fmt.Errorf("--gpu-memory: %w", err))
	}
	if m < 256*units.MiB {
		return 0, usageErrf("--gpu-memory %s is implausibly small for a GPU; give the CUDA-visible memory such as 79.19GiB", s)
	}
	return m, nil
}

// resolveRegion reads a single-region flag (gpus, prices, guide): empty
// is def (the command's default, possibly empty), anything else must be
// one region the catalog, a --catalog overlay or the price book knows, as
// plan's --region must (parseRegions); the error lists them.
func resolveRegion(f *enumFlag, def string, hc *hardware.Catalog, book hardware.PriceBook) (string, error) {
	if strings.TrimSpace(f.value) == "" {
		return def, nil
	}
	regions, err := parseRegions(f.value, regionsOne, hc, book)
	if err != nil {
		return "", usageErr(err)
	}
	return regions[0], nil
}
