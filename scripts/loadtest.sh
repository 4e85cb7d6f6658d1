#!/usr/bin/env bash
# Load test of `gpuplan serve` (docs/server.md, "Load test"): builds the
# binary, serves it on a free loopback port, runs scripts/loadtest (mixed
# size/perf/plan requests, 15 s warm-up, then 2 minutes by default) and
# stops the server. Loopback only; bounded in time and clients.
# Usage: scripts/loadtest.sh [duration] [clients], e.g. scripts/loadtest.sh 2m 16
set -euo pipefail
cd "$(dirname "$0")/.."
duration="${1:-2m}"
clients="${2:-16}"
tmp="$(mktemp -d)"
trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$tmp"' EXIT
go build -o "$tmp/gpuplan" ./cmd/gpuplan
go build -o "$tmp/loadtest" ./scripts/loadtest
GPUPLAN_CACHE_DIR="$tmp/cache" "$tmp/gpuplan" serve --addr 127.0.0.1:0 --offline 2>"$tmp/serve.log" &
pid=$!
addr=""
for _ in $(seq 1 100); do
  addr="$(sed -n 's|.*serving http://\([^/]*\)/.*|\1|p' "$tmp/serve.log" | head -1)"
  [[ -n "$addr" ]] && break
  sleep 0.1
done
[[ -n "$addr" ]] || { echo "the server did not start:" >&2; cat "$tmp/serve.log" >&2; exit 1; }
echo "# $(go version) nproc=$(nproc) load=$(cut -d' ' -f1-3 /proc/loadavg) server=$addr pid=$pid"
"$tmp/loadtest" -addr "$addr" -pid "$pid" -duration "$duration" -clients "$clients"
