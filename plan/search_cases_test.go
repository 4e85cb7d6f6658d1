package plan

import (
	"math"
	"strings"
	"testing"

	"github.com/gpuplan/gpuplan/dtype"
	"github.com/gpuplan/gpuplan/hardware"
)

func precisions(t testing.TB, names ...string) []dtype.Precision {
	t.Helper()
	var out []dtype.Precision
	for _, n := range names {
		p, err := dtype.LookupPrecision(n)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, p)
	}
	return out
}

func rowFor(res Result, vm, precision string) *Row {
	for i := range res.Rows {
		if c := res.Rows[i].Candidate; c.VM == vm && c.Engine.Precision == precision {
			return &res.Rows[i]
		}
	}
	return nil
}

// TestBudgetRejects: a budget one dollar under a row's monthly price drops
// that row and says why (over_budget, naming the size); a budget equal to
// the price keeps it. The price is worked from the price book: Llama 3.1
// 8B in bf16 is 16.06 GB of weights and 32 users × 8,192 tokens × 128 KiB
// of KV per token (32 layers × 8 KV heads × 128 × 2 × 2 bytes) is 32 GiB,
// together well inside one A100 80 GB, so one VM at the eastus
// pay-as-you-go rate × 730 hours.
func TestBudgetRejects(t *testing.T) {
	const vm = "Standard_NC24ads_A100_v4"
	r := baseRequest(t, "meta-llama/Llama-3.1-8B-Instruct")
	r.VMs = []string{vm}
	r.Precisions = precisions(t, "bf16")
	price, ok := hardware.Default().Prices().PAYG(vm, "eastus")
	if !ok {
		t.Fatalf("no embedded eastus pay-as-you-go price for %s", vm)
	}
	month := price.USDPerHour * 730
	res, err := Search(r)
	if err != nil {
		t.Fatal(err)
	}
	row := rowFor(res, vm, "bf16")
	if row == nil || row.Candidate.Prices.USDPerMonth == nil {
		t.Fatalf("no priced bf16 row on %s: %+v", vm, res.Rows)
	}
	if c := row.Candidate; c.VMCount != 1 || math.Abs(*c.Prices.USDPerMonth-month) > 1e-6 {
		t.Fatalf("row: %d VMs at $%v/month, want 1 VM at $%v × 730 = $%v", c.VMCount, *c.Prices.USDPerMonth, price.USDPerHour, month)
	}

	r.BudgetUSDMonth = month
	if res, err := Search(r); err != nil || rowFor(res, vm, "bf16") == nil {
		t.Errorf("budget equal to the price ($%.2f) dropped the row (err %v)", month, err)
	}

	r.BudgetUSDMonth = month - 1
	res, err = Search(r)
	if err == nil || rowFor(res, vm, "bf16") != nil {
		t.Fatalf("budget $%.2f under the row's $%.2f kept it (err %v)", r.BudgetUSDMonth, month, err)
	}
	var found bool
	for _, w := range res.WhyNot {
		if w.Kind == "over_budget" && strings.Contains(w.Reason, vm) {
			found = true
		}
	}
	if !found {
		t.Errorf("why_not %+v has no over_budget entry naming %s", res.WhyNot, vm)
	}
}

// TestMultiNodeWhenOneVMCannotHold: Llama 3.1 405B in bf16 is about 811 GB
// of weights (405.9 B parameters × 2 bytes, the catalog's exact count), more
// than the 640 GB of one ND96isr H100 v5 (8 × 80 GB, vms.yaml), so the
// planner spans two VMs: TP 8 inside each, PP 2 across them, 16 GPUs per
// replica, and every replica takes two VMs.
func TestMultiNodeWhenOneVMCannotHold(t *testing.T) {
	const vm = "Standard_ND96isr_H100_v5"
	r := baseRequest(t, "meta-llama/Llama-3.1-405B")
	r.VMs = []string{vm}
	r.Precisions = precisions(t, "bf16")
	r.Concurrency = 8
	res, err := Search(r)
	if err != nil {
		t.Fatalf("%v; why not: %+v", err, res.WhyNot)
	}
	row := rowFor(res, vm, "bf16")
	if row == nil {
		t.Fatalf("no bf16 row: %+v", res.Rows)
	}
	c := row.Candidate
	if c.NodesPerReplica != 2 || c.Engine.TP != 8 || c.Engine.PP != 2 || c.GPUsPerReplica != 16 {
		t.Errorf("layout nodes %d TP %d PP %d GPUs/replica %d, want 2 × TP 8 × PP 2 = 16 GPUs", c.NodesPerReplica, c.Engine.TP, c.Engine.PP, c.GPUsPerReplica)
	}
	if c.VMCount != 2*c.Replicas {
		t.Errorf("%d VMs for %d replicas of 2 nodes", c.VMCount, c.Replicas)
	}
	// The parameter count by hand from the 405B config.json (hidden 16,384,
	// 126 layers, FFN 53,248, 128 query and 8 KV heads of 128, vocabulary
	// 128,256, untied embeddings): per layer 2 × 16384² + 2 × 16384 × 1024
	// (attention) + 3 × 16384 × 53248 (MLP) + 2 × 16384 (norms) =
	// 3,187,703,808; × 126 = 401,650,679,808; + 2 × 128256 × 16384
	// (embeddings and LM head) + 16,384 (final norm) = 405,853,388,800.
	// bf16 stores two bytes for each.
	const params405B = 405_853_388_800
	if c.Model.ParamsTotal != params405B || c.WeightsBytes != 2*params405B {
		t.Errorf("%d parameters, %d weight bytes; want %d and 2 × that", c.Model.ParamsTotal, c.WeightsBytes, int64(params405B))
	}
	if want := c.WeightsBytes / 16; math.Abs(float64(c.WeightsBytesPerGPU-want))/float64(want) > 0.05 {
		t.Errorf("weights per GPU %d, want about a sixteenth of %d", c.WeightsBytesPerGPU, c.WeightsBytes)
	}
	// The same model in fp8 (about 406 GB) fits one VM: no multi-node row.
	r.Precisions = precisions(t, "fp8")
	res, err = Search(r)
	if err != nil {
		t.Fatal(err)
	}
	if row := rowFor(res, vm, "fp8"); row == nil || row.Candidate.NodesPerReplica != 1 {
		t.Errorf("fp8 row %+v, want one VM per replica", row)
	}
}

// TestPartialGPUUsesThePartitionsMemory: NV18ads A10 v5 carries half an A10
// with 12 GB (vms.yaml, from Microsoft's size page); Llama 3.1 8B's bf16
// weights alone are 16.06 GB, so it does not fit there, while the whole
// A10 (NV36ads, 24 GB) holds it. Qwen2.5 0.5B (about 1 GB) fits the sixth
// of an A10 (NV6ads, 4 GB), with 1/6 of a GPU per VM.
func TestPartialGPUUsesThePartitionsMemory(t *testing.T) {
	r := baseRequest(t, "meta-llama/Llama-3.1-8B-Instruct")
	r.Precisions = precisions(t, "fp16") // the A10 has bf16, but fp16 keeps the test on weights
	r.Concurrency = 1
	r.Context = 4096
	r.VMs = []string{"Standard_NV18ads_A10_v5", "Standard_NV36ads_A10_v5"}
	res, err := Search(r)
	if err != nil {
		t.Fatalf("%v; why not %+v", err, res.WhyNot)
	}
	if rowFor(res, "Standard_NV18ads_A10_v5", "fp16") != nil {
		t.Errorf("8B in fp16 (16 GB of weights) planned on half an A10 (12 GB)")
	}
	if rowFor(res, "Standard_NV36ads_A10_v5", "fp16") == nil {
		t.Errorf("8B in fp16 not planned on a whole A10 (24 GB); why not %+v", res.WhyNot)
	}
	// Alone, the half A10 is infeasible and the why-not says it does not
	// fit (with NV36ads beside it, its family has a row and why-not stays
	// quiet about it).
	r.VMs = []string{"Standard_NV18ads_A10_v5"}
	res, err = Search(r)
	if err == nil {
		t.Fatalf("8B in fp16 planned on half an A10: %+v", res.Rows)
	}
	var rejected bool
	for _, w := range res.WhyNot {
		rejected = rejected || w.Kind == "does_not_fit"
	}
	if !rejected {
		t.Errorf("why_not %+v does not say the 8B does not fit NV18ads", res.WhyNot)
	}

	small := baseRequest(t, "Qwen/Qwen2.5-0.5B")
	small.Concurrency = 1
	small.Context = 4096
	small.VMs = []string{"Standard_NV6ads_A10_v5", "Standard_NV36ads_A10_v5"}
	small.Precisions = precisions(t, "fp16")
	res, err = Search(small)
	if err != nil {
		t.Fatalf("%v; why not %+v", err, res.WhyNot)
	}
	part, whole := rowFor(res, "Standard_NV6ads_A10_v5", "fp16"), rowFor(res, "Standard_NV36ads_A10_v5", "fp16")
	if part == nil || whole == nil {
		t.Fatalf("rows partial %v whole %v", part, whole)
	}
	if g := part.Candidate.GPUsPerVM; math.Abs(g-1.0/6) > 1e-9 {
		t.Errorf("gpus_per_vm %v, want 1/6", g)
	}
	// A sixth of the memory bandwidth: decoding one request is
	// bandwidth-bound, so its time per token is several times the whole
	// GPU's.
	if p, w := part.Candidate.Predictions.TPOTMs.Mean, whole.Candidate.Predictions.TPOTMs.Mean; !(p > 3*w) {
		t.Errorf("TPOT on 1/6 A10 %.2f ms, on a whole A10 %.2f ms: want the partition at least 3× slower", p, w)
	}
}

// TestReplicasCoverTheLoad: with more users than one replica can hold
// within the TPOT SLO (judged on the predicted p90, the default), the
// planner adds replicas until each one's share meets it, and no fewer
// replicas would do.
func TestReplicasCoverTheLoad(t *testing.T) {
	const vm = "Standard_NC24ads_A100_v4"
	r := baseRequest(t, "meta-llama/Llama-3.1-8B-Instruct")
	r.VMs = []string{vm}
	r.Precisions = precisions(t, "bf16")
	r.Concurrency = 600
	r.TPOTSLOMs = 40
	res, err := Search(r)
	if err != nil {
		t.Fatalf("%v; why not %+v", err, res.WhyNot)
	}
	row := rowFor(res, vm, "bf16")
	if row == nil {
		t.Fatal("no row")
	}
	c := row.Candidate
	if c.Replicas < 2 {
		t.Fatalf("%d replica(s) for 600 users", c.Replicas)
	}
	if want := (600 + c.Replicas - 1) / c.Replicas; row.ConcurrencyPerReplica != want {
		t.Errorf("per-replica concurrency %d, want ⌈600/%d⌉ = %d", row.ConcurrencyPerReplica, c.Replicas, want)
	}
	if c.VMCount != c.Replicas { // one A100 per VM, TP 1
		t.Errorf("%d VMs for %d single-GPU replicas", c.VMCount, c.Replicas)
	}
	if c.Predictions.TPOTMs.P90 > r.TPOTSLOMs { // the default rule: predicted p90
		t.Errorf("TPOT p90 %.1f ms over the %v ms SLO", c.Predictions.TPOTMs.P90, r.TPOTSLOMs)
	}
	// One replica fewer would carry ⌈600/(n−1)⌉ users each: the planner
	// must not fit that share into one replica.
	r.Concurrency = (600 + c.Replicas - 2) / (c.Replicas - 1)
	res, err = Search(r)
	if err != nil {
		t.Fatal(err)
	}
	if fewer := rowFor(res, vm, "bf16"); fewer == nil || fewer.Candidate.Replicas < 2 {
		t.Errorf("%d users fit one replica, so %d replicas for 600 were more than needed", r.Concurrency, c.Replicas)
	}
}
