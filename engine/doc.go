// Package engine owns what differs between inference engines: one type
// per engine (vllm.go, sglang.go, trtllm.go, llamacpp.go), with versions
// as profiles of their engine ("vllm@0.19", "vllm@0.22", "trtllm@0.17",
// "llamacpp@de4c07f"), in a registry (Register, Lookup, All, Default).
//
// Each engine owns:
//   - its memory accounting (Engine.Account): what it reserves outside the
//     KV cache and how large the cache is — vLLM's profile run with fitted
//     constants, SGLang's static fraction, TensorRT-LLM's free-memory
//     fraction, llama.cpp's cache for context × slots allocated up front;
//   - its scheduler defaults and limits per GPU under its own flag names
//     (Engine.Scheduler, SchedulerFlags);
//   - which precisions it runs natively, weight-only or not at all on
//     which hardware (Profile.Support, from the sourced tables in
//     data/kernels.yaml), and which it can quantize to at load time
//     (Profile.QuantizeAtLoad);
//   - its container image per GPU vendor and host CPU (Profile.Image), its
//     server command (Engine.Serve), port, health and metrics endpoints
//     (Profile.Endpoints), its speed calibration key and the assumption
//     lines its estimates print.
//
// Check is the one compatibility verdict (model × precision × GPU or CPU ×
// engine × parallelism → native, weight-only, unknown or refused with
// typed reasons) that size, perf, plan, deploy and the web page share.
//
// Packages memory, perf, plan, deploy and cost/guide ask an Engine; none
// of them switches on an engine's name. Adding an engine is one file here
// that embeds Profile, implements Account, Scheduler and Serve, and calls
// Register, plus its rows in data/kernels.yaml (docs/contributing.md).
package engine
