// Package bench measures a live OpenAI-compatible endpoint (any server that
// speaks the OpenAI chat or completions API, streaming or not, and Azure
// OpenAI deployments) and compares what it measures with what gpuplan
// predicted.
//
// It has two halves:
//
//   - Load and latency (Run): a closed-loop concurrency sweep or an open-loop
//     Poisson arrival process, with warm-up, bounded by request count and by
//     duration. Per load level it reports TTFT, TPOT, ITL and end-to-end
//     latency in the shared latency object (Latency), output tokens/s,
//     requests/s, goodput under SLOs, and errors by class. The metric
//     definitions follow `vllm bench serve` (vllm/benchmarks/serve.py,
//     calculate_metrics, and vllm/benchmarks/lib/endpoint_request_func.py)
//     except where docs/bench.md says otherwise.
//   - Quality gate (RunQuality): the same prompts at temperature 0 to a
//     baseline and a candidate (typically a quantized variant), accuracy of
//     each, agreement, and the paired difference with Newcombe's
//     square-and-add interval; the gate fails when the one-sided 95% upper
//     bound on the accuracy drop exceeds a threshold.
//
// Measured results can be set next to a Prediction (from a plan) and written
// as calibration points (perf.Point, the type perf owns and reads) for the perf
// package to fit.
package bench
