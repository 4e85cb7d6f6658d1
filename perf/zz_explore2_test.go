package perf

import (
	"fmt"
	"os"
	"testing"

	"github.com/gpuplan/gpuplan/hardware"
	"github.com/gpuplan/gpuplan/model"
)

// prints per-row components under given factors
func TestExplore2(t *testing.T) {
	cat, _ := model.EmbeddedCatalog()
	opt := FitOptions{Model: func(id string) (*model.Spec, error) { s, _, err := cat.Lookup(id); return s, err }, GPU: hardware.LookupGPU}
	res, _ := Fit(Embedded().Points, opt)
	cal := res.Calibration(nil, "")
	for _, p := range Embedded().Points {
		if g := os.Getenv("G"); g != "" && p.GPU != g {
			continue
		}
		fp, err := preparePoint(p, opt)
		if err != nil {
			t.Fatal(err)
		}
		f, _ := cal.resolve(p.GPU, "trtllm", "0.17")
		d := fp.dep
		rt := d.rates(f)
		s := d.steady(rt, d.capacity)
		e := d.solve(f, fp.w)
		measIter := s.r * float64(d.osl) / p.OutputTokensPerS * 1e3 // ms per iteration implied
		st := s.tm
		fmt.Printf("%-8s %-12s tp%d %5d/%-5d B=%5.0f dec=%6.1f pre=%7.0f q=%5.2f iter pred %7.2f meas %7.2f  mem %6.2f comp %6.2f comm %6.2f ovh %5.2f | err %+5.1f%% \n", p.GPU[:4], p.Model[len(p.Model)-12:], p.TP, p.InputTokens, p.OutputTokens, s.b, s.dec, s.pre, s.q, s.tbar*1e3, measIter, st.mem*1e3, st.compute*1e3, st.comm*1e3, st.overhead*1e3, (e.OutputTokensPerS-p.OutputTokensPerS)/p.OutputTokensPerS*100)
	}
}
