package perf

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"strings"
	"testing"

	"github.com/gpuplan/gpuplan/hardware"
	"github.com/gpuplan/gpuplan/stats"
)

// multiVMRow is a record of testdata/multivm-vllm-nd-h100.json.
type multiVMRow struct {
	Config        string  `json:"config"`
	Model         string  `json:"model"`
	GPU           string  `json:"gpu"`
	VM            string  `json:"vm"`
	VMs           int     `json:"vms"`
	TP            int     `json:"tp"`
	PP            int     `json:"pp"`
	EP            int     `json:"ep"`
	DPAttention   bool    `json:"dp_attention"`
	Precision     string  `json:"precision"`
	Engine        string  `json:"engine"`
	EngineVersion string  `json:"engine_version"`
	Input         int     `json:"input_tokens"`
	Output        int     `json:"output_tokens"`
	Concurrency   int     `json:"concurrency"`
	PerUser       float64 `json:"per_user_output_tokens_per_s"`
	E2ES          float64 `json:"e2e_s"`
	TTFTMs        float64 `json:"ttft_ms"`
	TPOTMs        float64 `json:"tpot_ms"`
	Source        string  `json:"source"`
}

type multiVMResult struct {
	r                multiVMRow
	perUser, ttft    float64 // predicted
	errUser, errTTFT float64 // (pred − meas) / meas
}

func predictMultiVM(t *testing.T) []multiVMResult {
	return predictRows(t, "testdata/multivm-vllm-nd-h100.json")
}

// predictRows predicts every record of a testdata file of public serving
// runs (multiVMRow's fields); an empty vm means one NVLink domain.
func predictRows(t *testing.T, path string) []multiVMResult {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Records []multiVMRow `json:"records"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	var out []multiVMResult
	for _, r := range doc.Records {
		var fab *hardware.Fabric
		perVM := 0
		if r.VM != "" {
			f, ok := hardware.LookupFabric(r.VM)
			if !ok {
				t.Fatalf("%s: no fabric", r.VM)
			}
			fab, perVM = &f, 8
		}
		e := mustPredict(t, Request{Model: spec(t, r.Model), Precision: precision(t, r.Precision), GPU: gpu(t, r.GPU), TP: r.TP, PP: r.PP,
			EP: r.EP, DPAttention: r.DPAttention,
			Engine: profile(t, r.Engine), Fabric: fab, GPUsPerVM: perVM,
			Workload: Workload{InputTokens: r.Input, OutputTokens: r.Output, Concurrency: r.Concurrency}})
		perUser := float64(r.Output) / (e.E2E.Mean / 1e3)
		out = append(out, multiVMResult{r: r, perUser: perUser, ttft: e.TTFT.Mean,
			errUser: perUser/r.PerUser - 1, errTTFT: e.TTFT.Mean/r.TTFTMs - 1})
	}
	return out
}

// moeRowsPath holds public SGLang runs of MoE models: DeepSeek-R1 across
// two H100 nodes and inside one H200 node, and gpt-oss-120b with DP
// attention and EP on B200 (its description says what each row states
// and what we assumed).
const moeRowsPath = "testdata/moe-sglang-public.json"

// TestMultiVMAccuracy gates every row across VMs: median |error| of the
// output tokens/s per user at most 25% (issue 15's goal). The vLLM rows
// are in sample (the two cross-VM engine constants of collective.go come
// from them); the SGLang DeepSeek-R1 rows are held out by model, engine
// and site.
func TestMultiVMAccuracy(t *testing.T) {
	var errs []float64
	for _, x := range append(predictMultiVM(t), predictRows(t, moeRowsPath)...) {
		t.Logf("%s tp%d pp%d on %d VM(s): %.1f tok/s predicted, %.1f measured (%+.0f%%); TTFT %.1f / %.1f ms", x.r.Config, x.r.TP, x.r.PP, x.r.VMs, x.perUser, x.r.PerUser, x.errUser*100, x.ttft, x.r.TTFTMs)
		if x.r.VMs > 1 {
			errs = append(errs, math.Abs(x.errUser)*100)
		}
	}
	if len(errs) == 0 {
		t.Fatal("no multi-VM rows")
	}
	if len(errs) < 5 {
		t.Errorf("%d multi-VM rows, issue 15 asks for at least 5", len(errs))
	}
	if m := stats.Median(errs); m > 25 {
		t.Errorf("multi-VM median |error| %.1f%% > 25%%", m)
	}
}

// multiVMSection is docs/accuracy.md's table of the ND H100 v5 rows.
func multiVMSection(t *testing.T) string {
	var b strings.Builder
	res := predictMultiVM(t)
	var one, multi []float64
	b.WriteString("| config | VMs | TP × PP | tok/s per user meas / pred | error | TTFT ms meas / pred | error |\n|---|---|---|---|---|---|---|\n")
	for _, x := range res {
		fmt.Fprintf(&b, "| [%s](%s) | %d | %d × %d | %.1f / %.1f | %+.1f%% | %.1f / %.1f | %+.1f%% |\n", x.r.Config, x.r.Source, x.r.VMs, x.r.TP, x.r.PP,
			x.r.PerUser, x.perUser, x.errUser*100, x.r.TTFTMs, x.ttft, x.errTTFT*100)
		if x.r.VMs > 1 {
			multi = append(multi, math.Abs(x.errUser)*100)
		} else {
			one = append(one, math.Abs(x.errUser)*100)
		}
	}
	fmt.Fprintf(&b, "\n**Across VMs (n = %d, in sample: the cross-VM constants come from these runs): median |error| of tokens/s per user %.1f%%; the same runs inside one VM (n = %d, held out: nothing was fitted on them): %.1f%%.**\n",
		len(multi), stats.Median(multi), len(one), stats.Median(one))
	return b.String()
}

// moeSection is docs/accuracy.md's table of the public SGLang MoE rows:
// nothing is fitted on them, so every error is held out (by model for the
// cross-VM constants, by everything for the rest).
func moeSection(t *testing.T) string {
	var b strings.Builder
	b.WriteString("| run | model | GPU | VMs | TP | EP | DP attn | input/output | users | tok/s per user meas / pred | error | TTFT ms meas / pred |\n|---|---|---|---|---|---|---|---|---|---|---|---|\n")
	for _, x := range predictRows(t, moeRowsPath) {
		ttft := "not stated"
		if x.r.TTFTMs > 0 {
			ttft = fmt.Sprintf("%.0f / %.0f", x.r.TTFTMs, x.ttft)
		}
		dp := "no"
		if x.r.DPAttention {
			dp = "yes"
		}
		fmt.Fprintf(&b, "| [%s](%s) | %s | %s | %d | %d | %d | %s | %d/%d | %d | %.1f / %.1f | %+.1f%% | %s |\n", x.r.Config, x.r.Source,
			strings.TrimPrefix(strings.TrimPrefix(x.r.Model, "deepseek-ai/"), "openai/"), x.r.GPU, x.r.VMs, x.r.TP, max(x.r.EP, 1), dp,
			x.r.Input, x.r.Output, x.r.Concurrency, x.r.PerUser, x.perUser, x.errUser*100, ttft)
	}
	return b.String()
}

// moeSubsets is the breakdown table's lines for the rows across VMs and
// the MoE rows with and without EP/DP attention, in the table's columns.
// In sample means every row as predicted; held out by model keeps the rows
// of models no constant was fitted on (for the multi-VM line, the SGLang
// DeepSeek-R1 runs; the MoE rows are all held out).
func moeSubsets(t *testing.T) [][2][]float64 {
	vllm, moe := predictMultiVM(t), predictRows(t, moeRowsPath)
	var multi, moeTP, moeEP [2][]float64
	for _, x := range vllm {
		if x.r.VMs > 1 {
			multi[0] = append(multi[0], x.errUser*100)
		}
	}
	for _, x := range moe {
		e := x.errUser * 100
		if x.r.VMs > 1 {
			multi[0] = append(multi[0], e)
			multi[1] = append(multi[1], e)
		}
		if x.r.EP > 1 || x.r.DPAttention {
			moeEP[0], moeEP[1] = append(moeEP[0], e), append(moeEP[1], e)
		} else {
			moeTP[0], moeTP[1] = append(moeTP[0], e), append(moeTP[1], e)
		}
	}
	return [][2][]float64{multi, moeTP, moeEP}
}
