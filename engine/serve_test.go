package engine

import (
	"reflect"
	"strings"
	"testing"
)

// pick keeps the flags named and their values, in order.
func pick(args []string, names ...string) []string {
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
	}
	var out []string
	for i := 0; i < len(args); i++ {
		if !want[args[i]] {
			continue
		}
		out = append(out, args[i])
		if i+1 < len(args) && !strings.HasPrefix(args[i+1], "--") {
			out = append(out, args[i+1])
			i++
		}
	}
	return out
}

// TestServeLayouts maps MoE layouts and speculative decoding to the flags
// vLLM's and SGLang's docs name; engines without them refuse.
func TestServeLayouts(t *testing.T) {
	vllmFlags := []string{"--tensor-parallel-size", "--data-parallel-size", "--enable-expert-parallel"}
	sglangFlags := []string{"--tp-size", "--enable-dp-attention", "--dp-size", "--ep-size"}
	tests := []struct {
		name         string
		c            ServeConfig
		vllm, sglang []string
		err          string
	}{
		{"tp only", ServeConfig{TP: 8, PP: 1}, []string{"--tensor-parallel-size", "8"}, []string{"--tp-size", "8"}, ""},
		{"dp attention + ep", ServeConfig{TP: 8, PP: 1, ExpertParallel: 8, DPAttention: true},
			[]string{"--tensor-parallel-size", "1", "--data-parallel-size", "8", "--enable-expert-parallel"},
			[]string{"--tp-size", "8", "--enable-dp-attention", "--dp-size", "8", "--ep-size", "8"}, ""},
		{"partial ep", ServeConfig{TP: 8, PP: 1, ExpertParallel: 4}, nil, []string{"--tp-size", "8", "--ep-size", "4"}, "not expressible"},
	}
	for _, tc := range tests {
		cmd, err := lookup(t, "vllm").Serve(tc.c)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%s: err %v, want %q", tc.name, err, tc.err)
			}
		} else if got := pick(cmd.Args, vllmFlags...); err != nil || !reflect.DeepEqual(got, tc.vllm) {
			t.Errorf("%s: vLLM %q, %v; want %q", tc.name, got, err, tc.vllm)
		}
		cmd, err = lookup(t, "sglang").Serve(tc.c)
		if got := pick(cmd.Args, sglangFlags...); err != nil || !reflect.DeepEqual(got, tc.sglang) {
			t.Errorf("%s: SGLang %q, %v; want %q", tc.name, got, err, tc.sglang)
		}
	}
	eagle := &Speculative{Method: "eagle", Model: "yuhuili/EAGLE-LLaMA3.1-Instruct-8B", Tokens: 3}
	cmd, err := lookup(t, "vllm").Serve(ServeConfig{TP: 1, PP: 1, Speculative: eagle})
	want := []string{"--speculative-config", `{"method":"eagle","model":"yuhuili/EAGLE-LLaMA3.1-Instruct-8B","num_speculative_tokens":3}`}
	if got := pick(cmd.Args, "--speculative-config"); err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("EAGLE: %q, %v; want %q", got, err, want)
	}
	cmd, _ = lookup(t, "vllm").Serve(ServeConfig{TP: 1, PP: 1, Speculative: &Speculative{Method: "mtp", Tokens: 1}})
	if got, want := pick(cmd.Args, "--speculative-config"), []string{"--speculative-config", `{"method":"mtp","num_speculative_tokens":1}`}; !reflect.DeepEqual(got, want) {
		t.Errorf("MTP: %q, want %q", got, want)
	}
	if _, err := lookup(t, "vllm").Serve(ServeConfig{TP: 1, PP: 1, Speculative: &Speculative{Method: "draft", Model: "x/y", Tokens: 2}}); err == nil {
		t.Error("draft-model speculation on vLLM: no explanation")
	}
	cmd, _ = lookup(t, "sglang").Serve(ServeConfig{TP: 8, PP: 1, Speculative: &Speculative{Method: "mtp", Tokens: 1}})
	if got, want := pick(cmd.Args, "--speculative-algorithm", "--speculative-num-steps", "--speculative-eagle-topk", "--speculative-num-draft-tokens"),
		[]string{"--speculative-algorithm", "NEXTN", "--speculative-num-steps", "1", "--speculative-eagle-topk", "1", "--speculative-num-draft-tokens", "2"}; !reflect.DeepEqual(got, want) {
		t.Errorf("SGLang MTP: %q, want %q", got, want)
	}
	for _, id := range []string{"trtllm", "llamacpp"} {
		if _, err := lookup(t, id).Serve(ServeConfig{TP: 8, PP: 1, DPAttention: true}); err == nil {
			t.Errorf("%s with DP attention: no refusal", id)
		}
	}
}
