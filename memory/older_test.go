package memory

import (
	"bytes"
	"fmt"
	"regexp"
	"strconv"
	"testing"

	"github.com/gpuplan/gpuplan/internal/golden"
	"github.com/gpuplan/gpuplan/model"
	"github.com/gpuplan/gpuplan/units"
)

// TestOlderRecordsReport predicts the KV pool for the records from other
// vLLM versions and GPUs whose model the catalog knows and whose GPU memory
// the record states or implies. They are reported, not gated: engine
// versions differ from the calibrated profile.
func TestOlderRecordsReport(t *testing.T) {
	cat, err := model.EmbeddedCatalog()
	if err != nil {
		t.Fatal(err)
	}
	gibIn := regexp.MustCompile(`([0-9.]+) ?GiB`)
	var b bytes.Buffer
	b.WriteString("| record | GPU | vLLM | utilization | KV pool GiB measured | predicted (vllm@0.19) | difference GiB |\n|---|---|---|---|---|---|---|\n")
	n := 0
	for _, r := range loadRecords(t) {
		if r.EngineVersion != nil && *r.EngineVersion == "0.19.0" {
			continue
		}
		spec, _, err := cat.Lookup(r.Model)
		if err != nil {
			continue
		}
		measured, _ := r.Measured["available_kv_cache_memory_GiB"].(float64)
		if v, ok := r.Measured["kv_cache_size_GiB"].(float64); ok {
			measured = v
		}
		if measured == 0 {
			continue
		}
		mem := 0.0
		if v, ok := r.Measured["total_gpu_memory_GiB"].(float64); ok {
			mem = v
		} else if m := gibIn.FindStringSubmatch(r.GPU); m != nil {
			mem, _ = strconv.ParseFloat(m[1], 64)
		} else if regexp.MustCompile(`H100 80GB`).MatchString(r.GPU) {
			mem = 79.19 // the sweep's reported figure for the same card
		}
		if mem == 0 {
			continue
		}
		req := Request{Model: spec, TP: r.TP, PP: 1, Engine: vllm019(t), GPU: GPU{CUDAMemory: units.FromGiB(mem)}}
		util := 0.9
		if r.Utilization != nil {
			util = *r.Utilization
		}
		req.Utilization = util
		if r.MaxModelLen != nil {
			req.Context = *r.MaxModelLen
		}
		pred, err := estimate(req)
		if err != nil {
			t.Logf("%s: %v", r.Model, err)
			continue
		}
		ver := "unstated"
		if r.EngineVersion != nil {
			ver = *r.EngineVersion
		}
		fmt.Fprintf(&b, "| [%s](%s) tp%d | %s | %s | %.2f | %.2f | %.2f | %+.2f |\n", r.Model, r.Source, r.TP, r.GPU, ver, util, measured, pred.KVPool.GiB(), pred.KVPool.GiB()-measured)
		n++
	}
	if n < 4 {
		t.Fatalf("only %d older records could be evaluated", n)
	}
	golden.Section(t, "../docs/accuracy.md", "memory-older", b.String(), *update)
}
