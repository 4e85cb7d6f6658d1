// Package perf predicts how fast a model serves on given hardware: time to
// first token, time per output token, inter-token latency, end-to-end
// latency, output tokens per second and requests per second, for a closed
// loop of users (concurrency), an open loop (requests per second) or the
// offline maximum-throughput case that fills the KV pool.
//
// The model is a roofline of one engine iteration (continuous batching):
// the bytes the iteration moves (weights the step touches — for MoE only the
// routed experts the batch reaches — plus every running sequence's KV read)
// against achievable memory bandwidth, its FLOPs (dense matmuls plus the
// quadratic attention term of prefill chunks) against achievable compute,
// two all-reduces per layer over the GPUs' link under tensor parallelism,
// and a fixed per-iteration engine overhead. Memory (weights per GPU, the KV
// pool the engine reserves, how many sequences fit) comes from package
// memory with the engine's profile.
//
// A few efficiency factors per (GPU, engine) scale the datasheet peaks to
// what the engine achieves; they are fitted by Fit on published measurements
// (the TensorRT-LLM v0.17 maximum-throughput tables, data/) and kept in
// fitted.go, where a test refits them and fails when they drift. Every
// Estimate carries an error band taken from the residuals of that fit, wider
// for GPUs or engines without measurements, and the assumptions it made.
// docs/perf.md explains the model, docs/calibration.md the calibration file,
// docs/accuracy.md the measured accuracy.
//
// Report, SimReport, CPUReport and LlamaCPPSizeReport (report.go) are what
// `gpuplan perf` (and `size` on llama.cpp targets) print with -o json and
// the HTTP API answers.
package perf
