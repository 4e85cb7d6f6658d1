package plan

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/gpuplan/gpuplan/cost"
	"github.com/gpuplan/gpuplan/dtype"
	"github.com/gpuplan/gpuplan/engine"
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
	// ThinkTimeS is how long a closed-loop user waits between a response
	// and its next request (default 0: back to back, the loop gpuplan
	// bench drives and the heaviest load N users can make).
	ThinkTimeS float64
	// SLOs in ms; 0 means none. Each is judged on SLOPercentile's
	// predicted value, or on its upper bound with SLOBand.
	TTFTSLOMs float64
	TPOTSLOMs float64
	// MaxNumSeqs and MaxNumBatchedTokens override the engine's scheduler
	// limits when > 0 (--max-num-seqs, --max-num-batched-tokens); CacheRate
	// is the fraction of prompt tokens served from the prefix cache
	// (--cache-rate).
	MaxNumSeqs, MaxNumBatchedTokens int
	CacheRate                       float64
	// NoSimulate keeps the steady-state figures for every row
	// (--simulate=false). By default the best rows are replayed in perf's
	// simulation: their latencies, headroom, SLO verdict and throughput
	// come from 2,000 simulated requests each, a row the simulation fails
	// gets more replicas until it holds the SLO (or is dropped when none
	// up to the bound does), and the rows are ranked again.
	NoSimulate bool
	// SLOPercentile is "p50", "p90", "p95" or "p99" (default p90).
	SLOPercentile string
	// SLOBand judges the percentile's upper bound (the error band applied
	// to it) instead of its predicted value.
	SLOBand bool
	// Objective ranks the table (default ObjectiveCost).
	Objective Objective
	// Region is an ARM region name (default eastus); Regions, when set,
	// are several, and each row is priced in the cheapest of them.
	Region  string
	Regions []string
	// GPUs restricts the search to these chip ids; Target to the sizes a
	// deployment target can run (TargetAKS, TargetAKSMultinode,
	// TargetKAITO, TargetContainerApps); "" searches VMs (single- and
	// multi-node) and Container Apps serverless GPUs.
	GPUs   []string
	Target string
	// BudgetUSDMonth rejects offers above it; 0 means no budget.
	BudgetUSDMonth float64
	// Precisions to consider. Empty means the forms this checkpoint can be
	// served in as it is: its own precision (fp16 on GPUs without bf16)
	// plus those the engine quantizes to at load time (vLLM's fp8).
	// AllPrecisions adds int8 and int4, which need a separately quantized
	// checkpoint.
	Precisions    []dtype.Precision
	AllPrecisions bool
	// CheckpointOnly restricts an empty Precisions to the checkpoint's own
	// form (deploy's default: no quantization the user did not ask for).
	CheckpointOnly bool
	KVDType        dtype.KVDType
	// Engine is the engine profile; nil means engine.Default().
	Engine engine.Engine
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

// Objective is what ranks the table.
type Objective string

// Objectives. ObjectiveCost, the default, is the monthly bill of carrying
// the stated load within the SLOs: what the user pays. Cost per token
// rewards spare capacity the load never uses, so it is a column and an
// option, not the default.
const (
	ObjectiveCost         Objective = "cost"
	ObjectiveCostPerToken Objective = "cost-per-token"
	ObjectiveLatency      Objective = "latency"
	ObjectiveThroughput   Objective = "throughput"
)

// Objectives lists the objectives in the order docs/cli.md gives them.
var Objectives = []Objective{ObjectiveCost, ObjectiveCostPerToken, ObjectiveLatency, ObjectiveThroughput}

// ParseObjective reads an --objective value.
func ParseObjective(s string) (Objective, error) {
	for _, o := range Objectives {
		if strings.EqualFold(strings.TrimSpace(s), string(o)) {
			return o, nil
		}
	}
	return "", fmt.Errorf("unknown --objective %q (use cost, cost-per-token, latency or throughput)", s)
}

// Describe is the table header's phrase for the objective.
func (o Objective) Describe() string {
	switch o {
	case ObjectiveCostPerToken:
		return "$ per million tokens"
	case ObjectiveLatency:
		return "judged latency (TTFT, then TPOT)"
	case ObjectiveThroughput:
		return "output tokens/s"
	}
	return "monthly bill for this load"
}

// Deployment targets for --target.
const (
	TargetAKS           = "aks"
	TargetAKSMultinode  = "aks-multinode"
	TargetKAITO         = "kaito"
	TargetContainerApps = "containerapps"
)

// Targets lists the --target values.
var Targets = []string{TargetAKS, TargetAKSMultinode, TargetKAITO, TargetContainerApps}

// SLOPercentiles lists the --slo-percentile values.
var SLOPercentiles = []string{"p50", "p90", "p95", "p99"}

// Result is a ranked plan.
type Result struct {
	Model    ModelRef `json:"model"`
	Workload Workload `json:"workload"`
	// Region is the first region searched; Regions all of them.
	Region  string   `json:"region"`
	Regions []string `json:"regions"`
	// Objective ranked the rows; SLOPercentile and SLORule ("point" or
	// "band") say how SLOs were judged.
	Objective     Objective `json:"objective"`
	SLOPercentile string    `json:"slo_percentile"`
	SLORule       string    `json:"slo_rule"`
	// RequestsPerS is the request stream every row is costed for, and the
	// managed rows too: --rps, or N closed-loop users ÷ (think time + a
	// reference response time); RequestStream says how it was found.
	RequestsPerS  float64     `json:"requests_per_s"`
	RequestStream string      `json:"request_stream"`
	Pricing       string      `json:"pricing"`
	Currency      string      `json:"currency"`
	PricesAsOf    string      `json:"prices_as_of,omitempty"`
	Rows          []Row       `json:"rows"`
	WhyNot        []Rejection `json:"why_not,omitempty"`
	Excludes      string      `json:"excludes"`
	Assumptions   []string    `json:"assumptions"`
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
	// Region is where the row is priced: the cheapest of the regions
	// searched that prices the size (the first one when none does).
	Region string `json:"region"`
	// Target is how the row is deployed: "aks" (one VM per replica group),
	// "aks-multinode" (a replica spans VMs) or "containerapps".
	Target string `json:"target"`
	// IdleGPUs are paid-for GPUs no replica uses (a VM whose GPU count is
	// not a multiple of TP × PP); replicas fill every VM otherwise.
	IdleGPUs int `json:"idle_gpus"`
	// FirstRequestTTFTMs is, for a Container Apps app that scales to zero,
	// the judged TTFT of the first request after idle: the cold start
	// added.
	FirstRequestTTFTMs float64 `json:"first_request_ttft_ms,omitempty"`

	// est and vmHour keep what re-pricing for the request stream needs.
	est    perf.Estimate
	vmHour cost.Money
	sim    *simInput // for simulateTop
}

// Rejection says why a family of offers has no row: one per family, for
// the strongest configuration tried (largest TP × PP, then VM count),
// with the reason that bound it.
type Rejection struct {
	// Family is the VM series (e.g. "NC_A100_v4").
	Family string `json:"family"`
	// VM, Precision, TP, PP and VMs are the configuration judged (empty
	// or zero when the family was rejected before sizing, e.g. retired).
	VM        string        `json:"vm,omitempty"`
	Precision string        `json:"precision,omitempty"`
	TP        int           `json:"tp,omitempty"`
	PP        int           `json:"pp,omitempty"`
	VMs       int           `json:"vms,omitempty"`
	Kind      RejectionKind `json:"kind"`
	// Reason is the detail in words.
	Reason string `json:"reason"`
}

// RejectionKind says why an offer was not chosen; its values are the
// why_not kinds of plan's JSON (docs/cli.md).
type RejectionKind string

// Rejection kinds.
const (
	RejectDoesNotFit            RejectionKind = "does_not_fit"
	RejectSLOMissed             RejectionKind = "slo_missed"
	RejectRetired               RejectionKind = "retired"
	RejectNoPrice               RejectionKind = "no_price"
	RejectNotInRegion           RejectionKind = "not_in_region"
	RejectPrecisionNotSupported RejectionKind = "precision_not_supported"
	RejectOverBudget            RejectionKind = "over_budget"
	RejectIncompatible          RejectionKind = "incompatible"
)

// strength orders rejections of a family: the strongest configuration
// tried is the one to explain.
func (r Rejection) strength() int { return r.TP*r.PP*100 + r.VMs }

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
	if r.Engine == nil {
		r.Engine = engine.Default()
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
	if r.ThinkTimeS < 0 || r.ThinkTimeS > 86400 || math.IsNaN(r.ThinkTimeS) {
		return fmt.Errorf("%w: --think-time-s must be in [0, 86400]", ErrInvalid)
	}
	if r.HoursPerDay < 0 || r.HoursPerDay > 24 {
		return fmt.Errorf("%w: --hours-per-day must be in (0, 24]", ErrInvalid)
	}
	if len(r.Regions) == 0 {
		if r.Region == "" {
			r.Region = "eastus"
		}
		r.Regions = []string{r.Region}
	}
	r.Region = r.Regions[0]
	if r.Objective == "" {
		r.Objective = ObjectiveCost
	}
	if _, err := ParseObjective(string(r.Objective)); err != nil {
		return fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	if r.SLOPercentile == "" {
		r.SLOPercentile = "p90"
	}
	if !slices.Contains(SLOPercentiles, r.SLOPercentile) {
		return fmt.Errorf("%w: --slo-percentile %q (use p50, p90, p95 or p99)", ErrInvalid, r.SLOPercentile)
	}
	if r.Target != "" && !slices.Contains(Targets, r.Target) {
		return fmt.Errorf("%w: --target %q (use %s)", ErrInvalid, r.Target, strings.Join(Targets, ", "))
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
	// layoutNote says why MoE layouts were not searched (assumption line).
	layoutNote string
	// caProfile is the Container Apps profile being searched, if any.
	caProfile hardware.ContainerAppsProfile
	// prices indexes the USD price book by VM (lower case), region and
	// kind; cheapest holds each VM and kind's cheapest row in any region.
	prices   map[priceKey]hardware.Price
	cheapest map[priceKey]hardware.Price
}

type priceKey struct {
	vm, region string
	kind       hardware.PriceKind
}

// lookup finds a USD price in the index.
func (s *searcher) lookup(vm, region string, kind hardware.PriceKind) (hardware.Price, bool) {
	p, ok := s.prices[priceKey{strings.ToLower(vm), region, kind}]
	return p, ok
}

func newSearcher(r Request) *searcher {
	gpus := map[string]hardware.GPU{}
	for _, g := range r.Hardware.GPUs() {
		gpus[g.ID] = g
	}
	s := &searcher{r: r, gpus: gpus, cache: map[offerKey]*replicaFit{}, why: map[string]Rejection{}, params: r.Model.Params(),
		prices: map[priceKey]hardware.Price{}, cheapest: map[priceKey]hardware.Price{}}
	for _, p := range r.Prices.Prices {
		if !strings.EqualFold(p.Currency, "USD") {
			continue
		}
		k := priceKey{strings.ToLower(p.VM), p.Region, p.Kind}
		s.prices[k] = p
		ck := priceKey{k.vm, "", p.Kind}
		if c, ok := s.cheapest[ck]; !ok || p.USDPerHour < c.USDPerHour {
			s.cheapest[ck] = p
		}
	}
	return s
}

// reject records why a configuration of a family failed, keeping per
// family the strongest configuration tried.
func (s *searcher) reject(rej Rejection) {
	// On a tie the first configuration tried (the checkpoint's own
	// precision comes first) keeps the line.
	if old, ok := s.why[rej.Family]; ok && old.strength() >= rej.strength() {
		return
	}
	s.why[rej.Family] = rej
}

func (s *searcher) run() (Result, error) {
	r := s.r
	vms, err := s.vmsToSearch()
	if err != nil {
		return Result{}, err
	}
	for _, vm := range vms {
		s.evaluateVM(vm)
	}
	// Container Apps serverless GPUs are an option of the open search and
	// the whole of --target containerapps; --vm names VM sizes only.
	if r.Target == TargetContainerApps || (r.Target == "" && len(r.VMs) == 0) {
		s.evaluateContainerApps()
	}
	s.rank()
	s.simulateTop()
	rps, how := s.stream()
	if rps > 0 {
		for i := range s.rows {
			row := &s.rows[i]
			if row.PriceKnown {
				s.priceTokens(row, rps)
			}
		}
		s.rank()
	}
	rule := "point"
	if r.SLOBand {
		rule = "band"
	}
	res := Result{
		Model:    ModelRef{ID: r.Model.ID, Source: r.Model.Source, Revision: r.Model.Revision, ParamsTotal: s.params.Total, ParamsActive: s.params.Active},
		Workload: s.workload(), Region: r.Region, Regions: r.Regions, Pricing: string(r.Pricing), Currency: "USD",
		Objective: r.Objective, SLOPercentile: r.SLOPercentile, SLORule: rule, RequestsPerS: rps, RequestStream: how,
		Rows: s.rows, Evaluated: s.n,
		Excludes: "VM compute only: excludes the AKS control plane and system node pool, OS and model-cache disks, egress, load balancers and monitoring",
		Assumptions: []string{
			fmt.Sprintf("engine %s; SLOs judged on the %s %s", r.Engine.Info().ID(), r.SLOPercentile, map[string]string{"point": "predicted value", "band": "upper bound (error band applied)"}[rule]),
			fmt.Sprintf("VMs bill %d h/month; token volume assumes the load runs %.0f h/day", hardware.HoursPerMonth, r.HoursPerDay),
			"$/million tokens counts input + output tokens; the input/output split follows each row's share of GPU time in prefill vs decode",
			"a multi-GPU VM runs GPUs ÷ (TP × PP) replicas: the VM is paid for whole, so every GPU serves",
		},
	}
	if !r.NoSimulate && len(s.rows) > 0 {
		res.Assumptions = append(res.Assumptions, fmt.Sprintf("the best %d rows' speed (TTFT, TPOT, tails, headroom, SLO verdict, tokens/s) comes from simulating %s requests each (seed %d; lengths spread ±%.0f%% around the means, as a population's are) with the same calibrated step model; a row the simulation fails gets more replicas of its VM (fewer users or requests each, up to %d× its VMs and at most %d more simulations), is dropped only when none holds the SLO, and the rows are ranked again; other rows use the steady-state model (--simulate=false: all rows)", simulatedRows, cost.FormatCount(simRequests), simSeed, perf.PopulationLengthCV*math.Sqrt(3)*100, simMaxScale, simResizes))
	}
	if s.layoutNote != "" {
		res.Assumptions = append(res.Assumptions, s.layoutNote)
	}
	var dates []hardware.Date
	for _, row := range s.rows {
		if row.Candidate.Prices.PriceAsOf != "" {
			d, _ := hardware.ParseDate(row.Candidate.Prices.PriceAsOf)
			dates = append(dates, d)
		}
	}
	if d := hardware.OldestDate(dates...); !d.IsZero() {
		res.PricesAsOf = d.String()
	}
	res.WhyNot = s.whyNot()
	if len(s.rows) == 0 {
		return res, fmt.Errorf("%w for %s at this load and these SLOs", ErrInfeasible, r.Model.ID)
	}
	return res, nil
}

// vmsToSearch applies --vm, --gpu and --target to the catalog's sizes.
func (s *searcher) vmsToSearch() ([]hardware.VMSize, error) {
	r := s.r
	vms := r.Hardware.VMSizes()
	if len(r.VMs) > 0 {
		vms = vms[:0:0]
		for _, name := range r.VMs {
			vm, err := r.Hardware.LookupVM(name)
			if err != nil {
				return nil, fmt.Errorf("%w: --vm: %v", ErrInvalid, err)
			}
			vms = append(vms, vm)
		}
	}
	if len(r.GPUs) > 0 {
		want := map[string]bool{}
		for _, id := range r.GPUs {
			g, err := r.Hardware.LookupGPU(id)
			if err != nil {
				return nil, fmt.Errorf("%w: --gpu: %v", ErrInvalid, err)
			}
			want[g.ID] = true
		}
		vms = slices.DeleteFunc(vms, func(v hardware.VMSize) bool { return !want[v.GPU] })
	}
	switch r.Target {
	case TargetAKS, TargetAKSMultinode:
		vms = slices.DeleteFunc(vms, func(v hardware.VMSize) bool { return v.AKS != hardware.Yes })
	case TargetKAITO:
		vms = slices.DeleteFunc(vms, func(v hardware.VMSize) bool { return v.KAITO != hardware.Yes })
	case TargetContainerApps:
		vms = nil // searched as Container Apps profiles
	}
	if len(vms) == 0 && r.Target != TargetContainerApps && (len(r.GPUs) > 0 || len(r.VMs) > 0 || r.Target != "") {
		return nil, fmt.Errorf("%w: --gpu, --vm and --target leave no VM size to search", ErrInvalid)
	}
	return vms, nil
}

// whyNot returns one line per family without a priced row: the strongest
// configuration tried and what bound it. A family whose only rows are
// unpriced says "no price known" and how to add one.
func (s *searcher) whyNot() []Rejection {
	priced, unpriced := map[string]bool{}, map[string]Row{}
	for _, row := range s.rows {
		f := s.familyOf(row.Candidate.VM, row.Target)
		if row.PriceKnown {
			priced[f] = true
		} else if _, ok := unpriced[f]; !ok {
			unpriced[f] = row
		}
	}
	var out []Rejection
	for f, rej := range s.why {
		if priced[f] {
			continue
		}
		if row, ok := unpriced[f]; ok {
			c := row.Candidate
			rej = Rejection{Family: f, VM: c.VM, Precision: c.Engine.Precision, TP: c.Engine.TP, PP: c.Engine.PP, VMs: c.VMCount,
				Kind: RejectNoPrice, Reason: c.Reason}
		}
		out = append(out, rej)
	}
	for f, row := range unpriced {
		if _, ok := s.why[f]; !ok && !priced[f] {
			c := row.Candidate
			out = append(out, Rejection{Family: f, VM: c.VM, Precision: c.Engine.Precision, TP: c.Engine.TP, PP: c.Engine.PP, VMs: c.VMCount,
				Kind: RejectNoPrice, Reason: c.Reason})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Family < out[j].Family })
	return out
}

// familyOf names the why-not family of a row: the VM series, or the
// Container Apps profile family.
func (s *searcher) familyOf(vm, target string) string {
	if target == TargetContainerApps {
		return "ContainerApps"
	}
	if v, err := s.r.Hardware.LookupVM(vm); err == nil {
		return v.Series
	}
	return vm
}

func (s *searcher) workload() Workload {
	return Workload{InputTokens: int64(s.r.InputTokens), OutputTokens: int64(s.r.OutputTokens), Concurrency: int64(s.r.Concurrency),
		RPS: s.r.RPS, HoursPerDay: s.r.HoursPerDay, TTFTSLOMs: s.r.TTFTSLOMs, TPOTSLOMs: s.r.TPOTSLOMs, CacheRate: s.r.CacheRate}
}

// precisionsFor lists the deployable precisions to try on a GPU: the
// checkpoint's own (as the engine runs it there), then what the engine can
// quantize to at load time, then with AllPrecisions the pre-quantized
// forms. Precisions the engine cannot run are judged (and rejected with
// their reason) by evaluate.
func (s *searcher) precisionsFor(g hardware.GPU) []dtype.Precision {
	if len(s.r.Precisions) > 0 {
		return s.r.Precisions
	}
	t := engine.OnGPU(g)
	native, err := engine.DefaultPrecision(s.r.Model, t, s.r.Engine)
	if err != nil {
		return nil
	}
	out := []dtype.Precision{native}
	if s.r.Model.Quant != nil || s.r.CheckpointOnly {
		// A pre-quantized checkpoint is served as what it is.
		return out
	}
	seen := map[string]bool{native.Name: true}
	add := func(p dtype.Precision) {
		if !seen[p.Name] && p.WeightBits() < native.WeightBits() {
			seen[p.Name] = true
			out = append(out, p)
		}
	}
	if fp8, err := dtype.LookupPrecision("fp8"); err == nil {
		if _, ok := s.r.Engine.Info().QuantizeAtLoad(fp8); ok {
			add(fp8)
		}
	}
	if s.r.AllPrecisions {
		for _, name := range []string{"int8", "int4"} {
			if p, err := dtype.LookupPrecision(name); err == nil {
				add(p)
			}
		}
	}
	return out
}

func (s *searcher) evaluateVM(vm hardware.VMSize) {
	family := vm.Series
	if vm.Retired() {
		s.reject(Rejection{Family: family, VM: vm.Name, Kind: RejectRetired, Reason: fmt.Sprintf("%s is retired", vm.Name)})
		return
	}
	g, ok := s.gpus[vm.GPU]
	if !ok {
		s.reject(Rejection{Family: family, VM: vm.Name, Kind: RejectIncompatible, Reason: fmt.Sprintf("%s carries GPU %q, which the catalog does not describe; add it with --catalog", vm.Name, vm.GPU)})
		return
	}
	gpus := vm.GPUs()
	if gpus <= 0 {
		s.reject(Rejection{Family: family, VM: vm.Name, Kind: RejectIncompatible, Reason: fmt.Sprintf("%s: GPU count unknown", vm.Name)})
		return
	}
	whole := int(math.Floor(gpus))
	multiNodeOK := s.r.Target == "" || s.r.Target == TargetAKSMultinode
	for _, p := range s.precisionsFor(g) {
		// TP within one VM, smallest first; a larger TP is tried only if a
		// smaller one cannot hold the model or meet the SLO.
		found, memoryOnly := false, true
		s.curFabric, s.curGPUsPerVM = nil, 0
		for _, tp := range []int{1, 2, 4, 8} {
			if tp > max(whole, 1) {
				break
			}
			ok, kind := false, RejectionKind("")
			for _, l := range s.layoutsFor(family, tp) {
				s.cur = l
				lok, lkind := s.evaluate(vm, g, p, tp, 1, 1, TargetAKS)
				if lok {
					ok = true
				} else if kind == "" || kind == RejectDoesNotFit {
					kind = lkind
				}
			}
			if ok {
				found = true
				break
			}
			if kind != RejectDoesNotFit {
				memoryOnly = false
			}
		}
		s.cur = layout{ep: max(s.r.EP, 1), dp: s.r.DPAttention}
		if !found && memoryOnly && whole >= 1 && multiNodeOK {
			// Multi-node only when one VM cannot hold the model: pipeline
			// stages across VMs, TP across each VM's GPUs, hand-offs over
			// the VM-to-VM network.
			fab, err := fabricFor(vm)
			if err != nil {
				// The single-VM does_not_fit rejection stays the binding
				// reason; say why spanning VMs was not tried.
				if old, ok := s.why[family]; ok && old.Kind == RejectDoesNotFit {
					old.Reason += "; " + err.Error()
					s.why[family] = old
				} else {
					s.reject(Rejection{Family: family, VM: vm.Name, Precision: p.Name, TP: whole, PP: 1, VMs: 1, Kind: RejectIncompatible, Reason: fmt.Sprintf("%s at TP %d does not fit one VM, and %v", p.Name, whole, err)})
				}
				continue
			}
			s.curFabric, s.curGPUsPerVM = fab, whole
			for _, nodes := range []int{2, 4} {
				if ok, _ := s.evaluate(vm, g, p, whole, nodes, nodes, TargetAKSMultinode); ok {
					break
				}
			}
			s.curFabric, s.curGPUsPerVM = nil, 0
		}
	}
}

// evaluateContainerApps searches the serverless (consumption) GPU
// profiles: one GPU per replica, billed per second, scaling to zero. The
// profile runs on a VM size the catalog describes, which sizes the replica.
func (s *searcher) evaluateContainerApps() {
	for _, prof := range s.r.Hardware.ContainerAppsProfiles() {
		if prof.Kind != "consumption" || prof.VMSize == "" || prof.GPUs != 1 {
			continue
		}
		if len(s.r.GPUs) > 0 && !slices.ContainsFunc(s.r.GPUs, func(id string) bool {
			g, err := s.r.Hardware.LookupGPU(id)
			return err == nil && g.ID == prof.GPU
		}) {
			continue
		}
		vm, err := s.r.Hardware.LookupVM(prof.VMSize)
		if err != nil {
			continue
		}
		if len(s.r.VMs) > 0 && !slices.ContainsFunc(s.r.VMs, func(n string) bool {
			v, err := s.r.Hardware.LookupVM(n)
			return err == nil && v.Name == vm.Name
		}) {
			continue
		}
		g, ok := s.gpus[prof.GPU]
		if !ok {
			continue
		}
		if !slices.ContainsFunc(s.r.Regions, func(reg string) bool { return slices.Contains(prof.Regions, reg) }) {
			s.reject(Rejection{Family: "ContainerApps", VM: vm.Name, Kind: RejectNotInRegion,
				Reason: fmt.Sprintf("Container Apps profile %s runs in %s, none of the regions searched", prof.Type, strings.Join(prof.Regions, ", "))})
			continue
		}
		vm.Series = "ContainerApps"
		s.caProfile = prof
		for _, p := range s.precisionsFor(g) {
			s.evaluate(vm, g, p, 1, 1, 1, TargetContainerApps)
		}
		s.caProfile = hardware.ContainerAppsProfile{}
	}
}

// evaluate judges one (VM, precision, TP, PP) combination and records a
// row when feasible. It reports whether the combination fit in memory and
// met the SLOs (so the caller can stop widening TP), and otherwise the kind
// of rejection.
func (s *searcher) evaluate(vm hardware.VMSize, g hardware.GPU, p dtype.Precision, tp, pp, nodes int, target string) (bool, RejectionKind) {
	r := s.r
	s.n++
	family := vm.Series
	base := Rejection{Family: family, VM: vm.Name, Precision: p.Name, TP: tp, PP: pp, VMs: nodes}
	comp := engine.Check(engine.Combination{Model: r.Model, Target: engine.OnGPU(g), VM: &vm, Precision: p, TP: tp, PP: pp, Engine: r.Engine, ImageArch: r.ImageArch})
	if !comp.OK() {
		kind := RejectIncompatible
		if comp.Has(engine.KindPrecision) {
			kind = RejectPrecisionNotSupported
		}
		rej := base
		rej.Kind, rej.Reason = kind, fmt.Sprintf("%s on %s at TP %d: %s", p.Name, vm.Name, tp, strings.Join(comp.Texts(), "; "))
		s.reject(rej)
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
		rej := base
		rej.Kind, rej.Reason = fit.reject.Kind, fmt.Sprintf("%s on %s: %s", p.Name, vm.Name, fit.reject.Reason)
		s.reject(rej)
		return false, rej.Kind
	}
	row, ok := s.row(vm, gpu, p, tp, pp, nodes, fit, comp, target)
	if !ok {
		// Fits, but the load at this TP misses the SLO (or the budget):
		// a wider TP may still serve it.
		return false, RejectSLOMissed
	}
	s.rows = append(s.rows, row)
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
// meets the SLOs as judged (percentile, point or band) and fits the KV pool.
func (s *searcher) fitReplica(g hardware.GPU, p dtype.Precision, tp, pp int) *replicaFit {
	r := s.r
	prec := p
	b, err := memory.Estimate(memory.Request{
		Model: r.Model, Precision: &prec, KVDType: r.KVDType, Context: r.Context, Concurrency: 1,
		GPU: memory.GPU{ID: g.ID, CUDAMemory: g.CUDAMemory, DriverMemory: g.DriverMemory}, TP: tp, PP: pp, Engine: r.Engine,
		Scheduler:       engine.Scheduler{MaxSeqs: r.MaxNumSeqs, MaxTokens: r.MaxNumBatchedTokens},
		SkipSuggestions: true, EP: s.cur.ep, DPAttention: s.cur.dp,
	})
	if err != nil {
		return &replicaFit{err: err, reject: &Rejection{Kind: RejectIncompatible, Reason: err.Error()}}
	}
	if !b.Fits {
		return &replicaFit{budget: b, reject: &Rejection{Kind: RejectDoesNotFit, Reason: fmt.Sprintf("TP %d × PP %d: %s", tp, pp, strings.Join(b.Reasons, "; "))}}
	}
	// KV capacity at the sequence length actually used (input + output),
	// capped by the scheduler's max_num_seqs.
	seqLen := int64(r.InputTokens + r.OutputTokens)
	kvCap := b.Layout.MaxConcurrency(b.Layout.Blocks(b.KVRoom), seqLen, int64(b.Scheduler.MaxTokens))
	limit := int(math.Floor(kvCap))
	if b.Scheduler.MaxSeqs > 0 {
		limit = min(limit, b.Scheduler.MaxSeqs)
	}
	if limit < 1 {
		return &replicaFit{budget: b, reject: &Rejection{Kind: RejectDoesNotFit, Reason: "the KV pool cannot hold one request"}}
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
		kind := RejectIncompatible
		if errors.Is(err, perf.ErrDoesNotFit) {
			kind = RejectDoesNotFit
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
		return &replicaFit{budget: b, reject: &Rejection{Kind: RejectIncompatible, Reason: err.Error()}}
	}
	if !ok {
		return &replicaFit{budget: b, reject: &Rejection{Kind: RejectSLOMissed, Reason: fmt.Sprintf("TP %d × PP %d: even a single request's %s is TTFT %.0f ms, TPOT %.1f ms", tp, pp, s.sloWords(), s.judged(e1.TTFT), s.judged(e1.TPOT))}}
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

// judged is the figure an SLO is held to: the chosen percentile's
// predicted value, or with --slo-confidence band its upper bound (the
// percentile scaled by the error band, as perf bounds the mean).
func (s *searcher) judged(l perf.Latency) float64 {
	return judgedValue(latencyOf(l), s.r.SLOPercentile, s.r.SLOBand)
}

func judgedValue(l Latency, pct string, band bool) float64 {
	v, hi := l.P90, l.P90High
	switch pct {
	case "p50":
		v, hi = l.P50, l.P50High
	case "p95":
		v, hi = l.P95, l.P95High
	case "p99":
		v, hi = l.P99, l.P99High
	}
	if band {
		return hi
	}
	return v
}

func (s *searcher) meetsSLO(e perf.Estimate) bool {
	if e.Saturated {
		return false
	}
	if s.r.TTFTSLOMs > 0 && s.judged(e.TTFT) > s.r.TTFTSLOMs {
		return false
	}
	if s.r.TPOTSLOMs > 0 && s.judged(e.TPOT) > s.r.TPOTSLOMs {
		return false
	}
	return true
}

// row builds the table row for a feasible replica on a VM size: enough
// replicas for the load, every VM filled with GPUs ÷ (TP × PP) replicas,
// priced in the cheapest region searched.
func (s *searcher) row(vm hardware.VMSize, g hardware.GPU, p dtype.Precision, tp, pp, nodes int, fit *replicaFit, comp engine.Compatibility, target string) (Row, bool) {
	r := s.r
	spread := s.spread
	var replicas int
	switch {
	case r.Concurrency > 0:
		replicas = int(math.Ceil(float64(r.Concurrency) / float64(fit.capacity)))
	default:
		if fit.capRPS <= 0 {
			return Row{}, false
		}
		replicas = int(math.Ceil(r.RPS / fit.capRPS))
	}
	w := spread(replicas)
	e, err := fit.dep.Predict(w)
	if err == nil && !s.meetsSLO(e) {
		// The open-loop rate at the closed-loop capacity can sit past the
		// SLO's edge (arrivals queue where closed-loop users wait). Find
		// the fewest replicas that hold it: double until it holds, then
		// bisect; give up at 4,096 replicas, where queueing is negligible
		// and what is left is one request's own latency.
		lo, hi := replicas, 0
		lightest := e
		for n := replicas * 2; n <= 4096; n *= 2 {
			e2, err2 := fit.dep.Predict(spread(n))
			if err2 == nil && s.meetsSLO(e2) {
				hi = n
				break
			}
			if err2 == nil {
				lightest = e2
			}
			lo = n
		}
		if hi == 0 {
			s.reject(Rejection{Family: vm.Series, VM: vm.Name, Precision: p.Name, TP: tp, PP: pp, VMs: nodes, Kind: RejectSLOMissed,
				Reason: fmt.Sprintf("%s on %s: TP %d × PP %d misses the SLO at this request rate however many replicas share it (%s TTFT %.0f ms, TPOT %.1f ms at the lightest load tried)",
					p.Name, vm.Name, tp, pp, s.sloWords(), s.judged(lightest.TTFT), s.judged(lightest.TPOT))})
			return Row{}, false
		}
		for lo+1 < hi {
			mid := lo + (hi-lo)/2
			if e2, err2 := fit.dep.Predict(spread(mid)); err2 == nil && s.meetsSLO(e2) {
				hi = mid
			} else {
				lo = mid
			}
		}
		replicas = hi
		w = spread(replicas)
		e, err = fit.dep.Predict(w)
	}
	if err != nil {
		s.reject(Rejection{Family: vm.Series, VM: vm.Name, Precision: p.Name, TP: tp, PP: pp, VMs: nodes, Kind: RejectIncompatible, Reason: err.Error()})
		return Row{}, false
	}
	return s.buildRow(&rowSpec{vm: vm, g: g, p: p, tp: tp, pp: pp, nodes: nodes, fit: fit, comp: comp, target: target, layout: s.cur, caProfile: s.caProfile}, replicas, e)
}

// rowSpec is what building a row for a replica count needs: the offer
// as evaluate judged it (simulateTop builds the row again with more
// replicas).
type rowSpec struct {
	vm           hardware.VMSize
	g            hardware.GPU
	p            dtype.Precision
	tp, pp       int
	nodes        int
	fit          *replicaFit
	comp         engine.Compatibility
	target       string
	layout       layout
	caProfile    hardware.ContainerAppsProfile
	replicasUnit int // replicas per VM (one VM) or 1 (a replica spans VMs)
}

// spread returns the per-replica workload when n replicas share the load.
func (s *searcher) spread(n int) perf.Workload {
	r := s.r
	w := perf.Workload{InputTokens: r.InputTokens, OutputTokens: r.OutputTokens}
	if r.Concurrency > 0 {
		w.Concurrency = int(math.Ceil(float64(r.Concurrency) / float64(n)))
	} else {
		w.RPS = r.RPS / float64(n)
	}
	return w
}

// buildRow sizes, describes and prices the row for an offer served by
// replicas replicas whose load predicts as e: every VM paid for is filled
// with replicas. It reports false (and records why) when the row is over
// the budget.
func (s *searcher) buildRow(spec *rowSpec, replicas int, e perf.Estimate) (Row, bool) {
	r := s.r
	// The row's layout and Container Apps profile, which simulateTop's
	// rebuild no longer has as the searcher's current ones.
	cur, ca := s.cur, s.caProfile
	s.cur, s.caProfile = spec.layout, spec.caProfile
	defer func() { s.cur, s.caProfile = cur, ca }()
	vm, g, p, tp, pp, nodes, fit, comp, target := spec.vm, spec.g, spec.p, spec.tp, spec.pp, spec.nodes, spec.fit, spec.comp, spec.target
	gpusPerReplica := tp * pp
	whole := int(math.Floor(vm.GPUs()))
	replicasPerVM := 1
	if nodes == 1 && whole >= 1 {
		replicasPerVM = max(whole/gpusPerReplica, 1)
	}
	spec.replicasUnit = replicasPerVM
	if nodes > 1 {
		spec.replicasUnit = 1
	}
	w := s.spread(replicas)
	vmCount := int(math.Ceil(float64(replicas) / float64(replicasPerVM)))
	idle := 0
	if nodes > 1 {
		vmCount = replicas * nodes
		idle = vmCount*whole - replicas*gpusPerReplica
	} else if whole >= 1 {
		// Fill the VMs paid for: more replicas, same bill, lighter load each.
		if full := vmCount * replicasPerVM; full > replicas {
			replicas = full
			w = s.spread(replicas)
			if e2, err := fit.dep.Predict(w); err == nil {
				e = e2
			}
		}
		idle = vmCount*whole - replicas*gpusPerReplica
	}
	c := s.candidate(vm, g, p, tp, pp, nodes, replicas, vmCount, fit, e, comp)
	s.engineLayout(&c.Engine)
	row := Row{Candidate: c, QuotaFamily: vm.QuotaFamily, VCPUsNeeded: vm.VCPU * vmCount, ConcurrencyPerReplica: w.Concurrency,
		Headroom: s.headroom(e, fit), Target: target, IdleGPUs: idle, sim: &simInput{dep: fit.dep, w: w, spec: spec}}
	if target == TargetContainerApps {
		row.QuotaFamily, row.VCPUsNeeded = "", 0
		if r.HoursPerDay < 24 {
			// Scales to zero while idle: the first request after idle waits
			// for a replica to start and load the weights.
			row.FirstRequestTTFTMs = s.judged(e.TTFT) + c.Predictions.ColdStartS*1000
		}
	}
	region, price, ok := s.cheapestRegion(vm, target)
	row.Region = region
	row.Candidate.Region = region
	row.RegionAvailable = "unknown"
	if _, inRegion := s.lookup(vm.Name, region, hardware.PAYG); inRegion {
		row.RegionAvailable = "yes"
	}
	if target == TargetContainerApps {
		row.RegionAvailable = "no"
		if slices.Contains(s.caProfile.Regions, region) {
			row.RegionAvailable = "yes"
		}
	}
	idleNote := ""
	if idle > 0 {
		idleNote = fmt.Sprintf("; %d of %d paid GPUs idle", idle, vmCount*whole)
	}
	if ok {
		row.PriceKnown = true
		s.price(&row, price, e, vmCount)
		if r.BudgetUSDMonth > 0 && *row.Candidate.Prices.USDPerMonth > r.BudgetUSDMonth {
			s.reject(Rejection{Family: vm.Series, VM: vm.Name, Precision: p.Name, TP: tp, PP: pp, VMs: vmCount, Kind: RejectOverBudget,
				Reason: fmt.Sprintf("%s × %d costs $%.0f/month, over the $%.0f budget", vm.Name, vmCount, *row.Candidate.Prices.USDPerMonth, r.BudgetUSDMonth)})
			return Row{}, false
		}
		spot := ""
		if price.NoSpotDiscount() {
			spot = "; " + hardware.NoSpotDiscountNote
		}
		row.Candidate.Reason = fmt.Sprintf("%s of TP %d×PP %d%s at %s%s; %s-bound%s%s%s", plural(replicas, "replica"), tp, pp, s.cur, p.Name, compatNote(comp, g), strings.ReplaceAll(string(e.Bottleneck), "_", " "), idleNote, spot, deployNote(r.Model, p, r.Engine))
	} else if target == TargetContainerApps {
		row.Candidate.Reason = fmt.Sprintf("Container Apps %s: no sourced per-second price (the embedded book has VM prices only); supply one with --catalog or compare with the VM rows%s", s.caProfile.Type, idleNote)
	} else {
		row.Candidate.Reason = s.noPriceReason(vm.Name, region, r.Pricing) + idleNote
	}
	return row, true
}

// cheapestRegion picks, among the regions searched, the one with the
// lowest price of the requested kind for vm (the first listed wins a tie).
// Container Apps rows have no sourced price; their region is the first
// searched region the profile runs in.
func (s *searcher) cheapestRegion(vm hardware.VMSize, target string) (string, hardware.Price, bool) {
	r := s.r
	if target == TargetContainerApps {
		for _, reg := range r.Regions {
			if slices.Contains(s.caProfile.Regions, reg) {
				return reg, hardware.Price{}, false
			}
		}
		return r.Regions[0], hardware.Price{}, false
	}
	var best hardware.Price
	bestRegion, found := r.Regions[0], false
	for _, reg := range r.Regions {
		p, ok := s.lookup(vm.Name, reg, r.Pricing)
		if ok && (!found || p.USDPerHour < best.USDPerHour) {
			best, bestRegion, found = p, reg, true
		}
	}
	return bestRegion, best, found
}

// noPriceReason says that a size has no price of the kind asked for, and
// how to supply one: `gpuplan prices refresh` or a --catalog prices row.
func (s *searcher) noPriceReason(vm, region string, kind hardware.PriceKind) string {
	if cheapest, found := s.cheapest[priceKey{strings.ToLower(vm), "", kind}]; found {
		return fmt.Sprintf("no %s price known for %s in %s; it is priced in %s ($%s/hour): search there with --region %s or --region any, or add a --catalog row {vm: %s, region: %s, kind: %s, usd_per_hour, currency: USD, source, as_of}",
			kind, vm, region, cheapest.Region, cost.FormatPrice(cheapest.USDPerHour), cheapest.Region, vm, region, kind)
	}
	return fmt.Sprintf("no %s price known for %s in any region: run `gpuplan prices refresh`, or add a --catalog row {vm: %s, region: %s, kind: %s, usd_per_hour, currency: USD, source, as_of}",
		kind, vm, vm, region, kind)
}

// sloWords names the judged figure ("p90", "p90 upper bound").
func (s *searcher) sloWords() string {
	if s.r.SLOBand {
		return s.r.SLOPercentile + " upper bound"
	}
	return s.r.SLOPercentile
}

func (s *searcher) headroom(e perf.Estimate, fit *replicaFit) float64 {
	h := 1.0
	if v := s.judged(e.TTFT); s.r.TTFTSLOMs > 0 && v > 0 {
		h = math.Min(h, 1-v/s.r.TTFTSLOMs)
	}
	if v := s.judged(e.TPOT); s.r.TPOTSLOMs > 0 && v > 0 {
		h = math.Min(h, 1-v/s.r.TPOTSLOMs)
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
	row.est, row.vmHour = e, vmHour.Scale(float64(vmCount))
	reqPerS := r.RPS
	if r.Concurrency > 0 {
		// Until the request stream is fixed (run), the row's own rate.
		reqPerS = e.RequestsPerS * float64(row.Candidate.Replicas)
	}
	s.priceTokens(row, reqPerS)
	if p := row.Candidate.Prices.USDPerMillionTokens; p != nil {
		own := *p
		row.Candidate.Prices.USDPerMillionTokensOwnRate = &own
	}
}

// priceTokens sets a priced row's $/million tokens for a request stream of
// reqPerS requests per second.
func (s *searcher) priceTokens(row *Row, reqPerS float64) {
	r := s.r
	e := row.est
	batch := math.Max(e.RunningBatch, 1)
	load := cost.Load{
		InputTokensPerS:  reqPerS * float64(r.InputTokens),
		OutputTokensPerS: reqPerS * float64(r.OutputTokens),
		PrefillTime:      time.Duration(e.TTFT.Mean * float64(time.Millisecond)),
		DecodeTime:       time.Duration(float64(r.OutputTokens-1) * e.TPOT.Mean / batch * float64(time.Millisecond)),
	}
	// The hour's bill is spread over only the hours the load runs.
	tc, err := cost.PerMillionTokens(row.vmHour.Scale(24/r.HoursPerDay), load)
	if err != nil {
		return
	}
	blended := tc.Blended.Amount
	row.Candidate.Prices.USDPerMillionTokens = &blended
	row.Candidate.Prices.USDPerMillionInput, row.Candidate.Prices.USDPerMillionOutput = nil, nil
	if tc.Input != nil {
		in := tc.Input.Amount
		row.Candidate.Prices.USDPerMillionInput = &in
	}
	if tc.Output != nil {
		out := tc.Output.Amount
		row.Candidate.Prices.USDPerMillionOutput = &out
	}
}

// stream is the request rate every row (and the managed comparison) is
// costed for. An open loop is its --rps. A closed loop of N users who
// think Z seconds between a response and their next request sends
// N ÷ (Z + R) requests a second, R being the response time: the mean
// end-to-end latency of the top-ranked row (the configuration the user
// would run); with no feasible row, the response time the SLOs allow
// (TTFT + (output − 1) × TPOT); with neither, N ÷ Z when Z > 0.
func (s *searcher) stream() (float64, string) {
	r := s.r
	if r.RPS > 0 {
		return r.RPS, "open loop: --rps"
	}
	n, z := float64(r.Concurrency), r.ThinkTimeS
	if len(s.rows) > 0 {
		rt := s.rows[0].Candidate.Predictions.E2EMs.Mean / 1000
		if z+rt > 0 {
			return n / (z + rt), fmt.Sprintf("%d users ÷ (think time %g s + %.2f s mean response of rank 1)", r.Concurrency, z, rt)
		}
	}
	if r.TTFTSLOMs > 0 || r.TPOTSLOMs > 0 {
		rt := (r.TTFTSLOMs + float64(r.OutputTokens-1)*r.TPOTSLOMs) / 1000
		if z+rt > 0 {
			return n / (z + rt), fmt.Sprintf("%d users ÷ (think time %g s + %.2f s response the SLOs allow)", r.Concurrency, z, rt)
		}
	}
	if z > 0 {
		return n / z, fmt.Sprintf("%d users ÷ think time %g s (no response time known: an upper bound)", r.Concurrency, z)
	}
	return 0, "unknown: no feasible row, no SLO and no think time to derive a request rate from"
}

func (s *searcher) candidate(vm hardware.VMSize, g hardware.GPU, p dtype.Precision, tp, pp, nodes, replicas, vmCount int, fit *replicaFit, e perf.Estimate, comp engine.Compatibility) Candidate {
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
	verdict := comp.Verdict
	info := r.Engine.Info()
	image, _ := info.Image(engine.Target{GPU: g, CPU: vm.CPUArch})
	quant, _ := info.QuantizeAtLoad(p)
	if r.Model.Quant != nil {
		quant = ""
	}
	// Cold start: a new replica downloads the weights from the Hugging
	// Face Hub (the worst of perf's stated sources; a warm model cache on
	// NVMe or Blob is faster), which deploy sizes its startup probe from.
	var coldStart float64
	if src, err := perf.LookupLoadSource("hf"); err == nil {
		src = src.CappedByNetwork(vm.Name, vm.NetworkBitsPerS)
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
			Name: info.EngineName, Version: info.EngineVersion, Image: image,
			Precision: p.Name, Checkpoint: checkpoint, Quantization: quant, DType: dt, KVCacheDType: kv,
			TP: tp, PP: pp, MaxModelLen: r.Context, MaxNumBatchedTokens: b.Scheduler.MaxTokens, MaxNumSeqs: b.Scheduler.MaxSeqs,
			MicroBatchTokens: b.Scheduler.MicroBatch,
			BlockSize:        b.Layout.BlockSize, GPUMemoryUtilization: b.Utilization, PrefixCaching: r.CacheRate > 0,
		},
		Workload: s.workload(),
		Predictions: Predictions{
			TTFTMs: latencyOf(e.TTFT), TPOTMs: latencyOf(e.TPOT), ITLMs: latencyOf(e.ITL), E2EMs: latencyOf(e.E2E),
			OutputTokensPerS: e.OutputTokensPerS * float64(replicas), RequestsPerS: e.RequestsPerS * float64(replicas),
			MaxConcurrency: int64(fit.capacity), KVCacheTokens: b.KVCacheTokens, Bottleneck: string(e.Bottleneck),
			Calibrated: e.Calibrated, ErrorBandFraction: math.Max(e.Band.High-1, 1-e.Band.Low),
			ColdStartS: math.Round(coldStart), SpeedModel: SpeedModelSteadyState,
		},
		Prices:             Prices{Currency: "USD", Pricing: string(r.Pricing)},
		WeightsBytes:       int64(b.Weights.Total),
		WeightsBytesPerGPU: int64(b.WeightsPerGPU),
		Compatibility:      verdict,
		Notes:              comp.Texts(),
	}
}

// rank orders rows by the objective. For the cost objectives priced rows
// come first and unpriced ones after them; ties fall to the monthly bill,
// then $/million tokens, then fewer GPUs and the VM name, so the order is
// stable.
func (s *searcher) rank() {
	obj := s.r.Objective
	gpusOf := func(r Row) float64 { return float64(r.Candidate.VMCount) * r.Candidate.GPUsPerVM }
	sort.SliceStable(s.rows, func(i, j int) bool {
		a, b := s.rows[i], s.rows[j]
		if a.PriceKnown != b.PriceKnown && (obj == ObjectiveCost || obj == ObjectiveCostPerToken) {
			return a.PriceKnown
		}
		ma, mb := deref(a.Candidate.Prices.USDPerMonth), deref(b.Candidate.Prices.USDPerMonth)
		ta, tb := deref(a.Candidate.Prices.USDPerMillionTokens), deref(b.Candidate.Prices.USDPerMillionTokens)
		var keys [][2]float64
		switch obj {
		case ObjectiveCostPerToken:
			oa, ob := deref(a.Candidate.Prices.USDPerMillionTokensOwnRate), deref(b.Candidate.Prices.USDPerMillionTokensOwnRate)
			keys = [][2]float64{{oa, ob}, {ta, tb}, {ma, mb}}
		case ObjectiveLatency:
			keys = [][2]float64{
				{s.judgedRow(a.Candidate.Predictions.TTFTMs), s.judgedRow(b.Candidate.Predictions.TTFTMs)},
				{s.judgedRow(a.Candidate.Predictions.TPOTMs), s.judgedRow(b.Candidate.Predictions.TPOTMs)},
				{ma, mb}}
		case ObjectiveThroughput:
			keys = [][2]float64{{-a.Candidate.Predictions.OutputTokensPerS, -b.Candidate.Predictions.OutputTokensPerS}, {ma, mb}}
		default:
			keys = [][2]float64{{ma, mb}, {ta, tb}}
		}
		keys = append(keys, [2]float64{gpusOf(a), gpusOf(b)})
		for _, k := range keys {
			if k[0] != k[1] {
				return k[0] < k[1]
			}
		}
		if a.Candidate.VM != b.Candidate.VM {
			return a.Candidate.VM < b.Candidate.VM
		}
		return a.Target < b.Target
	})
	for i := range s.rows {
		s.rows[i].Rank = i + 1
		s.rows[i].Candidate.Rank = i + 1
	}
}

func (s *searcher) judgedRow(l Latency) float64 {
	return judgedValue(l, s.r.SLOPercentile, s.r.SLOBand)
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

// RequestRate is the request stream a result was costed for (see
// Result.RequestsPerS): what the managed comparison must serve too.
func RequestRate(res Result, r Request) float64 {
	if r.RPS > 0 {
		return r.RPS
	}
	return res.RequestsPerS
}

// deployNote says what a quantized row needs before it can be served: a
// pre-quantized checkpoint for forms the engine cannot produce at load
// time, and in every case the quality gate the seed insists on.
func deployNote(m *model.Spec, p dtype.Precision, e engine.Engine) string {
	if !p.Quantized() || m.Quant != nil {
		return ""
	}
	if q, ok := e.Info().QuantizeAtLoad(p); ok {
		return "; quantized at load (" + e.Info().AtLoadFlag + " " + q + "): gate quality with 'gpuplan bench quality'"
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
func compatNote(c engine.Compatibility, g hardware.GPU) string {
	switch c.Verdict {
	case engine.WeightOnly:
		return fmt.Sprintf(" (weight-only on %s: %s math)", g.ID, c.Compute)
	case engine.Unknown:
		return " (support unknown)"
	}
	return ""
}
