#!/usr/bin/env bash
# Self-benchmark of the `gpuplan bench` harness (docs/bench.md, "How fast is
# the harness"): streamed requests/s it drives against the in-process fake
# server on loopback (in the same process, and in its own process with the
# harness's CPU time per request), its timing error, and the per-event parse
# cost, on two cores. Usage: scripts/bench-harness.sh [benchtime], e.g. 20000x (default).
set -euo pipefail
cd "$(dirname "$0")/.."
bt="${1:-20000x}"
echo "# $(date -u +%Y-%m-%dT%H:%M:%SZ) $(go version) nproc=$(nproc) load=$(cut -d' ' -f1-3 /proc/loadavg)"
GOMAXPROCS=2 go test ./bench/ -run '^$' -cpu 2 -bench 'HarnessStreamed|HarnessExternalServer' -benchtime "$bt" -count 3
GOMAXPROCS=2 go test ./bench/ -run '^$' -cpu 2 -bench 'TimingError' -benchtime 2000x -count 3
GOMAXPROCS=2 go test ./bench/ -run '^$' -cpu 2 -bench 'SSEParse' -benchtime 2s -count 3
