package perf

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gpuplan/gpuplan/internal/ggufwrite"
	"github.com/gpuplan/gpuplan/internal/golden"
	"github.com/gpuplan/gpuplan/internal/ollamatest"
	"github.com/gpuplan/gpuplan/model/gguf"
	"github.com/gpuplan/gpuplan/probe"
	"github.com/gpuplan/gpuplan/stats"
)

var updateCPUMeasured = flag.Bool("update-cpu-measured", false, "rewrite docs/accuracy.md's table of predicted vs measured Ollama speed on this machine")

// ollamaSpeedShapes are the shapes whose Ollama speed is predicted on this
// machine: small enough for a shared 2-core CI host.
var ollamaSpeedShapes = []struct {
	name, typ string
	shape     ggufwrite.Shape
}{
	{"llama-256x4-f16", "F16", ggufwrite.Shape{Arch: "llama", Layers: 4, Hidden: 256, FFN: 768, Heads: 4, KVHeads: 4, Vocab: 2000}},
	{"llama-512x4-q8_0", "Q8_0", ggufwrite.Shape{Arch: "llama", Layers: 4, Hidden: 512, FFN: 1536, Heads: 8, KVHeads: 2, Vocab: 4000}},
	{"llama-1024x4-q4_0", "Q4_0", ggufwrite.Shape{Arch: "llama", Layers: 4, Hidden: 1024, FFN: 2816, Heads: 16, KVHeads: 4, Vocab: 8000}},
	{"qwen2-896x4-q8_0", "Q8_0", ggufwrite.Shape{Arch: "qwen2", Layers: 4, Hidden: 896, FFN: 4864, Heads: 14, KVHeads: 2, Vocab: 8000, Tied: true}},
	{"llama-768x6-q4_k", "Q4_K", ggufwrite.Shape{Arch: "llama", Layers: 6, Hidden: 768, FFN: 2048, Heads: 12, KVHeads: 4, Vocab: 4000}},
	{"llama-1536x2-q6_k", "Q6_K", ggufwrite.Shape{Arch: "llama", Layers: 2, Hidden: 1536, FFN: 4096, Heads: 12, KVHeads: 2, Vocab: 8000}},
}

// TestCPUSpeedOnThisMachine probes this machine, runs each shape in a real
// Ollama, and compares its prompt and generation tokens/s (from
// /api/generate's counts and durations) with EstimateCPU on the probed
// figures. It asserts only a loose 0.5×–2× (CI hosts are shared and
// noisy); -update-cpu-measured writes the table to docs/accuracy.md.
func TestCPUSpeedOnThisMachine(t *testing.T) {
	// Under `go test ./...` other packages' tests share the cores, and a
	// probe taken then read 0.15-1.4 instead of ~3.7 GFLOP/s/core while
	// Ollama itself ran near full speed, so the ratio measured the load, not
	// the model. .ci/run sets this variable for the README command and then
	// runs this test alone in its own step.
	if os.Getenv("GPUPLAN_CPU_SPEED_ALONE") == "later" {
		t.Skip("GPUPLAN_CPU_SPEED_ALONE=later: .ci/run runs this test in its own step on an otherwise idle host")
	}
	bin := ollamatest.Require(t)
	host := probe.Run("this-machine", probe.Options{BufferBytes: 256 << 20, Passes: 3}, time.Now())
	t.Logf("probe: %d cores, %.1f GB/s, %.2f GFLOP/s/core, %s", host.Cores, host.BandwidthGBPerS, host.MatrixGFLOPSPerCore, host.CPUModel)
	// One thread: on a shared CI host, llama.cpp's threads spin-wait on
	// each other after every graph node and an oversubscribed machine
	// turns that into scheduler delays that no model of the hardware
	// predicts. Ollama's num_thread sets llama.cpp's --threads.
	const threads = 1
	tgt := CPUTarget{Name: host.Name, Cores: threads, BandwidthGBPerS: host.BandwidthGBPerS,
		Speed: CPUSpeed{CPU: host.Name, BandwidthEfficiency: 1, DecodeGFLOPSPerCore: host.MatrixGFLOPSPerCore, PrefillGFLOPSPerCore: host.MatrixGFLOPSPerCore, Basis: "probe"}}
	start := time.Now()
	srv := ollamatest.Start(t, bin, ollamatest.Options{Parallel: 1})
	dir := t.TempDir()
	prompt := strings.Repeat("The quick brown fox jumps over the lazy dog. ", 8)
	var rows []string
	var ppErr, tgErr, ppRatio, tgRatio []float64
	type measured struct {
		name   string
		bytes  float64
		pp, tg float64
		w      CPUWorkload
	}
	var runs []measured
	for _, c := range ollamaSpeedShapes {
		s := c.shape
		ty, _ := gguf.TypeByName(c.typ)
		s.Type, s.Name = ty, c.name
		path := filepath.Join(dir, c.name+".gguf")
		if _, err := ggufwrite.Write(path, s); err != nil {
			t.Fatal(err)
		}
		f, err := gguf.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		all, _ := f.Totals()
		srv.Create(t, c.name, path, 1024)
		opts := map[string]any{"num_predict": 16, "num_thread": threads}
		if time.Since(start) > 4*time.Minute {
			t.Logf("stopping after %d shapes: the 4-minute budget of this test is spent (a loaded host)", len(runs))
			break
		}
		srv.Generate(t, c.name, "warm up", map[string]any{"num_predict": 2, "num_thread": threads})
		// Best of two runs with distinct prompts (no prompt-cache hits):
		// a shared host only ever slows a run down.
		var g ollamatest.GenerateResult
		var measPP, measTG float64
		for rep := 0; rep < 2; rep++ {
			g = srv.Generate(t, c.name, fmt.Sprintf("%d. %s", rep, prompt), opts)
			if g.PromptEvalCount < 8 || g.EvalCount < 8 || g.PromptEvalDuration <= 0 || g.EvalDuration <= 0 {
				t.Fatalf("%s: Ollama reported %+v", c.name, g)
			}
			measPP = max(measPP, float64(g.PromptEvalCount)/(float64(g.PromptEvalDuration)/1e9))
			measTG = max(measTG, float64(g.EvalCount)/(float64(g.EvalDuration)/1e9))
		}
		srv.Unload(c.name)
		os.Remove(path)
		kv := float64(s.Layers * s.KVHeads * (s.Hidden / s.Heads) * 2 * 2)
		runs = append(runs, measured{name: c.name, bytes: float64(all.Bytes), pp: measPP, tg: measTG,
			w: CPUWorkload{WeightBytes: float64(all.Bytes), Params: float64(all.Elements), KVBytesPerToken: kv,
				InputTokens: g.PromptEvalCount, OutputTokens: g.EvalCount, Concurrency: 1}})
	}
	// Probe again and keep the faster figures: `go test ./...` runs other
	// packages beside this one at first, and a probe taken while they run
	// reads the machine as slower than Ollama later finds it (best of
	// both, as the Ollama runs are best of two).
	again := probe.Run("this-machine", probe.Options{BufferBytes: 256 << 20, Passes: 3}, time.Now())
	t.Logf("probe again: %.1f GB/s, %.2f GFLOP/s/core", again.BandwidthGBPerS, again.MatrixGFLOPSPerCore)
	host.BandwidthGBPerS = max(host.BandwidthGBPerS, again.BandwidthGBPerS)
	host.MatrixGFLOPSPerCore = max(host.MatrixGFLOPSPerCore, again.MatrixGFLOPSPerCore)
	tgt.BandwidthGBPerS = host.BandwidthGBPerS
	tgt.Speed.DecodeGFLOPSPerCore, tgt.Speed.PrefillGFLOPSPerCore = host.MatrixGFLOPSPerCore, host.MatrixGFLOPSPerCore
	for _, m := range runs {
		e, err := EstimateCPU(tgt, m.w)
		if err != nil {
			t.Fatal(err)
		}
		rpp, rtg := e.PrefillTokensPerS/m.pp, e.DecodeTokensPerS/m.tg
		ppErr, tgErr = append(ppErr, cpuRelErr(e.PrefillTokensPerS, m.pp)), append(tgErr, cpuRelErr(e.DecodeTokensPerS, m.tg))
		t.Logf("%s: prompt %.0f predicted / %.0f measured tok/s; generation %.1f / %.1f tok/s", m.name, e.PrefillTokensPerS, m.pp, e.DecodeTokensPerS, m.tg)
		rows = append(rows, fmt.Sprintf("| %s | %.1f | %.0f / %.0f (%.2f×) | %.1f / %.1f (%.2f×) |", m.name, m.bytes/1e6, e.PrefillTokensPerS, m.pp, rpp, e.DecodeTokensPerS, m.tg, rtg))
		ppRatio, tgRatio = append(ppRatio, rpp), append(tgRatio, rtg)
	}
	if len(ppRatio) < 3 {
		t.Fatalf("only %d shapes measured within the time budget", len(ppRatio))
	}
	// The loose gate of the issue, on the median over shapes: single shapes
	// can be far off (a neighbour on a shared host; the portable ggml build's
	// dot kernels differ by type, e.g. Q8_0 faster than the probe's rate).
	for _, r := range []struct {
		what string
		m    float64
	}{{"prompt", stats.Median(ppRatio)}, {"generation", stats.Median(tgRatio)}} {
		if r.m < 0.5 || r.m > 2 {
			t.Errorf("median predicted/measured %s speed %.2f×, allowed 0.5×–2×", r.what, r.m)
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Ollama v%s (`go install`, CPU) on the machine that ran the test, probed first: %s, %d cores, %.1f GB/s read, %.2f GFLOP/s per core (portable kernel), predicted for one thread. Predicted / measured tokens/s from `/api/generate` (a 90-byte-token prompt, 16 generated, best of two, num_thread 1).\n\n", ollamatest.Version, host.CPUModel, host.Cores, host.BandwidthGBPerS, host.MatrixGFLOPSPerCore)
	b.WriteString("| shape | weights MB | prompt tok/s | generation tok/s |\n|---|---|---|---|\n")
	b.WriteString(strings.Join(rows, "\n") + "\n")
	fmt.Fprintf(&b, "\nMedian error: prompt %.0f%%, generation %.0f%%.\n", 100*stats.Median(ppErr), 100*stats.Median(tgErr))
	t.Log("\n" + b.String())
	if *updateCPUMeasured {
		golden.Section(t, "../docs/accuracy.md", "cpu-speed-local", b.String(), true)
	}
}
