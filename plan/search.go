package plan

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/gpuplan/gpuplan/cost"
	"github.com/gpuplan/gpuplan/dtype"
	"github.com/gpuplan/gpuplan/hardware"
	"github.com/gpuplan/gpuplan/memory"
	"github.com/gpuplan/gpuplan/model"
	"github.com/gpuplan/gpuplan/perf"
	"github.com/gpuplan/gpuplan/units"
)

// ErrInfeasible marks a request no offer meets (exit code 3).
var ErrInfeasible = errors.New("no feasible plan")

// ErrInvalid marks a request that cannot be planned as given (exit code 2).
var ErrInvalid = errors.New("invalid plan request")

// Request is one planning question.
type Request struct {
	Model *model.Spec
	// Context is the maximum model length each replica serves.
	Context      int64
	InputTokens  int
	OutputTokens int
	// Exactly one of Concurrency (closed-loop users) and RPS (open-loop
	// arrivals per second) is set.
	Concurrency int
	RPS         float64
	// SLOs on the upper edge of the predicted band; 0 means none.
	TTFTSLOMs float64
	TPOTSLOMs float64
	// MaxNumSeqs and MaxNumBatchedTokens override the engine's scheduler
	// limits when > 0 (--max-num-seqs, --max-num-batched-tokens); CacheRate
	// is the fraction of prompt tokens served from the prefix cache
	// (--cache-rate).
	MaxNumSeqs, MaxNumBatchedTokens int
	CacheRate                       float64
	// Region is an ARM region name; empty means any (prices from eastus).
	Region string
	// BudgetUSDMonth rejects offers above it; 0 means no budget.
	BudgetUSDMonth float64
	// Precisions to consider. Empty means the forms this checkpoint can be
	// served in as it is: its own precision (fp16 on GPUs without bf16)
	// plus fp8, which vLLM quantizes at load time. AllPrecisions adds int8
	// and int4, which need a separately quantized checkpoint.
	Precisions    []dtype.Precision
	AllPrecisions bool
	// CheckpointOnly restricts an empty Precisions to the checkpoint's own
	// form (deploy's default: no quantization the user did not ask for).
	CheckpointOnly bool
	KVDType        dtype.KVDType
	Engine         memory.Profile
	// Calibration for perf; nil means perf's embedded calibration.
	Calibration *perf.Calibration
	Pricing     hardware.PriceKind
	// HoursPerDay is how many hours a day the load runs (for token volume
	// and managed-API cost); VMs still bill 730 h/month.
	HoursPerDay float64
	Hardware    *hardware.Catalog
	Prices      hardware.PriceBook
	// ImageArch is the engine image's CPU architecture ("" = x86-64).
	ImageArch string
	// VMs restricts the search to these sizes (EvaluateOffer uses one).
	VMs []string
	// Top limits the printed rows (0 = all); the search ranks every row.
	Top int
	// EP and DPAttention fix an MoE layout for every candidate; when both
	// are unset the search also tries DP attention with EP = TP for MoE
	// models on vLLM and SGLang (layouts.go). Speculative applies
	// speculative decoding to every candidate.
	EP          int
	DPAttention bool
	Speculative *perf.Speculative
}

// Result is a ranked plan.
type Result struct {
	Model       ModelRef    `json:"model"`
	Workload    Workload    `json:"workload"`
	Region      string      `json:"region"`
	Pricing     string      `json:"pricing"`
	Currency    string      `json:"currency"`
	PricesAsOf  string      `json:"prices_as_of,omitempty"`
	Rows        []Row       `json:"rows"`
	WhyNot      []Rejection `json:"why_not,omitempty"`
	Excludes    string      `json:"excludes"`
	Assumptions []string    `json:"assumptions"`
	// Evaluated counts the combinations judged.
	Evaluated int `json:"evaluated"`
}

// Row is one feasible offer.
type Row struct {
	Rank      int       `json:"rank"`
	Candidate Candidate `json:"candidate"`
	// Headroom is how far the binding SLO or capacity is from its limit:
	// 1 − used/limit for the tighter of TTFT and TPOT, or of KV capacity
	// when there is no SLO.
	Headroom              float64 `json:"headroom"`
	QuotaFamily           string  `json:"quota_family,omitempty"`
	VCPUsNeeded           int     `json:"vcpus_needed"`
	RegionAvailable       string  `json:"region_available"`
	PriceKnown            bool    `json:"price_known"`
	ConcurrencyPerReplica int     `json:"concurrency_per_replica"`
}

// Rejection summarizes why a family of offers was not chosen.
type Rejection struct {
	// Family is the VM series (e.g. "NC A100 v4").
	Family string `json:"family"`
	// Kind is one of: does_not_fit, slo_missed, retired, not_in_region,
	// precision_not_supported, over_budget, incompatible.
	Kind   string `json:"kind"`
	Reason string `json:"reason"`
}

// offerKey identifies predictions that do not depend on the VM size
// itself, so sizes carrying the same chip share them.
type offerKey struct {
	gpu       string
	memory    units.Bytes
	fraction  float64
	precision string
	tp, pp    int
	layout    layout
	fabric    string
}

// replicaFit is what one replica of an offer can do.
type replicaFit struct {
	dep      *perf.Deployment
	budget   memory.Budget
	capacity int     // max concurrency meeting SLOs and KV
	capRPS   float64 // requests/s at that concurrency
	err      error
	reject   *Rejection
}

// Search ranks every feasible offer for a request.
func Search(r Request) (Result, error) {
	if err := r.normalize(); err != nil {
		return Result{}, err
	}
	s := newSearcher(r)
	return s.run()
}

func (r *Request) normalize() error {
	if r.Model == nil {
		return fmt.Errorf("%w: no model", ErrInvalid)
	}
	if r.InputTokens < 1 || r.OutputTokens < 1 {
		return fmt.Errorf("%w: --input-tokens and --output-tokens must be at least 1", ErrInvalid)
	}
	if (r.Concurrency > 0) == (r.RPS > 0) {
		return fmt.Errorf("%w: give exactly one of --concurrency and --rps", ErrInvalid)
	}
	if r.Context == 0 {
		r.Context = int64(r.InputTokens + r.OutputTokens)
	}
	if r.Context < int64(r.InputTokens+r.OutputTokens) {
		return fmt.Errorf("%w: --context %d is shorter than --input-tokens + --output-tokens (%d)", ErrInvalid, r.Context, r.InputTokens+r.OutputTokens)
	}
	if r.Engine.Engine == "" {
		r.Engine = memory.DefaultProfile()
	}
	if r.MaxNumSeqs < 0 || r.MaxNumSeqs > 1<<20 || r.MaxNumBatchedTokens < 0 || r.MaxNumBatchedTokens > 1<<20 {
		return fmt.Errorf("%w: --max-num-seqs and --max-num-batched-tokens must be between 1 and %d", ErrInvalid, 1<<20)
	}
	if !(r.CacheRate >= 0 && r.CacheRate < 1) {
		return fmt.Errorf("%w: --cache-rate must be at least 0 and below 1", ErrInvalid)
	}
	if r.Pricing == "" {
		r.Pricing = hardware.PAYG
	}
	if r.HoursPerDay == 0 {
		r.HoursPerDay = 24
	}
	if r.HoursPerDay < 0 || r.HoursPerDay > 24 {
		return fmt.Errorf("%w: --hours-per-day must be in (0, 24]", ErrInvalid)
	}
	if r.Region == "" {
		r.Region = "eastus"
	}
	if r.Hardware == nil {
		r.Hardware = hardware.Default()
	}
	return nil
}

type searcher struct {
	r      Request
	gpus   map[string]hardware.GPU
	cache  map[offerKey]*replicaFit
	rows   []Row
	why    map[string]Rejection
	n      int
	params model.Params
	// cur, curFabric and curGPUsPerVM are the layout and multi-VM fabric
	// of the combination being evaluated (layouts.go).
	cur          layout
	curFabric    *hardware.Fabric
	curGPUsPerVM int
}

func newSearcher(r Request) *searcher {
	gpus := map[string]hardware.GPU{}
	for _, g := range r.Hardware.GPUs() {
		gpus[g.ID] = g
	}
	return &searcher{r: r, gpus: gpus, cache: map[offerKey]*replicaFit{}, why: map[string]Rejection{}, params: r.Model.Params()}
}

func (s *searcher) reject(family, kind, reason string) {
	k := family + "|" + kind
	if _, ok := s.why[k]; !ok {
		s.why[k] = Rejection{Family: family, Kind: kind, Reason: reason}
	}
}

func (s *searcher) run() (Result, error) {
	r := s.r
	vms := r.Hardware.VMSizes()
	if len(r.VMs) > 0 {
		vms = vms[:0:0]
		for _, name := range r.VMs {
			vm, err := r.Hardware.LookupVM(name)
			if err != nil {
				return Result{}, fmt.Errorf("%w: %v", ErrInvalid, err)
			}
			vms = append(vms, vm)
		}
	}
	for _, vm := range vms {
		s.evaluateVM(vm)
	}
	s.rank()
	res := Result{
		Model:    ModelRef{ID: r.Model.ID, Source: r.Model.Source, Revision: r.Model.Revision, ParamsTotal: s.params.Total, ParamsActive: s.params.Active},
		Workload: s.workload(), Region: r.Region, Pricing: string(r.Pricing), Currency: "USD",
		Rows: s.rows, Evaluated: s.n,
		Excludes: "VM compute only: excludes the AKS control plane and system node pool, OS and model-cache disks, egress, load balancers and monitoring",
		Assumptions: []string{
			fmt.Sprintf("engine %s@%s; rows judged against the upper edge of the predicted band", r.Engine.Engine, r.Engine.Version),
			fmt.Sprintf("VMs bill %d h/month; token volume assumes the load runs %.0f h/day", hardware.HoursPerMonth, r.HoursPerDay),
			"$/million tokens counts input + output tokens; the input/output split follows each row's share of GPU time in prefill vs decode",
		},
	}
	var dates []hardware.Price
	for _, row := range s.rows {
		if row.Candidate.Prices.PriceAsOf != "" {
			d, _ := hardware.ParseDate(row.Candidate.Prices.PriceAsOf)
			dates = append(dates, hardware.Price{AsOf: d})
		}
	}
	if d := hardware.OldestAsOf(dates); !d.IsZero() {
		res.PricesAsOf = d.String()
	}
	keys := make([]string, 0, len(s.why))
	for k := range s.why {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		res.WhyNot = append(res.WhyNot, s.why[k])
	}
	if len(s.rows) == 0 {
		return res, fmt.Errorf("%w for %s at this load and these SLOs", ErrInfeasible, r.Model.ID)
	}
	return res, nil
}

func (s *searcher) workload() Workload {
	return Workload{InputTokens: int64(s.r.InputTokens), OutputTokens: int64(s.r.OutputTokens), Concurrency: int64(s.r.Concurrency),
		RPS: s.r.RPS, HoursPerDay: s.r.HoursPerDay, TTFTSLOMs: s.r.TTFTSLOMs, TPOTSLOMs: s.r.TPOTSLOMs, CacheRate: s.r.CacheRate}
}

// precisionsFor lists the deployable precisions to try on a GPU.
func (s *searcher) precisionsFor(g hardware.GPU) []dtype.Precision {
	if len(s.r.Precisions) > 0 {
		return s.r.Precisions
	}
	var out []dtype.Precision
	add := func(name string) {
		p, err := dtype.LookupPrecision(name)
		if err == nil {
			out = append(out, p)
		}
	}
	if cp, ok := memory.CheckpointPrecision(s.r.Model.Quant); ok {
		// A pre-quantized checkpoint is served as what it is.
		return []dtype.Precision{cp}
	}
	native := string(s.r.Model.ComputeDType())
	if native == string(dtype.BF16) && !g.Native(hardware.MathBF16) {
		native = "fp16" // vLLM --dtype half on GPUs without bf16
	}
	add(native)
	if s.r.CheckpointOnly {
		return out
	}
	add("fp8")
	if s.r.AllPrecisions {
		add("int8")
		add("int4")
	}
	return out
}

func (s *searcher) evaluateVM(vm hardware.VMSize) {
	family := vm.Series
	if vm.Retired() {
		s.reject(family, "retired", fmt.Sprintf("%s is retired", vm.Name))
		return
	}
	g, ok := s.gpus[vm.GPU]
	if !ok {
		s.reject(family, "incompatible", fmt.Sprintf("%s carries GPU %q, which the catalog does not describe; add it with --catalog", vm.Name, vm.GPU))
		return
	}
	gpus := vm.GPUs()
	if gpus <= 0 {
		s.reject(family, "incompatible", fmt.Sprintf("%s: GPU count unknown", vm.Name))
		return
	}
	whole := int(math.Floor(gpus))
	for _, p := range s.precisionsFor(g) {
		// TP within one VM, smallest first; a larger TP is tried only if a
		// smaller one cannot hold the model or meet the SLO.
		found, memoryOnly := false, true
		s.curFabric, s.curGPUsPerVM = nil, 0
		for _, tp := range []int{1, 2, 4, 8} {
			if tp > max(whole, 1) {
				break
			}
			ok, kind := false, ""
			for _, l := range s.layoutsFor(family, tp) {
				s.cur = l
				lok, lkind := s.evaluate(vm, g, p, tp, 1, 1)
				if lok {
					ok = true
				} else if kind == "" || kind == "does_not_fit" {
					kind = lkind
				}
			}
			if ok {
				found = true
				break
			}
			if kind != "does_not_fit" {
				memoryOnly = false
			}
		}
		s.cur = layout{ep: max(s.r.EP, 1), dp: s.r.DPAttention}
		if !found && memoryOnly && whole >= 1 {
			// Multi-node only when one VM cannot hold the model: pipeline
			// stages across VMs, TP across each VM's GPUs, hand-offs over
			// the VM-to-VM network.
			fab, err := fabricFor(vm)
			if err != nil {
				s.reject(family, "incompatible", fmt.Sprintf("%s at TP %d does not fit one VM, and %v", p.Name, whole, err))
				continue
			}
			s.curFabric, s.curGPUsPerVM = fab, whole
			for _, nodes := range []int{2, 4} {
				if ok, _ := s.evaluate(vm, g, p, whole, nodes, nodes); ok {
					break
				}
			}
			s.curFabric, s.curGPUsPerVM = nil, 0
		}
	}
}

// evaluate judges one (VM, precision, TP, PP) combination and records a
// row when feasible. It reports whether the combination fit in memory and
// met the SLOs (so the caller can stop widening TP), and otherwise the kind
// of rejection.
func (s *searcher) evaluate(vm hardware.VMSize, g hardware.GPU, p dtype.Precision, tp, pp, nodes int) (bool, string) {
	r := s.r
	s.n++
	family := vm.Series
	comp := Check(Combination{Model: r.Model, GPU: g, VM: &vm, Precision: p, TP: tp, PP: pp, Engine: r.Engine.Engine, ImageArch: r.ImageArch})
	if !comp.OK() {
		kind := "incompatible"
		if sup := g.Support(p); !sup.OK() {
			kind = "precision_not_supported"
		}
		s.reject(family, kind, fmt.Sprintf("%s at TP %d: %s", p.Name, tp, strings.Join(comp.Reasons, "; ")))
		return false, kind
	}
	gpu := g
	frac := vm.GPUs()
	if frac < 1 {
		// A partition of one GPU: its memory is the partition's, and its
		// share of bandwidth and compute is assumed proportional.
		gpu = scaleGPU(g, frac, vm.GPUMemory)
	}
	key := offerKey{gpu: g.ID, memory: gpu.CUDAMemory, fraction: frac, precision: p.Name, tp: tp, pp: pp, layout: s.cur}
	if s.curFabric != nil {
		key.fabric = s.curFabric.VM
	}
	fit, ok := s.cache[key]
	if !ok {
		fit = s.fitReplica(gpu, p, tp, pp)
		s.cache[key] = fit
	}
	if fit.reject != nil {
		rej := *fit.reject
		rej.Family = family
		s.reject(rej.Family, rej.Kind, fmt.Sprintf("%s on %s: %s", p.Name, vm.Name, rej.Reason))
		return false, rej.Kind
	}
	if row, ok := s.row(vm, gpu, p, tp, pp, nodes, fit, comp); ok {
		s.rows = append(s.rows, row)
	}
	return true, ""
}

func scaleGPU(g hardware.GPU, frac float64, vmMemory units.Bytes) hardware.GPU {
	out := g
	out.MemoryBandwidth = hardware.BytesPerSecond(float64(g.MemoryBandwidth) * frac)
	out.DenseTFLOPS = map[hardware.Math]float64{}
	for m, v := range g.DenseTFLOPS {
		out.DenseTFLOPS[m] = v * frac
	}
	mem := vmMemory
	if mem <= 0 {
		mem = units.Bytes(float64(g.DatasheetMemory) * frac)
	}
	// The partition's CUDA-visible memory, estimated as for cards without
	// a measurement.
	out.CUDAMemory = mem - hardware.CUDAReserveEstimate
	out.CUDAMemoryEstimated = true
	return out
}

// fitReplica sizes one replica and finds the highest concurrency that
// meets the SLOs on the band's upper edge and fits the KV pool.
func (s *searcher) fitReplica(g hardware.GPU, p dtype.Precision, tp, pp int) *replicaFit {
	r := s.r
	prec := p
	b, err := memory.Estimate(memory.Request{
		Model: r.Model, Precision: &prec, KVDType: r.KVDType, Context: r.Context, Concurrency: 1,
		GPU: memory.GPU{ID: g.ID, CUDAMemory: g.CUDAMemory}, TP: tp, PP: pp, Profile: r.Engine,
		Scheduler:       memory.Scheduler{MaxNumSeqs: r.MaxNumSeqs, MaxNumBatchedTokens: r.MaxNumBatchedTokens},
		SkipSuggestions: true, EP: s.cur.ep, DPAttention: s.cur.dp,
	})
	if err != nil {
		return &replicaFit{err: err, reject: &Rejection{Kind: "incompatible", Reason: err.Error()}}
	}
	if !b.Fits {
		return &replicaFit{budget: b, reject: &Rejection{Kind: "does_not_fit", Reason: fmt.Sprintf("TP %d × PP %d: %s", tp, pp, strings.Join(b.Reasons, "; "))}}
	}
	// KV capacity at the sequence length actually used (input + output),
	// capped by the scheduler's max_num_seqs.
	seqLen := int64(r.InputTokens + r.OutputTokens)
	kvCap := b.Layout.MaxConcurrency(b.Blocks, seqLen, int64(b.Scheduler.MaxNumBatchedTokens))
	limit := int(math.Min(math.Floor(kvCap), float64(b.Scheduler.MaxNumSeqs)))
	if limit < 1 {
		return &replicaFit{budget: b, reject: &Rejection{Kind: "does_not_fit", Reason: "the KV pool cannot hold one request"}}
	}
	prec2 := p
	preq := perf.Request{
		Model: r.Model, Precision: &prec2, KVDType: r.KVDType, GPU: g, TP: tp, PP: pp, Engine: r.Engine,
		MaxNumSeqs: r.MaxNumSeqs, MaxNumBatchedTokens: r.MaxNumBatchedTokens,
		Workload: perf.Workload{InputTokens: r.InputTokens, OutputTokens: r.OutputTokens, CacheRate: r.CacheRate}, Calibration: r.Calibration, Brief: true,
	}
	s.applyLayout(&preq)
	dep, err := perf.Prepare(preq)
	if err != nil {
		kind := "incompatible"
		if errors.Is(err, perf.ErrDoesNotFit) {
			kind = "does_not_fit"
		}
		return &replicaFit{budget: b, reject: &Rejection{Kind: kind, Reason: err.Error()}}
	}
	meets := func(c int) (perf.Estimate, bool, error) {
		e, err := dep.Predict(perf.Workload{Concurrency: c})
		if err != nil {
			return e, false, err
		}
		return e, s.meetsSLO(e), nil
	}
	e1, ok, err := meets(1)
	if err != nil {
		return &replicaFit{budget: b, reject: &Rejection{Kind: "incompatible", Reason: err.Error()}}
	}
	if !ok {
		return &replicaFit{budget: b, reject: &Rejection{Kind: "slo_missed", Reason: fmt.Sprintf("TP %d: even a single request's upper band is TTFT %.0f ms, TPOT %.1f ms", tp, e1.TTFT.High, e1.TPOT.High)}}
	}
	// Largest concurrency meeting the SLOs: latency grows with load, so
	// bisect on [1, limit].
	lo, hi := 1, limit
	best := e1
	if e, ok, err := meets(hi); err == nil && ok {
		lo, best = hi, e
	} else {
		for lo+1 < hi {
			mid := lo + (hi-lo)/2
			e, ok, err := meets(mid)
			if err == nil && ok {
				lo, best = mid, e
			} else {
				hi = mid
			}
		}
	}
	return &replicaFit{dep: dep, budget: b, capacity: lo, capRPS: best.RequestsPerS}
}

func (s *searcher) meetsSLO(e perf.Estimate) bool {
	if e.Saturated {
		return false
	}
	if s.r.TTFTSLOMs > 0 && e.TTFT.High > s.r.TTFTSLOMs {
		return false
	}
	if s.r.TPOTSLOMs > 0 && e.TPOT.High > s.r.TPOTSLOMs {
		return false
	}
	return true
}

// row builds the table row for a feasible replica on a VM size.
func (s *searcher) row(vm hardware.VMSize, g hardware.GPU, p dtype.Precision, tp, pp, nodes int, fit *replicaFit, comp Compatibility) (Row, bool) {
	r := s.r
	gpusPerReplica := tp * pp
	replicasPerVM := 1
	if nodes == 1 && vm.GPUs() >= 1 {
		replicasPerVM = int(math.Floor(vm.GPUs())) / gpusPerReplica
	}
	if replicasPerVM < 1 {
		replicasPerVM = 1
	}
	var replicas int
	var w perf.Workload
	switch {
	case r.Concurrency > 0:
		replicas = int(math.Ceil(float64(r.Concurrency) / float64(fit.capacity)))
		w = perf.Workload{InputTokens: r.InputTokens, OutputTokens: r.OutputTokens, Concurrency: int(math.Ceil(float64(r.Concurrency) / float64(replicas)))}
	default:
		if fit.capRPS <= 0 {
			return Row{}, false
		}
		replicas = int(math.Ceil(r.RPS / fit.capRPS))
		w = perf.Workload{InputTokens: r.InputTokens, OutputTokens: r.OutputTokens, RPS: r.RPS / float64(replicas)}
	}
	e, err := fit.dep.Predict(w)
	for err == nil && !s.meetsSLO(e) && replicas < 1<<16 {
		// The open-loop rate at the closed-loop capacity can sit just past
		// the SLO's edge; add replicas until it holds.
		replicas++
		if r.Concurrency > 0 {
			w.Concurrency = int(math.Ceil(float64(r.Concurrency) / float64(replicas)))
		} else {
			w.RPS = r.RPS / float64(replicas)
		}
		e, err = fit.dep.Predict(w)
	}
	if err != nil {
		s.reject(vm.Series, "incompatible", err.Error())
		return Row{}, false
	}
	vmCount := int(math.Ceil(float64(replicas) / float64(replicasPerVM)))
	if nodes > 1 {
		vmCount = replicas * nodes
	}
	c := s.candidate(vm, g, p, tp, pp, nodes, replicas, vmCount, fit, e, comp)
	s.engineLayout(&c.Engine)
	row := Row{Candidate: c, QuotaFamily: vm.QuotaFamily, VCPUsNeeded: vm.VCPU * vmCount, ConcurrencyPerReplica: w.Concurrency,
		Headroom: s.headroom(e, fit)}
	price, ok := r.Prices.Lookup(vm.Name, r.Region, r.Pricing, "USD")
	row.RegionAvailable = "unknown"
	if _, inRegion := r.Prices.PAYG(vm.Name, r.Region); inRegion {
		row.RegionAvailable = "yes"
	}
	if ok {
		row.PriceKnown = true
		s.price(&row, price, e, vmCount)
		if r.BudgetUSDMonth > 0 && *row.Candidate.Prices.USDPerMonth > r.BudgetUSDMonth {
			s.reject(vm.Series, "over_budget", fmt.Sprintf("%s × %d costs $%.0f/month, over the $%.0f budget", vm.Name, vmCount, *row.Candidate.Prices.USDPerMonth, r.BudgetUSDMonth))
			return Row{}, false
		}
		row.Candidate.Reason = fmt.Sprintf("%s of TP %d×PP %d%s at %s%s; %s-bound%s", plural(replicas, "replica"), tp, pp, s.cur, p.Name, compatNote(comp, g), strings.ReplaceAll(string(e.Bottleneck), "_", " "), deployNote(r.Model, p))
	} else {
		row.Candidate.Reason = noPriceReason(r.Prices, vm.Name, r.Region, r.Pricing)
	}
	return row, true
}

// noPriceReason says that a size has no price of the kind asked for, and
// how to supply one: `gpuplan prices refresh` or a --catalog prices row.
func noPriceReason(book hardware.PriceBook, vm, region string, kind hardware.PriceKind) string {
	anywhere := false
	for _, p := range book.Filter(vm, "") {
		anywhere = anywhere || (p.Kind == kind && strings.EqualFold(p.Currency, "USD"))
	}
	where := "in " + region
	if !anywhere {
		where = "in any region"
	}
	return fmt.Sprintf("no price known for %s %s (%s): run `gpuplan prices refresh`, or add a --catalog row {vm: %s, region: %s, kind: %s, usd_per_hour, currency: USD, source, as_of}",
		vm, where, kind, vm, region, kind)
}

func (s *searcher) headroom(e perf.Estimate, fit *replicaFit) float64 {
	h := 1.0
	if s.r.TTFTSLOMs > 0 && e.TTFT.High > 0 {
		h = math.Min(h, 1-e.TTFT.High/s.r.TTFTSLOMs)
	}
	if s.r.TPOTSLOMs > 0 && e.TPOT.High > 0 {
		h = math.Min(h, 1-e.TPOT.High/s.r.TPOTSLOMs)
	}
	if s.r.TTFTSLOMs == 0 && s.r.TPOTSLOMs == 0 && fit.capacity > 0 {
		h = 1 - float64(e.Concurrency)/float64(fit.capacity)
	}
	return math.Round(h*1000) / 1000
}

// price fills the money fields with cost.PerMillionTokens: the monthly
// bill (VMs bill 730 h/month whether or not the load runs) spread over the
// tokens the load sends while it runs (--hours-per-day), split into input
// and output by each side's share of GPU time: prefill per request (the
// mean TTFT) against the decode time it occupies in the shared batch
// ((output − 1) × TPOT ÷ running batch).
func (s *searcher) price(row *Row, price hardware.Price, e perf.Estimate, vmCount int) {
	r := s.r
	vmHour := cost.VMHourly(price, r.Hardware)
	monthly, err := cost.SelfHostMonthly(vmHour, vmCount, 24)
	if err != nil {
		return
	}
	perHour := vmHour.Amount * float64(vmCount)
	perMonth := monthly.Amount
	row.Candidate.Prices.USDPerHour = &perHour
	row.Candidate.Prices.USDPerMonth = &perMonth
	row.Candidate.Prices.PriceAsOf = price.AsOf.String()
	row.Candidate.Prices.PriceSource = price.Source
	reqPerS := r.RPS
	if r.Concurrency > 0 {
		reqPerS = e.RequestsPerS * float64(row.Candidate.Replicas)
	}
	batch := math.Max(e.RunningBatch, 1)
	load := cost.Load{
		InputTokensPerS:  reqPerS * float64(r.InputTokens),
		OutputTokensPerS: reqPerS * float64(r.OutputTokens),
		PrefillTime:      time.Duration(e.TTFT.Mean * float64(time.Millisecond)),
		DecodeTime:       time.Duration(float64(r.OutputTokens-1) * e.TPOT.Mean / batch * float64(time.Millisecond)),
	}
	// The hour's bill is spread over only the hours the load runs.
	tc, err := cost.PerMillionTokens(vmHour.Scale(float64(vmCount)*24/r.HoursPerDay), load)
	if err != nil {
		return
	}
	blended := tc.Blended.Amount
	row.Candidate.Prices.USDPerMillionTokens = &blended
	if tc.Input != nil {
		in := tc.Input.Amount
		row.Candidate.Prices.USDPerMillionInput = &in
	}
	if tc.Output != nil {
		out := tc.Output.Amount
		row.Candidate.Prices.USDPerMillionOutput = &out
	}
}

func (s *searcher) candidate(vm hardware.VMSize, g hardware.GPU, p dtype.Precision, tp, pp, nodes, replicas, vmCount int, fit *replicaFit, e perf.Estimate, comp Compatibility) Candidate {
	r := s.r
	b := fit.budget
	dt := "bfloat16"
	switch {
	case comp.Compute == dtype.FP16 || (p.Name == "fp16"):
		dt = "float16"
	case p.Name == "fp32":
		dt = "float32"
	}
	checkpoint := ""
	if len(p.Checkpoints) > 0 {
		checkpoint = string(p.Checkpoints[0])
	}
	if r.Model.Quant != nil {
		checkpoint = string(r.Model.Quant.Method)
	}
	kv := string(r.KVDType)
	if kv == "" {
		kv = "auto"
	}
	verdict := string(comp.Verdict)
	// Cold start: a new replica downloads the weights from the Hugging
	// Face Hub (the worst of perf's stated sources; a warm model cache on
	// NVMe or Blob is faster), which deploy sizes its startup probe from.
	var coldStart float64
	if src, err := perf.LookupLoadSource("hf"); err == nil {
		if cs, err := perf.ColdStart(b.Weights.Total, src); err == nil {
			coldStart = cs.Seconds
		}
	}
	return Candidate{
		SchemaVersion: SchemaVersion,
		Model:         ModelRef{ID: r.Model.ID, Source: r.Model.Source, Revision: r.Model.Revision, ParamsTotal: s.params.Total, ParamsActive: s.params.Active},
		Region:        r.Region, VM: vm.Name, VMCount: vmCount, GPU: g.ID, GPUsPerVM: vm.GPUs(), GPUsPerReplica: tp * pp,
		Replicas: replicas, NodesPerReplica: nodes, DevicePluginResource: g.DevicePluginResource, HostCPU: string(vm.CPUArch),
		Engine: Engine{
			Name: string(r.Engine.Engine), Version: r.Engine.Version, Image: EngineImage(r.Engine, g),
			Precision: p.Name, Checkpoint: checkpoint, Quantization: p.VLLMQuantization, DType: dt, KVCacheDType: kv,
			TP: tp, PP: pp, MaxModelLen: r.Context, MaxNumBatchedTokens: b.Scheduler.MaxNumBatchedTokens, MaxNumSeqs: b.Scheduler.MaxNumSeqs,
			BlockSize: b.Layout.BlockSize, GPUMemoryUtilization: b.Utilization, PrefixCaching: r.CacheRate > 0,
		},
		Workload: s.workload(),
		Predictions: Predictions{
			TTFTMs: Latency(e.TTFT), TPOTMs: Latency(e.TPOT), ITLMs: Latency(e.ITL), E2EMs: Latency(e.E2E),
			OutputTokensPerS: e.OutputTokensPerS * float64(replicas), RequestsPerS: e.RequestsPerS * float64(replicas),
			MaxConcurrency: int64(fit.capacity), KVCacheTokens: b.KVCacheTokens, Bottleneck: string(e.Bottleneck),
			Calibrated: e.Calibrated, ErrorBandFraction: math.Max(e.Band.High-1, 1-e.Band.Low),
			ColdStartS: math.Round(coldStart),
		},
		Prices:             Prices{Currency: "USD", Pricing: string(r.Pricing)},
		WeightsBytes:       int64(b.Weights.Total),
		WeightsBytesPerGPU: int64(b.WeightsPerGPU),
		Compatibility:      verdict,
		Notes:              append([]string(nil), comp.Reasons...),
	}
}

// EngineImage is the container image a profile implies: vLLM's official
// OpenAI-server image at the profile's version (docker.io/vllm/vllm-openai
// tags are "v<major>.<minor>.<patch>"); ROCm builds for AMD GPUs are
// published as rocm/vllm.
func EngineImage(p memory.Profile, g hardware.GPU) string {
	if p.Engine != memory.VLLM {
		return ""
	}
	if g.Vendor == hardware.VendorAMD {
		return "rocm/vllm:latest"
	}
	return "vllm/vllm-openai:v" + p.Version + ".0"
}

// rank orders rows: priced rows by $ per million tokens (then $/month),
// rows with unknown prices after them, each group by GPUs used.
func (s *searcher) rank() {
	sort.SliceStable(s.rows, func(i, j int) bool {
		a, b := s.rows[i], s.rows[j]
		if a.PriceKnown != b.PriceKnown {
			return a.PriceKnown
		}
		if a.PriceKnown {
			pa, pb := deref(a.Candidate.Prices.USDPerMillionTokens), deref(b.Candidate.Prices.USDPerMillionTokens)
			if pa != pb {
				return pa < pb
			}
			return deref(a.Candidate.Prices.USDPerMonth) < deref(b.Candidate.Prices.USDPerMonth)
		}
		ga, gb := float64(a.Candidate.VMCount)*a.Candidate.GPUsPerVM, float64(b.Candidate.VMCount)*b.Candidate.GPUsPerVM
		if ga != gb {
			return ga < gb
		}
		return a.Candidate.VM < b.Candidate.VM
	})
	for i := range s.rows {
		s.rows[i].Rank = i + 1
		s.rows[i].Candidate.Rank = i + 1
	}
}

func deref(p *float64) float64 {
	if p == nil {
		return math.Inf(1)
	}
	return *p
}

// EvaluateOffer judges one VM size for a request with the same sizing and
// compatibility rules as Search (deploy's MODEL --vm path). On failure the
// error wraps ErrInfeasible and names every reason.
func EvaluateOffer(r Request, vm string) (Candidate, error) {
	r.VMs = []string{vm}
	res, err := Search(r)
	if err != nil {
		if errors.Is(err, ErrInfeasible) {
			var reasons []string
			for _, w := range res.WhyNot {
				reasons = append(reasons, w.Reason)
			}
			return Candidate{}, fmt.Errorf("%w: %s", err, strings.Join(reasons, "; "))
		}
		return Candidate{}, err
	}
	best := res.Rows[0].Candidate
	best.Rank = 0
	return best, nil
}

// RequestRate is the request rate a result serves: the open loop's rate,
// or for a closed loop the rate the best row sustains (users ÷ latency),
// which is what a managed API would see for the same users.
func RequestRate(res Result, r Request) float64 {
	if r.RPS > 0 {
		return r.RPS
	}
	if len(res.Rows) > 0 {
		return res.Rows[0].Candidate.Predictions.RequestsPerS
	}
	return 0
}

// deployNote says what a quantized row needs before it can be served: a
// pre-quantized checkpoint for forms vLLM cannot produce at load time, and
// in every case the quality gate the seed insists on.
func deployNote(m *model.Spec, p dtype.Precision) string {
	if !p.Quantized() || m.Quant != nil {
		return ""
	}
	if p.VLLMQuantization != "" {
		return "; quantized at load (--quantization " + p.VLLMQuantization + "): gate quality with 'gpuplan bench quality'"
	}
	kinds := make([]string, len(p.Checkpoints))
	for i, c := range p.Checkpoints {
		kinds[i] = string(c)
	}
	return "; needs a " + strings.Join(kinds, "/") + " checkpoint of the model: gate quality with 'gpuplan bench quality'"
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}

// compatNote flags rows that run non-natively.
func compatNote(c Compatibility, g hardware.GPU) string {
	switch c.Verdict {
	case WeightOnly:
		return fmt.Sprintf(" (weight-only on %s: %s math)", g.ID, c.Compute)
	case UnknownSupport:
		return " (support unknown)"
	}
	return ""
}
