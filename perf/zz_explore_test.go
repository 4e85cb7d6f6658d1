package perf

import (
	"fmt"
	"math"
	"os"
	"sort"
	"testing"

	"github.com/gpuplan/gpuplan/hardware"
	"github.com/gpuplan/gpuplan/model"
)

func TestExplore(t *testing.T) {
	if v := os.Getenv("MAXOV"); v != "" {
		fmt.Sscan(v, &maxOvhdMS)
	}
	cat, _ := model.EmbeddedCatalog()
	opt := FitOptions{Model: func(id string) (*model.Spec, error) { s, _, err := cat.Lookup(id); return s, err }, GPU: hardware.LookupGPU}
	res, err := Fit(Embedded().Points, opt)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range res.Skipped {
		t.Log("skip", s)
	}
	for _, g := range res.GPUFactors {
		t.Logf("%+v", g)
	}
	for _, e := range res.EngineFactors {
		t.Logf("%+v", e)
	}
	var abs []float64
	by := map[string][]float64{}
	for _, r := range res.Residuals {
		abs = append(abs, math.Abs(r.ErrorPct))
		k := r.Point.GPU
		by[k] = append(by[k], math.Abs(r.ErrorPct))
		by[r.Point.Model] = append(by[r.Point.Model], math.Abs(r.ErrorPct))
		fmt.Printf("%-14s %-28s tp%d %5d/%-5d meas %9.1f pred %9.1f err %+6.1f%% %s B=%.0f\n", r.Point.GPU, r.Point.Model, r.Point.TP, r.Point.InputTokens, r.Point.OutputTokens, r.Measured, r.Predicted, r.ErrorPct, r.Bottleneck, r.Batch)
	}
	sort.Float64s(abs)
	t.Logf("n=%d median %.1f p90 %.1f max %.1f", len(abs), median(append([]float64(nil), abs...)), percentile(append([]float64(nil), abs...), 90), abs[len(abs)-1])
	for k, v := range by {
		t.Logf("%s median %.1f", k, median(v))
	}
}
