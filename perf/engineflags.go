package perf

import (
	"strconv"

	"github.com/gpuplan/gpuplan/memory"
)

// SchedulerArgs maps the scheduler knobs perf models (Request.MaxNumSeqs,
// Request.MaxNumBatchedTokens, a prefix cache for Workload.CacheRate > 0)
// to an engine's own launch flags. Zero values emit nothing (the engine's
// default). It is the one place that knows these flag names until the
// engine types own them.
//
//   - vLLM (`vllm serve`): --max-num-seqs, --max-num-batched-tokens,
//     --enable-prefix-caching (on by default in the V1 engine; emitted so
//     the plan's assumption is visible);
//   - SGLang (`sglang.launch_server`): --max-running-requests,
//     --chunked-prefill-size; its radix (prefix) cache is on unless
//     --disable-radix-cache, so nothing is emitted for it;
//   - TensorRT-LLM (`trtllm-serve`): --max_batch_size, --max_num_tokens;
//     KV block reuse is a kv_cache_config setting, not a flag;
//   - llama.cpp (`llama-server`): --parallel (slots), --ubatch-size; it
//     caches each slot's prompt by default.
func SchedulerArgs(engine memory.Engine, maxNumSeqs, maxNumBatchedTokens int, prefixCaching bool) []string {
	var seqs, tokens, cache string
	switch engine {
	case memory.SGLang:
		seqs, tokens = "--max-running-requests", "--chunked-prefill-size"
	case memory.TRTLLM:
		seqs, tokens = "--max_batch_size", "--max_num_tokens"
	case memory.LlamaCPP:
		seqs, tokens = "--parallel", "--ubatch-size"
	default:
		seqs, tokens = "--max-num-seqs", "--max-num-batched-tokens"
		if prefixCaching {
			cache = "--enable-prefix-caching"
		}
	}
	var out []string
	if maxNumSeqs > 0 {
		out = append(out, seqs, strconv.Itoa(maxNumSeqs))
	}
	if maxNumBatchedTokens > 0 {
		out = append(out, tokens, strconv.Itoa(maxNumBatchedTokens))
	}
	if cache != "" {
		out = append(out, cache)
	}
	return out
}
