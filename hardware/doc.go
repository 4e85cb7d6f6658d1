// Package hardware is gpuplan's knowledge of accelerators and what they
// cost: GPU chips (memory as the datasheet states it and as CUDA reports it,
// bandwidth, dense TFLOPS per math type, interconnect, which precisions run
// natively), Azure VM sizes (GPU count, vCPU, RAM, InfiniBand, AKS/KAITO/
// Container Apps support, retirement), Container Apps GPU workload profiles,
// and a dated price book that can be refreshed from the Azure Retail Prices
// API into the user cache.
//
// All data is embedded (data/*.yaml) and every entry carries a source (a URL
// or a key of data/sources.yaml) and an as_of date. Values no source states
// are left unknown (zero, empty or absent) rather than guessed; users supply
// them with --catalog (see docs/hardware.md and Catalog.Merge).
//
// Units: memory is units.Bytes; bandwidths are bytes per second
// (JSON keys end in _bytes_per_s); compute is dense TFLOPS (10^12 operations
// per second, no 2:4 sparsity), keyed by math type under "dense_tflops";
// prices are per hour, in the price's currency (USD for the embedded book).
//
// GPUsReport, GPUDetailReport and PricesReport (report.go) are what `gpuplan
// gpus` and `gpuplan prices` print with -o json and the HTTP API answers.
package hardware
