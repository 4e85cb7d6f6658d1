package perf

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strings"
	"sync"

	"github.com/gpuplan/gpuplan/atomicfile"
	"github.com/gpuplan/gpuplan/dtype"
	"github.com/gpuplan/gpuplan/hardware"
	"github.com/gpuplan/gpuplan/model"
	"github.com/gpuplan/gpuplan/stats"
)

// CalibrationSchemaVersion is the version of the calibration file format
// (docs/calibration.md). It is the version bench.WriteCalibrationFile writes: a
// file written by `gpuplan bench --write-calibration` is a calibration file
// with points and no factors.
const CalibrationSchemaVersion = 1

// maxCalibrationBytes bounds a calibration file read from disk.
const maxCalibrationBytes = 64 << 20

// Calibration is a set of measured points and the efficiency factors fitted
// from them. Entries of a loaded file override the embedded calibration by
// key (Merge).
type Calibration struct {
	SchemaVersion int    `json:"schema_version"`
	Description   string `json:"description,omitempty"`
	// Points are raw measurements.
	Points []Point `json:"points"`
	// GPUFactors are fitted per (GPU, engine, engine version).
	GPUFactors []GPUFactors `json:"gpu_factors,omitempty"`
	// EngineFactors are fitted per (engine, engine version).
	EngineFactors []EngineFactors `json:"engine_factors,omitempty"`

	index *calIndex
}

// Point is one measured load level of one deployment: the one calibration
// point type, which bench writes (bench.CalibrationPoints) and perf reads
// (ReadCalibration, the one decoder and size limit).
type Point struct {
	Model         string `json:"model"`
	GPU           string `json:"gpu"`
	GPUCount      int    `json:"gpu_count"`
	TP            int    `json:"tp"`
	PP            int    `json:"pp"`
	Engine        string `json:"engine"`
	EngineVersion string `json:"engine_version"`
	Precision     string `json:"precision"`
	KVDType       string `json:"kv_dtype"`
	// Load is "concurrency", "rps" or "max"; empty means concurrency when
	// Concurrency > 0, rps when RPS > 0 (bench's points).
	Load         string  `json:"load,omitempty"`
	InputTokens  int     `json:"input_tokens"`
	OutputTokens int     `json:"output_tokens"`
	Concurrency  int     `json:"concurrency,omitempty"`
	RPS          float64 `json:"rps,omitempty"`
	// Utilization is the engine memory fraction the run used, when not the
	// engine's default.
	Utilization float64 `json:"gpu_memory_utilization,omitempty"`
	// MaxNumSeqs and MaxNumBatchedTokens are the server's scheduler limits
	// when not the engine's defaults; CacheRate the fraction of prompt
	// tokens the workload served from the prefix cache.
	MaxNumSeqs          int     `json:"max_num_seqs,omitempty"`
	MaxNumBatchedTokens int     `json:"max_num_batched_tokens,omitempty"`
	CacheRate           float64 `json:"cache_rate,omitempty"`
	Completed           int     `json:"completed,omitempty"`

	TTFT             *Latency `json:"ttft_ms,omitempty"`
	TPOT             *Latency `json:"tpot_ms,omitempty"`
	ITL              *Latency `json:"itl_ms,omitempty"`
	E2E              *Latency `json:"e2e_ms,omitempty"`
	OutputTokensPerS float64  `json:"output_tokens_per_s"`
	RequestsPerS     float64  `json:"requests_per_s,omitempty"`
	// Predicted is what a plan predicted for this level (bench copies it);
	// kept verbatim.
	Predicted  json.RawMessage `json:"predicted,omitempty"`
	MeasuredAt string          `json:"measured_at,omitempty"`
	Source     string          `json:"source"`
	Notes      string          `json:"notes,omitempty"`
}

// LoadKind returns the point's load kind, inferring it for bench's points.
func (p Point) LoadKind() string {
	switch {
	case p.Load != "":
		return p.Load
	case p.RPS > 0:
		return LoadRPS
	default:
		return LoadConcurrency
	}
}

// Key identifies a point: the deployment and the workload. A later point
// with the same key replaces an earlier one.
func (p Point) Key() string {
	return fmt.Sprintf("%s|%s|%d|%d|%d|%s|%s|%s|%s|%s|%d|%d|%d|%g",
		strings.ToLower(p.Model), strings.ToLower(p.GPU), p.GPUCount, p.TP, max(p.PP, 1),
		strings.ToLower(p.Engine), p.EngineVersion, p.Precision, p.KVDType,
		p.LoadKind(), p.InputTokens, p.OutputTokens, p.Concurrency, p.RPS) + p.schedulerKey()
}

// schedulerKey extends Key with the scheduler limits and cache rate, empty
// when all are defaults (so older files keep their keys).
func (p Point) schedulerKey() string {
	if p.MaxNumSeqs == 0 && p.MaxNumBatchedTokens == 0 && p.CacheRate == 0 {
		return ""
	}
	return fmt.Sprintf("|%d|%d|%g", p.MaxNumSeqs, p.MaxNumBatchedTokens, p.CacheRate)
}

// KeptUp reports whether an open-loop point completed at least 95% of the
// offered rate (the criterion of the development runs); points without a
// measured request rate, and other loads, count as kept up.
func (p Point) KeptUp() bool {
	if p.LoadKind() != LoadRPS || p.RequestsPerS <= 0 {
		return true
	}
	return p.RequestsPerS >= keptUpFraction*p.RPS
}

// keptUpFraction is the completed ÷ offered rate at or above which an
// open-loop stage counts as served (the definition for the vLLM
// development runs).
const keptUpFraction = 0.95

// validate checks the fields the fitter needs and canonicalises names.
func (p *Point) validate() error {
	var bad []string
	if strings.TrimSpace(p.Model) == "" {
		bad = append(bad, "model is empty")
	}
	if strings.TrimSpace(p.GPU) == "" {
		bad = append(bad, "gpu is empty")
	}
	if strings.TrimSpace(p.Engine) == "" {
		bad = append(bad, "engine is empty")
	}
	if p.TP <= 0 {
		bad = append(bad, "tp must be positive")
	}
	if p.PP == 0 {
		p.PP = 1
	}
	if p.PP < 0 {
		bad = append(bad, "pp must be positive")
	}
	if p.GPUCount == 0 {
		p.GPUCount = p.TP * p.PP
	}
	if p.InputTokens <= 0 || p.OutputTokens <= 0 {
		bad = append(bad, "input_tokens and output_tokens must be positive")
	}
	switch p.LoadKind() {
	case LoadMax:
	case LoadConcurrency:
		if p.Concurrency <= 0 {
			bad = append(bad, "a concurrency point needs concurrency > 0")
		}
	case LoadRPS:
		if !(p.RPS > 0) || math.IsInf(p.RPS, 0) {
			bad = append(bad, "an rps point needs rps > 0")
		}
	default:
		bad = append(bad, fmt.Sprintf("load %q is not concurrency, rps or max", p.Load))
	}
	if p.Precision != "" {
		pr, err := dtype.LookupPrecision(p.Precision)
		if err != nil {
			bad = append(bad, err.Error())
		} else {
			p.Precision = pr.Name
		}
	}
	kv, err := dtype.ParseKVDType(p.KVDType)
	if err != nil {
		bad = append(bad, err.Error())
	} else {
		p.KVDType = string(kv)
	}
	if math.IsNaN(p.OutputTokensPerS) || math.IsInf(p.OutputTokensPerS, 0) || p.OutputTokensPerS < 0 {
		bad = append(bad, "output_tokens_per_s must be a non-negative number")
	}
	if p.MaxNumSeqs < 0 || p.MaxNumBatchedTokens < 0 {
		bad = append(bad, "max_num_seqs and max_num_batched_tokens must not be negative")
	}
	if !(p.CacheRate >= 0 && p.CacheRate < 1) {
		bad = append(bad, "cache_rate must be in [0, 1)")
	}
	if p.Utilization < 0 || p.Utilization > 1 || math.IsNaN(p.Utilization) {
		bad = append(bad, "gpu_memory_utilization must be in (0, 1]")
	}
	if len(bad) > 0 {
		return errors.New(strings.Join(bad, "; "))
	}
	return nil
}

// GPUFactors are the fitted efficiencies of one engine version on one GPU
// type. Each is a fraction of what the hardware achieves in isolation
// (hardwareFractions): BandwidthEfficiency of the achievable memory
// bandwidth, ComputeEfficiency of the achievable dense matmul rate for the
// precision's compute type.
type GPUFactors struct {
	GPU                 string  `json:"gpu"`
	Engine              string  `json:"engine"`
	EngineVersion       string  `json:"engine_version"`
	BandwidthEfficiency float64 `json:"bandwidth_efficiency"`
	ComputeEfficiency   float64 `json:"compute_efficiency"`
	// BandLow and BandHigh are the 10th and 90th percentiles of measured ÷
	// predicted throughput over the points this pair was fitted on.
	BandLow  float64 `json:"band_low"`
	BandHigh float64 `json:"band_high"`
	// Points is how many points were fitted; MedianAbsErrorPct their
	// median absolute error after the fit.
	Points            int     `json:"points"`
	MedianAbsErrorPct float64 `json:"median_abs_error_pct"`
}

func (f GPUFactors) key() string {
	return strings.ToLower(f.GPU) + "|" + strings.ToLower(f.Engine) + "|" + f.EngineVersion
}

// EngineFactors are the fitted constants of one engine version that do not
// depend on the GPU.
type EngineFactors struct {
	Engine        string `json:"engine"`
	EngineVersion string `json:"engine_version"`
	// StepOverheadMS is the fixed cost of one engine iteration (scheduling,
	// sampling, launch gaps) that no roofline term covers.
	StepOverheadMS float64 `json:"step_overhead_ms"`
	// SeqOverheadUS is the further per-iteration cost of each sequence in
	// the batch (sampling, scheduler bookkeeping, request state), which no
	// roofline term covers.
	SeqOverheadUS float64 `json:"seq_overhead_us"`
	// MoEEfficiency scales the achievable bandwidth and compute of the
	// routed experts' kernels relative to dense matmuls (grouped GEMMs over
	// few tokens per expert, plus routing and token permutation); 1 for
	// engines whose MoE kernels match their dense ones, unused by dense
	// models.
	MoEEfficiency float64 `json:"moe_efficiency"`
	// MoEPrefillEfficiency further scales the routed experts' compute rate
	// for prompt tokens only. In a prefill each expert receives about
	// tokens × top_k ÷ experts rows, so its grouped GEMM is compute-bound
	// but smaller and more ragged than a dense GEMM over the same tokens,
	// plus the token permutation around it; in decode the same kernels are
	// bound by reading the activated experts' weights, which MoEEfficiency
	// covers. 0 or 1 is neutral (prompt tokens' expert math at
	// MoEEfficiency alone): the value of every engine without MoE TTFT
	// measurements from uncached prompts to fit it on.
	MoEPrefillEfficiency float64 `json:"moe_prefill_efficiency,omitempty"`
	// RequestOverheadMS is the fixed cost of one request outside the
	// engine's iterations: HTTP parsing, tokenization, scheduling into the
	// next iteration, detokenization and streaming the first token back.
	// It adds to TTFT and E2E, not to the iteration. 0 where no online
	// measurement fixes it (the maximum-throughput tables count TTFT from
	// admission).
	RequestOverheadMS float64 `json:"request_overhead_ms,omitempty"`
	// FirstTokenIterations is how many further engine iterations pass,
	// beyond the request's own prefill, before its first token reaches the
	// client: a request that arrives mid-iteration is admitted at the next
	// boundary, and an engine that overlaps output processing with the
	// next iteration (vLLM V1's engine core and API server are separate
	// processes) hands the token over an iteration later. It scales with
	// the iteration time, so it is what makes TTFT grow with the model and
	// the load; 0 where no online measurement fixes it (the open-loop
	// queueing terms then assume half an iteration of wait).
	FirstTokenIterations float64 `json:"first_token_iterations,omitempty"`
	// Links are the collective-communication constants by link kind
	// ("nvlink", "pcie", "infinity-fabric").
	Links map[string]LinkFactors `json:"links,omitempty"`
	// BandLow and BandHigh are the 5th and 95th percentiles of measured ÷
	// predicted over every point of the engine; uncalibrated predictions
	// use them widened (see bandFor).
	BandLow  float64 `json:"band_low"`
	BandHigh float64 `json:"band_high"`
	Points   int     `json:"points"`
}

// LinkFactors describe tensor-parallel all-reduces over one kind of link.
type LinkFactors struct {
	// Efficiency is the fraction of the per-direction link bandwidth a
	// ring all-reduce's data movement achieves for prompt tokens (large
	// messages: a prefill chunk's activations, tens to hundreds of MB).
	Efficiency float64 `json:"efficiency"`
	// DecodeEfficiency is the same fraction for the decoding sequences'
	// tokens (messages of a few MB, where collectives run far below the
	// link's peak).
	DecodeEfficiency float64 `json:"decode_efficiency"`
	// AllReduceLatencyUS is the fixed cost of one all-reduce call
	// (synchronisation and kernel launch), whatever its size.
	AllReduceLatencyUS float64 `json:"all_reduce_latency_us"`
	// PeerLatencyUS is a further fixed cost of each all-reduce call per
	// peer GPU (TP − 1 of them): the synchronisation a small-message
	// collective waits for grows with the GPUs it spans. It is what light
	// loads at several TP degrees reveal; 0 where none were measured.
	PeerLatencyUS float64 `json:"peer_latency_us,omitempty"`
}

func (f EngineFactors) key() string { return strings.ToLower(f.Engine) + "|" + f.EngineVersion }

//go:embed data/trtllm-0.17-max-throughput.json
var embeddedPoints []byte

// embeddedVLLMPoints are the vLLM 0.15.1 online-serving stages on H100
// (inference-sim/training's default_args runs), the fit set of vLLM's
// factors.
//
//go:embed data/vllm-0.15.1-h100-serving.json
var embeddedVLLMPoints []byte

// embeddedSGLangPoints are the SGLang 0.4 online-serving stages on H200
// (datacrunch-research/h200-benchmarks), the fit set of SGLang's factors.
//
//go:embed data/sglang-0.4-h200-serving.json
var embeddedSGLangPoints []byte

var (
	embeddedOnce sync.Once
	embeddedCal  *Calibration
	embeddedErr  error
)

// Embedded returns the built-in calibration: the TensorRT-LLM v0.17
// maximum-throughput points, the vLLM 0.15.1 H100 and SGLang 0.4 H200
// serving stages, and the factors fitted on them (fitted.go).
// The returned value is shared; callers must not modify it (use Clone).
func Embedded() *Calibration {
	embeddedOnce.Do(func() {
		c, err := ReadCalibration(bytes.NewReader(embeddedPoints))
		if err != nil {
			embeddedErr = fmt.Errorf("embedded calibration: %w", err)
			return
		}
		v, err := ReadCalibration(bytes.NewReader(embeddedVLLMPoints))
		if err != nil {
			embeddedErr = fmt.Errorf("embedded vLLM calibration: %w", err)
			return
		}
		sg, err := ReadCalibration(bytes.NewReader(embeddedSGLangPoints))
		if err != nil {
			embeddedErr = fmt.Errorf("embedded SGLang calibration: %w", err)
			return
		}
		c.Points = append(append(c.Points, v.Points...), sg.Points...)
		c.Description = strings.TrimSpace(c.Description + "\n" + v.Description + "\n" + sg.Description)
		c.GPUFactors = append([]GPUFactors(nil), fittedGPUFactors...)
		c.EngineFactors = cloneEngineFactors(fittedEngineFactors)
		c.buildIndex()
		embeddedCal = c
	})
	if embeddedErr != nil {
		// The package tests load the embedded data, so this cannot happen
		// in a released binary.
		panic(embeddedErr)
	}
	return embeddedCal
}

func cloneEngineFactors(in []EngineFactors) []EngineFactors {
	out := make([]EngineFactors, len(in))
	for i, e := range in {
		m := make(map[string]LinkFactors, len(e.Links))
		for k, v := range e.Links {
			m[k] = v
		}
		e.Links = m
		out[i] = e
	}
	return out
}

// Clone returns a deep copy.
func (c *Calibration) Clone() *Calibration {
	out := *c
	out.Points = append([]Point(nil), c.Points...)
	out.GPUFactors = append([]GPUFactors(nil), c.GPUFactors...)
	out.EngineFactors = cloneEngineFactors(c.EngineFactors)
	out.buildIndex()
	return &out
}

// ReadCalibration parses a calibration file. Unknown fields are errors (a
// misspelt factor would otherwise be silently ignored); so are invalid
// points and factors, each named by its index.
func ReadCalibration(r io.Reader) (*Calibration, error) {
	b, err := io.ReadAll(io.LimitReader(r, maxCalibrationBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read calibration: %w", err)
	}
	if len(b) > maxCalibrationBytes {
		return nil, fmt.Errorf("calibration file is larger than %d MiB", maxCalibrationBytes>>20)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var c Calibration
	if err := dec.Decode(&c); err != nil {
		return nil, fmt.Errorf("parse calibration: %w", err)
	}
	if dec.More() {
		return nil, errors.New("parse calibration: trailing data after the JSON object")
	}
	if c.SchemaVersion != CalibrationSchemaVersion {
		return nil, fmt.Errorf("calibration schema_version %d is not supported (this gpuplan reads version %d)", c.SchemaVersion, CalibrationSchemaVersion)
	}
	for i := range c.Points {
		if err := c.Points[i].validate(); err != nil {
			return nil, fmt.Errorf("calibration point %d (%s on %s): %w", i, c.Points[i].Model, c.Points[i].GPU, err)
		}
	}
	for i, f := range c.GPUFactors {
		if err := checkFraction("bandwidth_efficiency", f.BandwidthEfficiency); err != nil {
			return nil, fmt.Errorf("gpu_factors[%d] (%s, %s): %w", i, f.GPU, f.Engine, err)
		}
		if err := checkFraction("compute_efficiency", f.ComputeEfficiency); err != nil {
			return nil, fmt.Errorf("gpu_factors[%d] (%s, %s): %w", i, f.GPU, f.Engine, err)
		}
		if f.GPU == "" || f.Engine == "" {
			return nil, fmt.Errorf("gpu_factors[%d]: gpu and engine are required", i)
		}
		if err := checkBand(f.BandLow, f.BandHigh); err != nil {
			return nil, fmt.Errorf("gpu_factors[%d] (%s, %s): %w", i, f.GPU, f.Engine, err)
		}
	}
	for i, e := range c.EngineFactors {
		if e.Engine == "" {
			return nil, fmt.Errorf("engine_factors[%d]: engine is required", i)
		}
		if e.MoEEfficiency != 0 {
			if err := checkFraction("moe_efficiency", e.MoEEfficiency); err != nil {
				return nil, fmt.Errorf("engine_factors[%d] (%s): %w", i, e.Engine, err)
			}
		}
		if e.MoEPrefillEfficiency != 0 {
			if err := checkFraction("moe_prefill_efficiency", e.MoEPrefillEfficiency); err != nil {
				return nil, fmt.Errorf("engine_factors[%d] (%s): %w", i, e.Engine, err)
			}
		}
		if !(e.SeqOverheadUS >= 0 && e.SeqOverheadUS < 1e4) {
			return nil, fmt.Errorf("engine_factors[%d] (%s): seq_overhead_us must be in [0, 10000)", i, e.Engine)
		}
		if !(e.RequestOverheadMS >= 0 && e.RequestOverheadMS < 1e4) {
			return nil, fmt.Errorf("engine_factors[%d] (%s): request_overhead_ms must be in [0, 10000)", i, e.Engine)
		}
		if !(e.FirstTokenIterations >= 0 && e.FirstTokenIterations < 100) {
			return nil, fmt.Errorf("engine_factors[%d] (%s): first_token_iterations must be in [0, 100)", i, e.Engine)
		}
		if !(e.StepOverheadMS >= 0 && e.StepOverheadMS < 1000) {
			return nil, fmt.Errorf("engine_factors[%d] (%s): step_overhead_ms must be in [0, 1000)", i, e.Engine)
		}
		for k, v := range e.Links {
			if err := checkFraction("links."+k+".efficiency", v.Efficiency); err != nil {
				return nil, fmt.Errorf("engine_factors[%d] (%s): %w", i, e.Engine, err)
			}
			if err := checkFraction("links."+k+".decode_efficiency", v.DecodeEfficiency); err != nil {
				return nil, fmt.Errorf("engine_factors[%d] (%s): %w", i, e.Engine, err)
			}
			if !(v.PeerLatencyUS >= 0 && v.PeerLatencyUS < 1e6) {
				return nil, fmt.Errorf("engine_factors[%d] (%s): links.%s.peer_latency_us must be in [0, 1e6)", i, e.Engine, k)
			}
			if !(v.AllReduceLatencyUS >= 0 && v.AllReduceLatencyUS < 1e6) {
				return nil, fmt.Errorf("engine_factors[%d] (%s): links.%s.all_reduce_latency_us must be in [0, 1e6)", i, e.Engine, k)
			}
		}
		if err := checkBand(e.BandLow, e.BandHigh); err != nil {
			return nil, fmt.Errorf("engine_factors[%d] (%s): %w", i, e.Engine, err)
		}
	}
	c.buildIndex()
	return &c, nil
}

func checkFraction(name string, v float64) error {
	if !(v > 0 && v <= 1.5) {
		return fmt.Errorf("%s = %g must be in (0, 1.5]", name, v)
	}
	return nil
}

func checkBand(lo, hi float64) error {
	if lo == 0 && hi == 0 {
		return nil
	}
	if !(lo > 0 && lo <= 1 && hi >= 1 && hi < 100) {
		return fmt.Errorf("band [%g, %g] must satisfy 0 < band_low ≤ 1 ≤ band_high", lo, hi)
	}
	return nil
}

// LoadCalibrationFile reads a calibration file from disk (--calibration
// FILE). Pass it as Request.Calibration: predictions merge it over the
// embedded calibration and refit what it brings (see Request.Calibration).
func LoadCalibrationFile(path string) (*Calibration, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open calibration %s: %w", path, err)
	}
	defer f.Close()
	c, err := ReadCalibration(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}

// effective returns the calibration predictions with c use: the embedded
// calibration with c merged over it, the factors of every engine version
// c brings points of (but no engine factors for) refitted on all merged
// points of that version, names resolved through the embedded model and
// hardware catalogs. It is computed once per Calibration; notes say what
// was refitted or could not be used.
func (c *Calibration) effective() (*Calibration, []string) {
	if c == nil {
		return Embedded(), nil
	}
	if c == embeddedCal {
		return c, nil
	}
	ix := c.ensureIndex()
	ix.effOnce.Do(func() {
		cat, err := model.EmbeddedCatalog()
		if err != nil {
			ix.eff, ix.effNotes = Embedded().Merge(c), []string{"calibration points not refitted: " + err.Error()}
			return
		}
		opt := FitOptions{
			Model: func(id string) (*model.Spec, error) { s, _, err := cat.Lookup(id); return s, err },
			GPU:   hardware.LookupGPU,
		}
		eff, res, err := Embedded().MergeAndRefit(c, opt)
		if err != nil {
			ix.eff = Embedded().Merge(c)
			ix.effNotes = []string{fmt.Sprintf("the calibration's %d points were not used: %v", len(c.Points), err)}
			if len(res.Skipped) > 0 {
				ix.effNotes = append(ix.effNotes, "skipped: "+strings.Join(res.Skipped, "; "))
			}
			return
		}
		ix.eff = eff
		for _, e := range res.EngineFactors {
			ix.effNotes = append(ix.effNotes, fmt.Sprintf("calibration file: %s@%s factors refitted on %d points", e.Engine, e.EngineVersion, e.Points))
		}
		if len(res.Skipped) > 0 {
			ix.effNotes = append(ix.effNotes, "calibration points skipped: "+strings.Join(res.Skipped, "; "))
		}
	})
	return ix.eff, ix.effNotes
}

// MergeAndRefit merges o over c, then refits the factors of every engine
// version that o brings points of but no engine factors for, on all the
// merged points of that engine version. It returns the fit's residuals
// and skipped points for reporting.
func (c *Calibration) MergeAndRefit(o *Calibration, opt FitOptions) (*Calibration, FitResult, error) {
	merged := c.Merge(o)
	if o == nil {
		return merged, FitResult{}, nil
	}
	has := map[string]bool{}
	for _, e := range o.EngineFactors {
		has[e.key()] = true
	}
	refit := map[string]bool{}
	for _, p := range o.Points {
		k := strings.ToLower(p.Engine) + "|" + p.EngineVersion
		if !has[k] {
			refit[k] = true
		}
	}
	if len(refit) == 0 {
		return merged, FitResult{}, nil
	}
	var pts []Point
	for _, p := range merged.Points {
		if refit[strings.ToLower(p.Engine)+"|"+p.EngineVersion] {
			pts = append(pts, p)
		}
	}
	res, err := Fit(pts, opt)
	if err != nil {
		return nil, res, fmt.Errorf("refit the calibration's new points: %w", err)
	}
	out := merged.Merge(&Calibration{SchemaVersion: CalibrationSchemaVersion, GPUFactors: res.GPUFactors, EngineFactors: res.EngineFactors})
	return out, res, nil
}

// Merge returns a copy of c with o's points and factors added; entries
// with the same key as one of c's replace it.
func (c *Calibration) Merge(o *Calibration) *Calibration {
	out := c.Clone()
	if o == nil {
		return out
	}
	if o.Description != "" {
		out.Description = strings.TrimSpace(out.Description + "\n" + o.Description)
	}
	idx := map[string]int{}
	for i, p := range out.Points {
		idx[p.Key()] = i
	}
	for _, p := range o.Points {
		if i, ok := idx[p.Key()]; ok {
			out.Points[i] = p
			continue
		}
		idx[p.Key()] = len(out.Points)
		out.Points = append(out.Points, p)
	}
	gi := map[string]int{}
	for i, f := range out.GPUFactors {
		gi[f.key()] = i
	}
	for _, f := range o.GPUFactors {
		if i, ok := gi[f.key()]; ok {
			out.GPUFactors[i] = f
			continue
		}
		gi[f.key()] = len(out.GPUFactors)
		out.GPUFactors = append(out.GPUFactors, f)
	}
	ei := map[string]int{}
	for i, f := range out.EngineFactors {
		ei[f.key()] = i
	}
	for _, f := range cloneEngineFactors(o.EngineFactors) {
		if i, ok := ei[f.key()]; ok {
			out.EngineFactors[i] = f
			continue
		}
		ei[f.key()] = len(out.EngineFactors)
		out.EngineFactors = append(out.EngineFactors, f)
	}
	out.buildIndex()
	return out
}

// WriteFile writes the calibration as indented JSON, atomically (a
// temporary file renamed into place), so a failure never leaves a partial
// file.
func (c *Calibration) WriteFile(path string) error {
	out := *c
	out.SchemaVersion = CalibrationSchemaVersion
	if out.Points == nil {
		out.Points = []Point{}
	}
	b, err := json.MarshalIndent(&out, "", "  ")
	if err != nil {
		return fmt.Errorf("encode calibration: %w", err)
	}
	b = append(b, '\n')
	return atomicfile.Write(path, b, 0o644)
}

// calIndex holds lookups built once per Calibration, so Predict does not
// scan slices or allocate on the hot path.
type calIndex struct {
	gpu    map[string]GPUFactors
	engine map[string]EngineFactors
	// byEngine lists GPU factors per engine name (any version), sorted by
	// GPU, for deriving factors of uncalibrated GPUs.
	medianByEngine map[string][2]float64
	medianAll      [2]float64
	// resolved caches resolve's answers by (GPU, engine, version).
	resolved sync.Map
	// eff is the effective calibration (effective), computed once.
	effOnce  sync.Once
	eff      *Calibration
	effNotes []string
}

// indexMu guards the lazy building of a Calibration's index, so that
// concurrent predictions sharing a Calibration built by hand are safe.
var indexMu sync.Mutex

// ensureIndex returns c's index, building it on first use.
func (c *Calibration) ensureIndex() *calIndex {
	indexMu.Lock()
	defer indexMu.Unlock()
	if c.index == nil {
		c.buildIndex()
	}
	return c.index
}

// buildIndex (re)builds the lookup tables; call it after changing factors.
func (c *Calibration) buildIndex() {
	ix := &calIndex{gpu: map[string]GPUFactors{}, engine: map[string]EngineFactors{}, medianByEngine: map[string][2]float64{}}
	per := map[string][][2]float64{}
	var all [][2]float64
	for _, f := range c.GPUFactors {
		ix.gpu[f.key()] = f
		e := strings.ToLower(f.Engine)
		per[e] = append(per[e], [2]float64{f.BandwidthEfficiency, f.ComputeEfficiency})
		all = append(all, [2]float64{f.BandwidthEfficiency, f.ComputeEfficiency})
	}
	for _, f := range c.EngineFactors {
		ix.engine[f.key()] = f
	}
	for e, xs := range per {
		ix.medianByEngine[e] = median2(xs)
	}
	if len(all) > 0 {
		ix.medianAll = median2(all)
	}
	c.index = ix
}

func median2(xs [][2]float64) [2]float64 {
	a := make([]float64, len(xs))
	b := make([]float64, len(xs))
	for i, x := range xs {
		a[i], b[i] = x[0], x[1]
	}
	return [2]float64{stats.Median(a), stats.Median(b)}
}
