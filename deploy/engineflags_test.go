package deploy

import (
	"reflect"
	"strings"
	"testing"

	"github.com/gpuplan/gpuplan/plan"
)

// TestEngineFlags maps MoE layouts and speculative decoding to the flags
// vLLM's and SGLang's docs name.
func TestEngineFlags(t *testing.T) {
	eagle := &plan.SpeculativeConfig{Method: "eagle", Model: "yuhuili/EAGLE-LLaMA3.1-Instruct-8B", Tokens: 3, AcceptanceRate: 0.7}
	mtp := &plan.SpeculativeConfig{Method: "mtp", Tokens: 1}
	tests := []struct {
		name   string
		e      plan.Engine
		vllm   []string
		sglang []string
		err    string
	}{
		{"tp only", plan.Engine{TP: 8, PP: 1}, []string{"--tensor-parallel-size", "8"}, []string{"--tp-size", "8"}, ""},
		{"dp attention + ep", plan.Engine{TP: 8, PP: 1, ExpertParallelSize: 8, DPAttention: true},
			[]string{"--tensor-parallel-size", "1", "--data-parallel-size", "8", "--enable-expert-parallel"},
			[]string{"--tp-size", "8", "--enable-dp-attention", "--dp-size", "8", "--ep-size", "8"}, ""},
		{"partial ep", plan.Engine{TP: 8, PP: 1, ExpertParallelSize: 4}, nil, []string{"--tp-size", "8", "--ep-size", "4"}, "not expressible"},
	}
	for _, tc := range tests {
		got, err := vllmParallelArgs(tc.e)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%s: err %v, want %q", tc.name, err, tc.err)
			}
		} else if err != nil || !reflect.DeepEqual(got, tc.vllm) {
			t.Errorf("%s: vLLM %q, %v; want %q", tc.name, got, err, tc.vllm)
		}
		if got := SGLangArgs(tc.e); !reflect.DeepEqual(got, tc.sglang) {
			t.Errorf("%s: SGLang %q, want %q", tc.name, got, tc.sglang)
		}
	}
	got, err := vllmSpeculativeArgs(eagle)
	want := []string{"--speculative-config", `{"method":"eagle","model":"yuhuili/EAGLE-LLaMA3.1-Instruct-8B","num_speculative_tokens":3}`}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("EAGLE: %q, %v; want %q", got, err, want)
	}
	got, _ = vllmSpeculativeArgs(mtp)
	if want := []string{"--speculative-config", `{"method":"mtp","num_speculative_tokens":1}`}; !reflect.DeepEqual(got, want) {
		t.Errorf("MTP: %q, want %q", got, want)
	}
	if _, err := vllmSpeculativeArgs(&plan.SpeculativeConfig{Method: "draft", Model: "x/y", Tokens: 2}); err == nil {
		t.Error("draft-model speculation on vLLM: no explanation")
	}
	sg := SGLangArgs(plan.Engine{TP: 8, PP: 1, Speculative: mtp})
	if want := []string{"--tp-size", "8", "--speculative-algorithm", "NEXTN", "--speculative-num-steps", "1", "--speculative-eagle-topk", "1", "--speculative-num-draft-tokens", "2"}; !reflect.DeepEqual(sg, want) {
		t.Errorf("SGLang MTP: %q, want %q", sg, want)
	}
}
