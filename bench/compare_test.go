package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gpuplan/gpuplan/perf"
)

func f64(v float64) *float64 { return &v }

func TestCompare(t *testing.T) {
	levels := []LevelResult{
		{Mode: "concurrency", Concurrency: 4, LevelMetrics: LevelMetrics{TTFT: &Latency{Mean: 110, P50: 100, P99: 300}, OutputTokensPerS: 900}},
		{Mode: "concurrency", Concurrency: 16, LevelMetrics: LevelMetrics{TTFT: &Latency{Mean: 500}}},
		{Mode: "rps", RPS: 2.5, LevelMetrics: LevelMetrics{RequestsPerS: 2.4}},
	}
	preds := []Prediction{
		{Concurrency: 4, TTFT: &Latency{Mean: 100, P50: 80, Low: 90, High: 120}, OutputTokensPerS: f64(1000)},
		{RPS: 2.5, RequestsPerS: f64(2.5)},
	}
	got := Compare(levels, preds)
	want := []struct {
		metric    string
		meas, pre float64
		err       float64
		band      string
	}{
		{"ttft_ms.mean", 110, 100, 10, "yes"},
		{"ttft_ms.p50", 100, 80, 25, "-"},
		{"output_tokens_per_s", 900, 1000, -10, "-"},
		{"requests_per_s", 2.4, 2.5, -4, "-"},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d comparisons: %+v", len(got), got)
	}
	for i, w := range want {
		g := got[i]
		band := "-"
		if g.WithinBand != nil {
			band = map[bool]string{true: "yes", false: "no"}[*g.WithinBand]
		}
		if g.Metric != w.metric || g.Measured != w.meas || g.Predicted != w.pre || band != w.band || abs(g.ErrorPct-w.err) > 1e-9 {
			t.Errorf("%d: %+v (band %s), want %+v", i, g, band, w)
		}
	}
}

func abs(v float64) float64 {
	if v < 0 {
		return -v
	}
	return v
}

func TestCalibrationKeyNormalize(t *testing.T) {
	var k CalibrationKey
	err := k.Normalize()
	if err == nil || !strings.Contains(err.Error(), "missing model, gpu, engine, engine_version, precision, tp") {
		t.Fatalf("err = %v", err)
	}
	k = CalibrationKey{Model: "m", GPU: "h100-sxm-80gb", TP: 2, Engine: "vllm", EngineVersion: "0.19.1", Precision: "w8a8-fp8", KVDType: "fp8_e4m3"}
	if err := k.Normalize(); err != nil {
		t.Fatal(err)
	}
	if k.PP != 1 || k.GPUCount != 2 || k.Precision != "fp8" || k.KVDType != "fp8" {
		t.Errorf("normalized %+v", k)
	}
	k.GPUCount = 1
	if err := k.Normalize(); err == nil || !strings.Contains(err.Error(), "less than tp") {
		t.Errorf("gpu_count < tp: %v", err)
	}
	k = CalibrationKey{Model: "m", GPU: "g", TP: 1, Engine: "vllm", EngineVersion: "1", Precision: "fp7"}
	if err := k.Normalize(); err == nil || !strings.Contains(err.Error(), "fp7") {
		t.Errorf("bad precision: %v", err)
	}
}

func TestCalibrationFileRoundTrip(t *testing.T) {
	key := CalibrationKey{Model: "m", GPU: "g", GPUCount: 1, TP: 1, PP: 1, Engine: "vllm", EngineVersion: "0.19", Precision: "bf16", KVDType: "auto"}
	levels := []LevelResult{
		{Mode: "concurrency", Concurrency: 8, LevelMetrics: LevelMetrics{Completed: 10, InputTokensMean: 511.6, OutputTokensMean: 128, TTFT: &Latency{Mean: 50}, OutputTokensPerS: 800, RequestsPerS: 6.25}},
		{Mode: "concurrency", Concurrency: 64, LevelMetrics: LevelMetrics{Completed: 0}},
	}
	at := time.Date(2026, 3, 4, 5, 6, 7, 0, time.FixedZone("x", 3600))
	pts := CalibrationPoints(key, levels, []Prediction{{Concurrency: 8, TTFT: &Latency{Mean: 40}}}, at, "test")
	if len(pts) != 1 || pts[0].InputTokens != 512 || pts[0].MeasuredAt != "2026-03-04T04:06:07Z" {
		t.Fatalf("%+v", pts)
	}
	var pred Prediction
	if err := json.Unmarshal(pts[0].Predicted, &pred); err != nil || pred.TTFT == nil || pred.TTFT.Mean != 40 {
		t.Fatalf("predicted %s: %v", pts[0].Predicted, err)
	}
	path := filepath.Join(t.TempDir(), "calib.json")
	if err := WriteCalibrationFile(path, pts); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var raw map[string]any
	if err := json.Unmarshal(b, &raw); err != nil {
		t.Fatal(err)
	}
	if raw["schema_version"] != 1.0 {
		t.Errorf("schema_version %v", raw["schema_version"])
	}
	p0 := raw["points"].([]any)[0].(map[string]any)
	for _, k := range []string{"model", "gpu", "gpu_count", "tp", "pp", "engine", "engine_version", "precision", "kv_dtype", "input_tokens", "output_tokens", "concurrency", "ttft_ms", "output_tokens_per_s", "measured_at", "predicted"} {
		if _, ok := p0[k]; !ok {
			t.Errorf("point lacks %q", k)
		}
	}
	// An unmeasured latency is left out (perf.Point's form; files that
	// spell it null, as bench wrote before, read the same).
	if _, ok := p0["tpot_ms"]; ok || p0["measured_at"] != "2026-03-04T04:06:07Z" {
		t.Errorf("tpot %v (unknown must be absent), measured_at %v", p0["tpot_ms"], p0["measured_at"])
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Errorf("temporary files left: %v", entries)
	}
	if err := WriteCalibrationFile(filepath.Join(t.TempDir(), "no", "such", "dir.json"), nil); err == nil {
		t.Error("writing into a missing directory must fail")
	}
}

func TestLoadPlanPrediction(t *testing.T) {
	good := `{"schema_version":1,"model":"m","gpu":"g","tp":1,"engine":"vllm","engine_version":"0.19","precision":"bf16",
"input_tokens":512,"output_tokens":128,"predictions":[{"concurrency":4,"ttft_ms":{"mean":100,"p50":90,"p90":0,"p95":0,"p99":0,"low":80,"high":130}}]}`
	p, err := LoadPlanPrediction(strings.NewReader(good))
	if err != nil || p.GPU != "g" || p.Predictions[0].TTFT.High != 130 {
		t.Fatalf("%v %+v", err, p)
	}
	for _, bad := range []string{`{}`, `{"schema_version":2,"predictions":[{"concurrency":1}]}`, `{"schema_version":1}`,
		`{"schema_version":1,"predictions":[{"concurrency":1,"rps":2}]}`, `[`} {
		if _, err := LoadPlanPrediction(strings.NewReader(bad)); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
}

// TestLoadPlanJSONCandidate reads plan.json as `gpuplan plan` saves it
// (testdata/plan-candidate.json follows plan.Candidate's JSON tags).
func TestLoadPlanJSONCandidate(t *testing.T) {
	f, err := os.Open("testdata/plan-candidate.json")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	p, err := LoadPlanPrediction(f)
	if err != nil {
		t.Fatal(err)
	}
	k := p.CalibrationKey
	if k.Model != "meta-llama/Llama-3.1-8B-Instruct" || k.GPU != "h100-nvl-94gb" || k.GPUCount != 1 || k.TP != 1 || k.PP != 1 ||
		k.Engine != "vllm" || k.EngineVersion != "0.19" || k.Precision != "bf16" || k.KVDType != "auto" || p.InputTokens != 1024 {
		t.Errorf("key %+v", p)
	}
	if len(p.Predictions) != 1 || p.Predictions[0].Concurrency != 8 || p.Predictions[0].TTFT.High != 140 || *p.Predictions[0].OutputTokensPerS != 850 {
		t.Errorf("prediction %+v", p.Predictions)
	}
	if err := k.Normalize(); err != nil {
		t.Errorf("a plan.json key must be complete for calibration: %v", err)
	}
	if _, err := LoadPlanPrediction(strings.NewReader(`{"schema_version":1,"predictions":{"ttft_ms":{"mean":1}},"workload":{}}`)); err == nil {
		t.Error("a plan.json without concurrency or rps must be refused")
	}
}

func sampleReport() *Report {
	lat := func(b float64) *Latency { return &Latency{Mean: b, P50: b, P90: b * 1.5, P95: b * 1.7, P99: b * 2} }
	mk := func(c int, ttft float64) LevelResult {
		var recs []RequestRecord
		for i := 0; i < 50; i++ {
			recs = append(recs, rec("r", 0, []float64{ttft + float64(i), ttft + float64(i) + 10, ttft + float64(i) + 20}, 3, msD(200)))
		}
		g := float64(c) * 0.9
		return LevelResult{Mode: "concurrency", Concurrency: c, StoppedBy: "requests", Records: recs, LevelMetrics: LevelMetrics{
			Requests: 50, Completed: 50, DurationS: 10, TTFT: lat(ttft), TPOT: lat(10), ITL: lat(10), E2E: lat(ttft + 20),
			OutputTokensPerS: float64(c) * 90, RequestsPerS: float64(c), GoodputPerS: &g, Errors: map[ErrorClass]int{"http_429": 1}}}
	}
	return &Report{SchemaVersion: 1, StartedAt: epoch, Target: ReportTarget{Endpoint: "http://127.0.0.1:8000/v1/chat/completions", API: APIChat, Model: "<m&>", Stream: true},
		Workload: ReportWorkload{Prompts: "synthetic", InputTokens: 512, OutputTokens: 128, RequestsPerLevel: 50, DurationS: 60},
		SLO:      &SLO{TTFTms: 200}, Levels: []LevelResult{mk(1, 50), mk(4, 80), mk(16, 200)},
		Predictions: []Prediction{{Concurrency: 4, TTFT: &Latency{Mean: 70}, OutputTokensPerS: f64(400)}},
		Comparison:  []Comparison{{Mode: "concurrency", Concurrency: 4, Metric: "ttft_ms.mean", Measured: 80, Predicted: 70, ErrorPct: 14.3}}}
}

func TestWriteHTMLSelfContained(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteHTML(&buf, sampleReport()); err != nil {
		t.Fatal(err)
	}
	h := buf.String()
	for _, want := range []string{"<svg", "Time to first token", "TTFT distribution", "Output throughput", "predicted", "&lt;m&amp;&gt;", "ttft_ms.mean", "http_429: 1", "c=16"} {
		if !strings.Contains(h, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	for _, bad := range []string{"<script", "src=", "href=", "@import", "<m&>", "NaN", "Inf"} {
		if strings.Contains(h, bad) {
			t.Errorf("report contains %q: it must be self-contained and escaped", bad)
		}
	}
	if n := strings.Count(h, "<svg"); n != 8 {
		t.Errorf("%d charts, want 5 load charts and 3 distributions", n)
	}
	if len(h) > 200_000 {
		t.Errorf("report is %d bytes", len(h))
	}
	// A report with no completed request still renders.
	buf.Reset()
	if err := WriteHTML(&buf, &Report{Levels: []LevelResult{{Mode: "rps", RPS: 1}}}); err != nil {
		t.Fatal(err)
	}
}

func TestNiceTicks(t *testing.T) {
	got := niceTicks(0, 105, 5)
	want := []float64{0, 50, 100, 150}
	if len(got) != len(want) {
		t.Fatalf("%v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("%v, want %v", got, want)
		}
	}
}

// TestAppendCalibrationFile: a second run adds its points to the file
// instead of replacing the first run's; re-adding the same points changes
// nothing; a file that is not a calibration file is left alone.
func TestAppendCalibrationFile(t *testing.T) {
	key := CalibrationKey{Model: "m", GPU: "g", GPUCount: 1, TP: 1, PP: 1, Engine: "vllm", EngineVersion: "0.19", Precision: "bf16", KVDType: "auto"}
	at := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	level := func(c int) LevelResult {
		return LevelResult{Mode: "concurrency", Concurrency: c, LevelMetrics: LevelMetrics{Completed: 10, InputTokensMean: 512, OutputTokensMean: 128, OutputTokensPerS: float64(100 * c)}}
	}
	first := CalibrationPoints(key, []LevelResult{level(1), level(8)}, nil, at, "run 1")
	key2 := key
	key2.GPU = "h"
	second := CalibrationPoints(key2, []LevelResult{level(1)}, nil, at.Add(time.Hour), "run 2")
	path := filepath.Join(t.TempDir(), "calib.json")
	ctx := context.Background()
	for _, step := range []struct {
		pts  []perf.Point
		want int
	}{{first, 2}, {second, 3}, {first, 3}} {
		n, err := AppendCalibrationFile(ctx, path, step.pts)
		if err != nil || n != step.want {
			t.Fatalf("AppendCalibrationFile = %d, %v; want %d points", n, err, step.want)
		}
	}
	b, _ := os.ReadFile(path)
	var f perf.Calibration
	if err := json.Unmarshal(b, &f); err != nil || len(f.Points) != 3 || f.Points[0].Source != "run 1" || f.Points[2].GPU != "h" {
		t.Fatalf("file holds %+v, %v", f.Points, err)
	}
	other := filepath.Join(t.TempDir(), "notes.json")
	if err := os.WriteFile(other, []byte(`{"my":"notes"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := AppendCalibrationFile(ctx, other, first); err == nil || !strings.Contains(err.Error(), "not a calibration file") {
		t.Errorf("err = %v, want a refusal", err)
	}
	if b, _ := os.ReadFile(other); string(b) != `{"my":"notes"}` {
		t.Errorf("a foreign file was overwritten: %s", b)
	}
}
