package main

import (
	"strconv"
	"strings"
	"testing"

	"github.com/gpuplan/gpuplan/engine"
	"github.com/gpuplan/gpuplan/plan"
	"github.com/gpuplan/gpuplan/units"
)

// standIn is an engine that exists only in this test: adding an engine is
// one type that embeds engine.Profile and implements Account, Scheduler
// and Serve (docs/contributing.md). It reuses vLLM's kernel table rather
// than adding rows to engine/data/kernels.yaml.
type standIn struct{ engine.Profile }

const standInRuntime = 1 * units.GiB

// Account: a fixed runtime reserve; the pool fills what remains of the
// utilization budget.
func (s *standIn) Account(in engine.MemoryInput) engine.MemoryAccount {
	a := engine.MemoryAccount{
		Requested: units.Bytes(float64(in.CUDAMemory) * in.Utilization),
		NonTorch:  standInRuntime, OverheadLabel: "stand-in runtime", ActivationLabel: "none",
	}
	a.NonKV = in.WeightsPerGPU + a.NonTorch
	a.KVPool = a.Requested - a.NonKV
	a.KVRoom = a.KVPool
	a.Notes = []string{"stand-in memory: pool = 0.8 × memory − weights − 1 GiB"}
	return a
}

func (s *standIn) Scheduler(engine.SchedulerInput) engine.Scheduler {
	return engine.Scheduler{MaxSeqs: 64, MaxTokens: 4096, Flags: s.Flags, Note: "stand-in limits"}
}

func (s *standIn) Serve(c engine.ServeConfig) (engine.Command, error) {
	return engine.Command{Command: []string{"standin-server"},
		Args: []string{"--model", c.Model, "--port", strconv.Itoa(s.Endpoints.Port), "--slots", strconv.Itoa(c.Scheduler.MaxSeqs)}}, nil
}

func registerStandIn(t *testing.T) {
	t.Helper()
	engine.Register(&standIn{Profile: engine.Profile{
		EngineName: "standin", EngineVersion: "1", DisplayName: "StandIn", Summary: "test-only engine",
		DefaultUtilization: 0.8, BlockSize: 8, Kernels: "vllm",
		Images:    map[string]string{"nvidia/x86-64": "example.com/standin:1"},
		Endpoints: engine.Endpoints{Port: 9000, Health: "/ready", Metrics: "/stats", QueueMetric: "standin_queue"},
		Flags:     engine.SchedulerFlags{MaxSeqs: "slots", MaxSeqsFlag: "--slots", MaxTokens: "step_tokens", MaxTokensFlag: "--step-tokens"},
	}})
	t.Cleanup(func() { engine.Unregister("standin@1") })
}

// TestStandInEngine runs size, perf, plan and deploy through an engine
// registered here: no package outside engine knows its name.
func TestStandInEngine(t *testing.T) {
	registerStandIn(t)

	var b struct {
		Scheduler   map[string]int `json:"scheduler"`
		Requested   int64          `json:"requested_bytes"`
		Weights     int64          `json:"weights_bytes_per_gpu"`
		NonTorch    int64          `json:"non_torch_bytes"`
		KVPool      int64          `json:"kv_pool_bytes"`
		Assumptions struct {
			Engine    string `json:"engine"`
			BlockSize int    `json:"block_size_tokens"`
		} `json:"assumptions"`
	}
	runJSON(t, &b, exitOK, "size", "llama-3.1-8b", "--engine", "standin", "--gpu", "h100-sxm", "--context", "8192", "-o", "json")
	h100 := int64(units.FromGiB(79.19))
	if b.Scheduler["slots"] != 64 || b.Scheduler["step_tokens"] != 4096 || len(b.Scheduler) != 2 {
		t.Errorf("scheduler %v, want the stand-in's own names", b.Scheduler)
	}
	if b.Requested != int64(float64(h100)*0.8) || b.NonTorch != int64(standInRuntime) || b.KVPool != b.Requested-b.Weights-b.NonTorch {
		t.Errorf("budget requested %d, non-torch %d, pool %d: not the stand-in's account", b.Requested, b.NonTorch, b.KVPool)
	}
	if b.Assumptions.Engine != "standin" || b.Assumptions.BlockSize != 8 {
		t.Errorf("assumptions %+v", b.Assumptions)
	}

	out, errOut, code := run(t, "perf", "llama-3.1-8b", "--engine", "standin", "--gpu", "h100-sxm", "--input-tokens", "1000", "--output-tokens", "200", "--concurrency", "8")
	if code != exitOK || !strings.Contains(out, "standin@1") || !strings.Contains(out, "stand-in limits") {
		t.Errorf("perf: exit %d, %s\n%s", code, errOut, out)
	}

	var res plan.Report
	runJSON(t, &res, exitOK, "plan", "llama-3.1-8b", "--engine", "standin", "--input-tokens", "1000", "--output-tokens", "200", "--concurrency", "8", "-o", "json")
	if len(res.Rows) == 0 {
		t.Fatal("plan: no rows")
	}
	for _, r := range res.Rows {
		e := r.Candidate.Engine
		if e.Name != "standin" || e.MaxNumSeqs != 64 {
			t.Errorf("plan row %s: engine %+v", r.Candidate.VM, e)
		}
	}

	out, errOut, code = run(t, "deploy", "llama-3.1-8b", "--vm", "Standard_NC24ads_A100_v4", "--engine", "standin",
		"--input-tokens", "1000", "--output-tokens", "200", "--context", "4096", "--target", "aks", "--stdout")
	if code != exitOK {
		t.Fatalf("deploy: exit %d: %s", code, errOut)
	}
	for _, want := range []string{"image: example.com/standin:1", "- standin-server", "containerPort: 9000", "path: /ready", "path: /stats", "sum(standin_queue{", "- --slots\n        - \"64\""} {
		if !strings.Contains(out, want) {
			t.Errorf("deploy output lacks %q", want)
		}
	}
	if strings.Contains(out, "vllm") {
		t.Errorf("deploy output for the stand-in mentions vllm")
	}
}
