package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"strings"
	"time"

	"github.com/gpuplan/gpuplan/atomicfile"
	"github.com/gpuplan/gpuplan/boundedfile"
	"github.com/gpuplan/gpuplan/dtype"
	"github.com/gpuplan/gpuplan/perf"
	"github.com/gpuplan/gpuplan/plan"
	"github.com/gpuplan/gpuplan/stats"
)

// Prediction is what a plan predicts for one load level (from plan.json or
// the multi-level PlanPrediction form; docs/bench.md).
type Prediction struct {
	Concurrency int      `json:"concurrency,omitempty"`
	RPS         float64  `json:"rps,omitempty"`
	TTFT        *Latency `json:"ttft_ms,omitempty"`
	TPOT        *Latency `json:"tpot_ms,omitempty"`
	ITL         *Latency `json:"itl_ms,omitempty"`
	E2E         *Latency `json:"e2e_ms,omitempty"`
	// Rates are pointers so that "not predicted" differs from zero.
	OutputTokensPerS *float64 `json:"output_tokens_per_s,omitempty"`
	RequestsPerS     *float64 `json:"requests_per_s,omitempty"`
}

func (p Prediction) matches(l LevelResult) bool {
	if l.RPS > 0 {
		return p.RPS > 0 && math.Abs(p.RPS-l.RPS) <= 1e-9*math.Max(1, l.RPS)
	}
	return p.Concurrency > 0 && p.Concurrency == l.Concurrency
}

// CalibrationKey identifies the deployment a measurement belongs to: the
// perf package keys its calibration tables by these fields.
type CalibrationKey struct {
	Model         string `json:"model"`
	GPU           string `json:"gpu"`
	GPUCount      int    `json:"gpu_count"`
	TP            int    `json:"tp"`
	PP            int    `json:"pp"`
	Engine        string `json:"engine"`
	EngineVersion string `json:"engine_version"`
	Precision     string `json:"precision"`
	KVDType       string `json:"kv_dtype"`
}

// Normalize fills defaults (pp 1, gpu_count tp×pp, kv_dtype auto),
// canonicalises precision and KV dtype names, and returns an error naming
// every missing or invalid field so the user can fix them all at once.
func (k *CalibrationKey) Normalize() error {
	var missing, bad []string
	if k.PP == 0 {
		k.PP = 1
	}
	if k.GPUCount == 0 && k.TP > 0 {
		k.GPUCount = k.TP * k.PP
	}
	if k.KVDType == "" {
		k.KVDType = string(dtype.KVAuto)
	}
	for _, f := range []struct {
		name string
		v    string
	}{{"model", k.Model}, {"gpu", k.GPU}, {"engine", k.Engine}, {"engine_version", k.EngineVersion}, {"precision", k.Precision}} {
		if strings.TrimSpace(f.v) == "" {
			missing = append(missing, f.name)
		}
	}
	if k.TP <= 0 {
		missing = append(missing, "tp")
	}
	if k.PP < 0 {
		bad = append(bad, "pp must be positive")
	}
	if k.GPUCount > 0 && k.TP > 0 && k.GPUCount < k.TP*k.PP {
		bad = append(bad, fmt.Sprintf("gpu_count %d is less than tp×pp = %d", k.GPUCount, k.TP*k.PP))
	}
	if k.Precision != "" {
		if p, err := dtype.LookupPrecision(k.Precision); err != nil {
			bad = append(bad, err.Error())
		} else {
			k.Precision = p.Name
		}
	}
	if kv, err := dtype.ParseKVDType(k.KVDType); err != nil {
		bad = append(bad, err.Error())
	} else {
		k.KVDType = string(kv)
	}
	var parts []string
	if len(missing) > 0 {
		parts = append(parts, "missing "+strings.Join(missing, ", "))
	}
	parts = append(parts, bad...)
	if len(parts) > 0 {
		return fmt.Errorf("calibration key: %s", strings.Join(parts, "; "))
	}
	return nil
}

// PlanPrediction is the part of a plan that bench reads: the deployment
// key, the workload the prediction assumed, and predictions per level.
// LoadPlanPrediction reads it from this shape or from plan.json as
// `gpuplan plan` saves it (one workload, one prediction).
type PlanPrediction struct {
	SchemaVersion int `json:"schema_version"`
	CalibrationKey
	InputTokens  int          `json:"input_tokens"`
	OutputTokens int          `json:"output_tokens"`
	Predictions  []Prediction `json:"predictions"`
}

// LoadPlanPrediction reads a plan file: plan.json as `gpuplan plan` saves it
// (read with package plan's one decoder, plan.DecodeBytes, every schema
// version it reads) or the multi-level PlanPrediction form, both up to
// plan.MaxFileBytes.
func LoadPlanPrediction(r io.Reader) (*PlanPrediction, error) {
	b, err := boundedfile.Read(r, plan.MaxFileBytes)
	if errors.Is(err, boundedfile.ErrTooLarge) {
		return nil, fmt.Errorf("plan file is larger than %d bytes: not a gpuplan plan", plan.MaxFileBytes)
	}
	if err != nil {
		return nil, fmt.Errorf("read plan: %w", err)
	}
	var sniff struct {
		Predictions json.RawMessage `json:"predictions"`
	}
	if err := json.Unmarshal(b, &sniff); err != nil {
		return nil, fmt.Errorf("parse plan: %w", err)
	}
	if t := bytes.TrimSpace(sniff.Predictions); len(t) > 0 && t[0] == '{' {
		// plan.json as `gpuplan plan` saves it (plan.Candidate): one
		// workload and one prediction object.
		c, err := plan.DecodeBytes(b, "plan.json")
		if err != nil {
			return nil, err
		}
		return fromPlanCandidate(c)
	}
	var p PlanPrediction
	if err := json.Unmarshal(b, &p); err != nil {
		return nil, fmt.Errorf("parse plan: %w", err)
	}
	if p.SchemaVersion != PlanPredictionSchemaVersion {
		return nil, fmt.Errorf("plan schema_version %d is not supported (this gpuplan reads the multi-level form's version %d, and plan.json as `gpuplan plan --save` writes it)", p.SchemaVersion, PlanPredictionSchemaVersion)
	}
	if len(p.Predictions) == 0 {
		return nil, errors.New("plan has no predictions")
	}
	for i, pr := range p.Predictions {
		if (pr.Concurrency > 0) == (pr.RPS > 0) {
			return nil, fmt.Errorf("plan prediction %d must set exactly one of concurrency and rps", i)
		}
	}
	return &p, nil
}

// PlanPredictionSchemaVersion is the version of bench's own multi-level
// PlanPrediction form (plan.json has its own, plan.SchemaVersion).
const PlanPredictionSchemaVersion = 1

// fromPlanCandidate takes what bench compares and calibrates by from a
// plan.json candidate.
func fromPlanCandidate(c plan.Candidate) (*PlanPrediction, error) {
	w := c.Workload
	if w.Concurrency <= 0 && w.RPS <= 0 {
		return nil, errors.New("plan.json workload has neither concurrency nor rps: nothing to compare a level with")
	}
	lat := func(l plan.Latency) *Latency {
		if l.Latency == (stats.Latency{}) {
			return nil
		}
		v := l.Latency
		return &v
	}
	rate := func(v float64) *float64 {
		if v == 0 {
			return nil
		}
		return &v
	}
	pc := c.Predictions
	pr := Prediction{TTFT: lat(pc.TTFTMs), TPOT: lat(pc.TPOTMs), ITL: lat(pc.ITLMs), E2E: lat(pc.E2EMs),
		OutputTokensPerS: rate(pc.OutputTokensPerS), RequestsPerS: rate(pc.RequestsPerS)}
	if w.Concurrency > 0 {
		pr.Concurrency = int(w.Concurrency)
	} else {
		pr.RPS = w.RPS
	}
	return &PlanPrediction{SchemaVersion: c.SchemaVersion, CalibrationKey: CalibrationKey{
		Model: c.Model.ID, GPU: c.GPU, GPUCount: c.GPUsPerReplica, TP: c.Engine.TP, PP: c.Engine.PP,
		Engine: c.Engine.Name, EngineVersion: c.Engine.Version, Precision: c.Engine.Precision, KVDType: c.Engine.KVCacheDType},
		InputTokens: int(w.InputTokens), OutputTokens: int(w.OutputTokens), Predictions: []Prediction{pr}}, nil
}

// Comparison is one measured figure next to its prediction.
type Comparison struct {
	Mode        string  `json:"mode"`
	Concurrency int     `json:"concurrency,omitempty"`
	RPS         float64 `json:"rps,omitempty"`
	// Metric is "ttft_ms.p50", "output_tokens_per_s" and so on.
	Metric    string  `json:"metric"`
	Measured  float64 `json:"measured"`
	Predicted float64 `json:"predicted"`
	// ErrorPct is (measured − predicted) / predicted × 100: positive means
	// the real endpoint was slower (latency) or faster (rates) than
	// predicted.
	ErrorPct float64 `json:"error_pct"`
	// WithinBand tells whether the measured mean fell inside the
	// prediction's [low, high] band; absent when the prediction has none.
	WithinBand *bool `json:"within_band,omitempty"`
}

// Compare sets every measured level next to the prediction for the same
// concurrency (or rate). Levels without a prediction are skipped.
func Compare(levels []LevelResult, preds []Prediction) []Comparison {
	var out []Comparison
	for _, l := range levels {
		for _, p := range preds {
			if !p.matches(l) {
				continue
			}
			add := func(metric string, measured, predicted float64, band *bool) {
				if predicted <= 0 {
					return
				}
				out = append(out, Comparison{Mode: l.Mode, Concurrency: l.Concurrency, RPS: l.RPS, Metric: metric,
					Measured: measured, Predicted: predicted, ErrorPct: (measured - predicted) / predicted * 100, WithinBand: band})
			}
			for _, lat := range []struct {
				name      string
				meas, pre *Latency
			}{{"ttft_ms", l.TTFT, p.TTFT}, {"tpot_ms", l.TPOT, p.TPOT}, {"itl_ms", l.ITL, p.ITL}, {"e2e_ms", l.E2E, p.E2E}} {
				if lat.meas == nil || lat.pre == nil {
					continue
				}
				var band *bool
				if lat.pre.Low > 0 || lat.pre.High > 0 {
					in := lat.meas.Mean >= lat.pre.Low && (lat.pre.High == 0 || lat.meas.Mean <= lat.pre.High)
					band = &in
				}
				add(lat.name+".mean", lat.meas.Mean, lat.pre.Mean, band)
				add(lat.name+".p50", lat.meas.P50, lat.pre.P50, nil)
				add(lat.name+".p90", lat.meas.P90, lat.pre.P90, nil)
				add(lat.name+".p95", lat.meas.P95, lat.pre.P95, nil)
				add(lat.name+".p99", lat.meas.P99, lat.pre.P99, nil)
			}
			if p.OutputTokensPerS != nil {
				add("output_tokens_per_s", l.OutputTokensPerS, *p.OutputTokensPerS, nil)
			}
			if p.RequestsPerS != nil {
				add("requests_per_s", l.RequestsPerS, *p.RequestsPerS, nil)
			}
			break
		}
	}
	return out
}

// CalibrationPoints turns measured levels into calibration points, in
// perf's one point type (perf.Point owns the calibration file format; bench
// writes it, perf reads it). Levels with no completed request are left
// out: there is nothing to fit.
func CalibrationPoints(key CalibrationKey, levels []LevelResult, preds []Prediction, at time.Time, source string) []perf.Point {
	var out []perf.Point
	for _, l := range levels {
		if l.Completed == 0 {
			continue
		}
		pt := perf.Point{Model: key.Model, GPU: key.GPU, GPUCount: key.GPUCount, TP: key.TP, PP: key.PP,
			Engine: key.Engine, EngineVersion: key.EngineVersion, Precision: key.Precision, KVDType: key.KVDType,
			InputTokens: int(math.Round(l.InputTokensMean)), OutputTokens: int(math.Round(l.OutputTokensMean)),
			Concurrency: l.Concurrency, RPS: l.RPS, Completed: l.Completed, TTFT: l.TTFT, TPOT: l.TPOT, ITL: l.ITL, E2E: l.E2E,
			OutputTokensPerS: l.OutputTokensPerS, RequestsPerS: l.RequestsPerS,
			// time.Time's JSON form, so files written before perf.Point
			// was the writer's type read back unchanged.
			MeasuredAt: at.UTC().Format(time.RFC3339Nano), Source: source}
		for i := range preds {
			if preds[i].matches(l) {
				// A Prediction of plain numbers always encodes.
				pt.Predicted, _ = json.Marshal(preds[i])
				break
			}
		}
		out = append(out, pt)
	}
	return out
}

// WriteCalibrationFile writes the points as a calibration file (schema
// version perf.CalibrationSchemaVersion, no factors) to path atomically,
// so a failure never leaves a partial file.
func WriteCalibrationFile(path string, pts []perf.Point) error {
	return (&perf.Calibration{Points: pts}).WriteFile(path)
}

// AppendCalibrationFile adds pts to the calibration file at path, creating
// it if missing, and returns how many points it holds afterwards. The
// points already there (and any fitted factors) are kept (a second `bench
// --write-calibration` run on another GPU adds to the first run's file
// instead of replacing it); a point identical to one already in the file
// (same deployment, level and measured_at) is not added twice. The file is
// read with perf's decoder and size limit (perf.LoadCalibrationFile); the
// read, merge and write happen under the file's lock (atomicfile.Lock). A
// file that is not a calibration file of this schema version is an error,
// never overwritten.
func AppendCalibrationFile(ctx context.Context, path string, pts []perf.Point) (int, error) {
	release, err := atomicfile.Lock(ctx, path)
	if err != nil {
		return 0, err
	}
	defer release()
	c := &perf.Calibration{}
	switch got, err := perf.LoadCalibrationFile(path); {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return 0, fmt.Errorf("%s is not a calibration file gpuplan can add to (%v); nothing was written: choose another --write-calibration path", path, err)
	default:
		c = got
	}
	seen := map[string]bool{}
	for _, p := range c.Points {
		seen[pointKey(p)] = true
	}
	for _, p := range pts {
		if k := pointKey(p); !seen[k] {
			seen[k] = true
			c.Points = append(c.Points, p)
		}
	}
	if err := c.WriteFile(path); err != nil {
		return 0, err
	}
	return len(c.Points), nil
}

// pointKey identifies a measurement: the deployment, the level and when.
func pointKey(p perf.Point) string { return p.Key() + "|" + p.MeasuredAt }

// WriteFileAtomic writes data to path through a temporary file and a rename
// (atomicfile.Write), so a failure never leaves a partial file.
func WriteFileAtomic(path string, data []byte) error { return atomicfile.Write(path, data, 0o644) }
