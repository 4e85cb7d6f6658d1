#!/usr/bin/env bash
# Prints predicted vs measured prompt and generation tokens/s for six model
# shapes in a real Ollama v0.9.0 on this machine, after probing it
# (perf.TestCPUSpeedOnThisMachine). Needs $(go env GOPATH)/bin/ollama
# (go install github.com/ollama/ollama@v0.9.0). Pass -update-cpu-measured
# to record the table in docs/accuracy.md.
set -euo pipefail
cd "$(dirname "$0")/.."
go test -count=1 -timeout 15m -run '^TestCPUSpeedOnThisMachine$' -v ./perf "$@"
