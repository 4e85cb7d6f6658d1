package perf

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/gpuplan/gpuplan/dtype"
	"github.com/gpuplan/gpuplan/hardware"
	"github.com/gpuplan/gpuplan/memory"
	"github.com/gpuplan/gpuplan/model"
)

func TestExplore3(t *testing.T) {
	cat, _ := model.EmbeddedCatalog()
	opt := FitOptions{Model: func(id string) (*model.Spec, error) { s, _, err := cat.Lookup(id); return s, err }, GPU: hardware.LookupGPU}
	res, _ := Fit(Embedded().Points, opt)
	cal := res.Calibration(nil, "")
	t.Logf("%+v", res.EngineFactors)
	b, _ := os.ReadFile("testdata/trtllm-other-tables.json")
	var doc struct{ Records []map[string]any }
	json.Unmarshal(b, &doc)
	g, _ := hardware.LookupGPU("h100-sxm")
	prof, _ := memory.LookupProfile("trtllm")
	bf16, _ := dtype.LookupPrecision("bf16")
	for _, r := range doc.Records {
		if r["version"] != "0.14.0" {
			continue
		}
		m := r["model"].(string)
		id := "meta-llama/Llama-3.1-8B"
		if strings.Contains(m, "70B") {
			id = "meta-llama/Llama-3.1-70B"
		}
		spec, _, _ := cat.Lookup(id)
		meas := r["measured"].(map[string]any)
		w := Workload{InputTokens: int(r["isl"].(float64)), OutputTokens: int(r["osl"].(float64))}
		if q, ok := meas["offered_qps"].(float64); ok {
			w.RPS = q
		} else {
			w.Max = true
		}
		tp := int(r["tp"].(float64))
		e, err := Predict(Request{Model: spec, Precision: &bf16, GPU: g, TP: tp, Engine: prof, Workload: w, Calibration: cal})
		if err != nil {
			t.Log(err)
			continue
		}
		fmt.Printf("%-4s tp%d %3d/%-3d qps %4v | ttft meas %6.0f pred %7.1f | itl meas %4.0f pred %5.1f | out meas %5.0f pred %6.0f sat=%v B=%.1f\n", id[len(id)-3:], tp, w.InputTokens, w.OutputTokens, w.RPS, meas["mean_ttft_ms"], e.TTFT.Mean, meas["mean_itl_ms"], e.ITL.Mean, meas["output_throughput_tokens_per_s"], e.OutputTokensPerS, e.Saturated, e.RunningBatch)
	}
}
