package deploy

import (
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/gpuplan/gpuplan/plan"
)

// Engine flags of the MoE layouts and speculative decoding, per engine.
// vLLM (docs/serving/data_parallel_deployment and expert_parallel_deployment,
// features/spec_decode): DP attention is --data-parallel-size N with
// --tensor-parallel-size 1 (each DP rank runs attention on its own
// requests), --enable-expert-parallel splits the experts over all TP × DP
// ranks, and --speculative-config takes {"method", "model",
// "num_speculative_tokens"}. SGLang (server_args.py): --tp-size N with
// --enable-dp-attention --dp-size N, --ep-size, and
// --speculative-algorithm EAGLE|NEXTN with --speculative-num-steps K,
// --speculative-eagle-topk 1 and --speculative-num-draft-tokens K + 1.

// vllmParallelArgs returns vLLM's tensor-, data- and expert-parallel flags
// for a plan, or an explanation when vLLM cannot express the layout.
func vllmParallelArgs(e plan.Engine) ([]string, error) {
	tp := e.TP
	var out []string
	if e.DPAttention {
		out = append(out, "--tensor-parallel-size", "1", "--data-parallel-size", strconv.Itoa(tp))
	} else {
		out = append(out, "--tensor-parallel-size", strconv.Itoa(tp))
	}
	if ep := e.ExpertParallelSize; ep > 1 {
		if ep != tp {
			return nil, fmt.Errorf("vLLM's --enable-expert-parallel spreads the experts over all %d GPUs of the group; expert-parallel size %d is not expressible (re-plan with --ep %d or 1)", tp, ep, tp)
		}
		out = append(out, "--enable-expert-parallel")
	}
	return out, nil
}

// vllmSpeculativeArgs returns vLLM's --speculative-config for a plan.
func vllmSpeculativeArgs(s *plan.SpeculativeConfig) ([]string, error) {
	if s == nil {
		return nil, nil
	}
	cfg := map[string]any{"num_speculative_tokens": s.Tokens}
	switch s.Method {
	case "eagle":
		if s.Model == "" {
			return nil, fmt.Errorf("vLLM's EAGLE needs the EAGLE head's model id (--speculative eagle:MODEL)")
		}
		cfg["method"], cfg["model"] = "eagle", s.Model
	case "mtp":
		cfg["method"] = "mtp"
	case "draft":
		return nil, fmt.Errorf("vLLM's V1 engine documents no draft-model speculation for the profiles deploy targets (features/spec_decode, v0.10 onward); use eagle:MODEL or mtp, or serve with SGLang")
	default:
		return nil, fmt.Errorf("unknown speculative method %q", s.Method)
	}
	b, err := json.Marshal(cfg)
	if err != nil {
		return nil, err
	}
	return []string{"--speculative-config", string(b)}, nil
}

// SGLangArgs returns SGLang's flags for a plan's parallel layout and
// speculative decoding (deploy generates vLLM servers; this is the mapping
// for users who run SGLang with the same plan).
func SGLangArgs(e plan.Engine) []string {
	out := []string{"--tp-size", strconv.Itoa(e.TP)}
	if e.PP > 1 {
		out = append(out, "--pp-size", strconv.Itoa(e.PP))
	}
	if e.DPAttention {
		out = append(out, "--enable-dp-attention", "--dp-size", strconv.Itoa(e.TP))
	}
	if e.ExpertParallelSize > 1 {
		out = append(out, "--ep-size", strconv.Itoa(e.ExpertParallelSize))
	}
	if s := e.Speculative; s != nil {
		alg := map[string]string{"eagle": "EAGLE", "mtp": "NEXTN", "draft": "STANDALONE"}[s.Method]
		out = append(out, "--speculative-algorithm", alg)
		if s.Model != "" {
			out = append(out, "--speculative-draft-model-path", s.Model)
		}
		out = append(out, "--speculative-num-steps", strconv.Itoa(s.Tokens), "--speculative-eagle-topk", "1",
			"--speculative-num-draft-tokens", strconv.Itoa(s.Tokens+1))
	}
	return out
}
