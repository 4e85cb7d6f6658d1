package perf

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestReadBenchFile: a file in the shape bench writes is a calibration file.
func TestReadBenchFile(t *testing.T) {
	c, err := LoadCalibrationFile("testdata/bench-calibration.json")
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Points) != 2 || len(c.GPUFactors) != 0 {
		t.Fatalf("got %d points and %d factors, want 2 and 0", len(c.Points), len(c.GPUFactors))
	}
	if k := c.Points[0].LoadKind(); k != LoadConcurrency {
		t.Errorf("first point load %q, want concurrency", k)
	}
	if k := c.Points[1].LoadKind(); k != LoadRPS {
		t.Errorf("second point load %q, want rps", k)
	}
	if c.Points[0].TPOT == nil || c.Points[0].TPOT.Mean != 7.9 || c.Points[1].TPOT != nil {
		t.Errorf("latency objects not read as written: %+v / %+v", c.Points[0].TPOT, c.Points[1].TPOT)
	}
	if c.Points[0].Key() == c.Points[1].Key() {
		t.Error("two different loads share a key")
	}
}

// TestMergeOverridesByKey: a loaded file's entries replace the embedded
// ones with the same key and add the others.
func TestMergeOverridesByKey(t *testing.T) {
	base := Embedded()
	p := base.Points[0]
	p.OutputTokensPerS = 1
	f := base.GPUFactors[0]
	f.BandwidthEfficiency = 0.5
	extra := Point{Model: "meta-llama/Llama-3.1-8B", GPU: "h200", TP: 1, PP: 1, GPUCount: 1, Engine: "vllm", EngineVersion: "0.19",
		Precision: "bf16", KVDType: "auto", InputTokens: 10, OutputTokens: 10, Concurrency: 1, OutputTokensPerS: 100}
	over := &Calibration{SchemaVersion: 1, Points: []Point{p, extra}, GPUFactors: []GPUFactors{f}}
	m := base.Merge(over)
	if len(m.Points) != len(base.Points)+1 {
		t.Errorf("merged %d points, want %d", len(m.Points), len(base.Points)+1)
	}
	if m.Points[0].OutputTokensPerS != 1 {
		t.Error("a point with the same key was not replaced")
	}
	r, err := m.resolve(f.GPU, f.Engine, f.EngineVersion)
	if err != nil {
		t.Fatal(err)
	}
	if r.gpu.BandwidthEfficiency != 0.5 {
		t.Errorf("merged factors not used: %.2f", r.gpu.BandwidthEfficiency)
	}
	if base.Points[0].OutputTokensPerS == 1 || base.GPUFactors[0].BandwidthEfficiency == 0.5 {
		t.Error("Merge modified the embedded calibration")
	}
}

// TestWriteReadRoundTrip: WriteFile then LoadCalibrationFile gives the same
// calibration, and leaves no temporary file.
func TestWriteReadRoundTrip(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "cal.json")
	c := Embedded()
	if err := c.WriteFile(path); err != nil {
		t.Fatal(err)
	}
	back, err := LoadCalibrationFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(back.Points) != len(c.Points) || len(back.GPUFactors) != len(c.GPUFactors) || len(back.EngineFactors) != len(c.EngineFactors) {
		t.Fatalf("round trip lost entries")
	}
	if back.EngineFactors[0].Links["nvlink"] != c.EngineFactors[0].Links["nvlink"] || back.GPUFactors[1] != c.GPUFactors[1] {
		t.Error("factors changed in the round trip")
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("directory holds %d files after the write, want 1", len(entries))
	}
	if err := c.WriteFile(filepath.Join(dir, "missing", "cal.json")); err == nil {
		t.Error("writing into a missing directory succeeded")
	}
}

// TestLoadBenchFileRefits: loading bench's points (vLLM, which has no
// factors of its own) merges them over the embedded calibration and fits
// vLLM factors for the GPU they were measured on, so predictions for that
// pair become calibrated.
func TestLoadBenchFileRefits(t *testing.T) {
	file, err := LoadCalibrationFile("testdata/bench-calibration.json")
	if err != nil {
		t.Fatal(err)
	}
	c, notes := file.effective()
	if len(notes) == 0 || !strings.Contains(notes[0], "vllm@0.19 factors refitted on 2 points") {
		t.Errorf("notes %q should say what was refitted", notes)
	}
	if len(c.Points) != len(Embedded().Points)+2 {
		t.Errorf("%d points after the merge, want %d", len(c.Points), len(Embedded().Points)+2)
	}
	r, err := c.resolve("h100-sxm", "vllm", "0.19")
	if err != nil {
		t.Fatal(err)
	}
	if !r.gpuCalibrated || !r.engineCalibrated {
		t.Errorf("vllm@0.19 on h100-sxm should be calibrated after loading its points: %s", r.source)
	}
	t0, _ := c.resolve("h100-sxm", "trtllm", "0.17")
	e0, _ := Embedded().resolve("h100-sxm", "trtllm", "0.17")
	if t0.gpu != e0.gpu {
		t.Error("loading vLLM points changed the TensorRT-LLM factors")
	}
}

// TestUnusablePointsAreReported: points whose model cannot be resolved are
// merged but not fitted, and the estimate says so instead of failing.
func TestUnusablePointsAreReported(t *testing.T) {
	c := &Calibration{SchemaVersion: 1, Points: []Point{{Model: "org/model", GPU: "h100-sxm", TP: 1, PP: 1, GPUCount: 1, Engine: "vllm", EngineVersion: "0.19",
		Precision: "bf16", KVDType: "auto", InputTokens: 512, OutputTokens: 128, Concurrency: 8, OutputTokensPerS: 800, Source: "test"}}}
	e := mustPredict(t, Request{Model: spec(t, "meta-llama/Llama-3.1-8B"), GPU: gpu(t, "h100-sxm"), Engine: profile(t, "vllm"), Calibration: c,
		Workload: Workload{InputTokens: 512, OutputTokens: 128, Concurrency: 8}})
	found := false
	for _, a := range e.Assumptions {
		found = found || strings.Contains(a, "were not used")
	}
	if !found || e.Calibrated {
		t.Errorf("calibrated %v, assumptions %q: the unusable point must be reported and not make vLLM calibrated", e.Calibrated, e.Assumptions)
	}
}

func TestReadCalibrationErrors(t *testing.T) {
	point := `{"model":"m","gpu":"g","tp":1,"engine":"vllm","engine_version":"0.19","precision":"bf16","input_tokens":10,"output_tokens":10,"concurrency":1,"output_tokens_per_s":1,"source":"s"}`
	cases := []struct{ name, doc, want string }{
		{"not json", `{`, "parse calibration"},
		{"trailing data", `{"schema_version":1,"points":[]} {}`, "trailing"},
		{"wrong version", `{"schema_version":2,"points":[]}`, "schema_version 2"},
		{"unknown field", `{"schema_version":1,"points":[],"gpu_factor":[]}`, "unknown field"},
		{"bad point", `{"schema_version":1,"points":[{"model":"","gpu":"g","tp":0,"engine":"x","input_tokens":0,"output_tokens":1,"source":"s"}]}`, "model is empty"},
		{"bad load", strings.Replace(`{"schema_version":1,"points":[P]}`, "P", strings.Replace(point, `"concurrency":1`, `"load":"burst"`, 1), 1), "not concurrency"},
		{"bad precision", strings.Replace(`{"schema_version":1,"points":[P]}`, "P", strings.Replace(point, `bf16`, `bf17`, 1), 1), "unknown precision"},
		{"bad factor", `{"schema_version":1,"points":[],"gpu_factors":[{"gpu":"g","engine":"e","engine_version":"1","bandwidth_efficiency":7,"compute_efficiency":0.5,"band_low":0.9,"band_high":1.1,"points":1,"median_abs_error_pct":1}]}`, "bandwidth_efficiency"},
		{"bad band", `{"schema_version":1,"points":[],"gpu_factors":[{"gpu":"g","engine":"e","engine_version":"1","bandwidth_efficiency":0.7,"compute_efficiency":0.5,"band_low":1.2,"band_high":1.1,"points":1,"median_abs_error_pct":1}]}`, "band"},
		{"bad overhead", `{"schema_version":1,"points":[],"engine_factors":[{"engine":"e","engine_version":"1","step_overhead_ms":-1,"seq_overhead_us":0,"moe_efficiency":1,"band_low":0.9,"band_high":1.1,"points":1}]}`, "step_overhead_ms"},
		{"bad moe prefill", `{"schema_version":1,"points":[],"engine_factors":[{"engine":"e","engine_version":"1","step_overhead_ms":1,"seq_overhead_us":0,"moe_efficiency":1,"moe_prefill_efficiency":-0.5,"band_low":0.9,"band_high":1.1,"points":1}]}`, "moe_prefill_efficiency"},
	}
	for _, c := range cases {
		_, err := ReadCalibration(strings.NewReader(c.doc))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one mentioning %q", c.name, err, c.want)
		}
	}
	if _, err := ReadCalibration(strings.NewReader(`{"schema_version":1,"points":[` + point + `]}`)); err != nil {
		t.Errorf("valid file rejected: %v", err)
	}
	big := bytes.Repeat([]byte(" "), maxCalibrationBytes+2)
	if _, err := ReadCalibration(bytes.NewReader(big)); err == nil || !strings.Contains(err.Error(), "larger") {
		t.Errorf("oversized file: %v", err)
	}
}

// FuzzReadCalibration: arbitrary bytes never panic, and anything accepted
// can be resolved and merged.
func FuzzReadCalibration(f *testing.F) {
	seed, _ := os.ReadFile("testdata/bench-calibration.json")
	f.Add(seed)
	f.Add([]byte(`{"schema_version":1,"points":[],"gpu_factors":[{"gpu":"h100-sxm","engine":"vllm","engine_version":"0.19","bandwidth_efficiency":0.8,"compute_efficiency":0.7,"band_low":0,"band_high":0,"points":0,"median_abs_error_pct":0}]}`))
	f.Add([]byte(`{"schema_version":1}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := ReadCalibration(bytes.NewReader(b))
		if err != nil {
			return
		}
		m := Embedded().Merge(c)
		if _, err := m.resolve("h100-sxm", "vllm", "0.19"); err != nil {
			t.Fatalf("resolve after merging an accepted file: %v", err)
		}
	})
}

// TestConcurrentPredictions: predictions sharing one hand-built calibration
// may run in parallel (go test -race).
func TestConcurrentPredictions(t *testing.T) {
	file, err := LoadCalibrationFile("testdata/bench-calibration.json")
	if err != nil {
		t.Fatal(err)
	}
	r := Request{Model: spec(t, "meta-llama/Llama-3.1-8B"), GPU: gpu(t, "h100-sxm"), Engine: profile(t, "vllm"), Calibration: file,
		Workload: Workload{InputTokens: 512, OutputTokens: 128, Concurrency: 8}}
	done := make(chan Estimate, 8)
	for i := 0; i < 8; i++ {
		go func() {
			e, err := Predict(r)
			if err != nil {
				t.Error(err)
			}
			done <- e
		}()
	}
	first := <-done
	for i := 1; i < 8; i++ {
		if e := <-done; e.TPOT.Mean != first.TPOT.Mean {
			t.Error("concurrent predictions differ")
		}
	}
}
