// Package guide regenerates the seed document's "GPU Sizing Guide" (model
// size class at INT8 → minimum VRAM, recommended GPU, Azure VM, $/hour)
// from gpuplan's catalogs and price book, and says where the reference guide's simple
// rule misleads in either direction.
//
// Each seed row is checked three ways under an engine memory profile
// (default vLLM 0.19, utilization 0.90) at a stated context and
// concurrency:
//   - the reference guide's GPU (and count) with memory.Estimate: fits or not, and the
//     KV-cache tokens that remain;
//   - the reference guide's Azure VM size (the smallest of the series it names), run
//     at the smallest tensor-parallel degree that fits, with its $/hour;
//   - gpuplan's pick: the catalog VM with the least GPU memory that holds
//     the model (ties: priced first, then cheaper, then fewer vCPUs).
//
// The rule (parameters × 1 byte at INT8, + 20%) is in decimal GB; it is
// compared in bytes with the memory CUDA reports, never with a label: an
// "80 GB" A100 has 80 GiB (85.9 GB) of HBM, and vLLM may use 90% of the
// 79.x GiB CUDA sees.
package guide

import (
	"embed"
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"

	"sigs.k8s.io/yaml"

	"github.com/gpuplan/gpuplan/cost"
	"github.com/gpuplan/gpuplan/dtype"
	"github.com/gpuplan/gpuplan/engine"
	"github.com/gpuplan/gpuplan/hardware"
	"github.com/gpuplan/gpuplan/memory"
	"github.com/gpuplan/gpuplan/model"
	"github.com/gpuplan/gpuplan/units"
)

//go:embed data/seed-guide.yaml
var dataFS embed.FS

// ReferenceRow is a row of the reference guide's table as printed.
type ReferenceRow struct {
	MinVRAM     string  `json:"min_vram_as_printed"`
	MinVRAMGB   float64 `json:"min_vram_gb"`
	GPU         string  `json:"gpu"`
	VMSeries    string  `json:"vm_series"`
	CostPerHour string  `json:"cost_per_hour_as_printed"`
	USDPerHour  float64 `json:"usd_per_hour"`
}

// ReferenceEntry is one row of data/seed-guide.yaml: the reference guide's row and how
// gpuplan reads it against the catalogs.
type ReferenceEntry struct {
	SizeClass string       `json:"size_class"`
	Reference ReferenceRow `json:"reference"`
	// GPU and GPUCount are the catalog chip and count the reference guide recommends.
	GPU      string `json:"gpu"`
	GPUCount int    `json:"gpu_count"`
	// VM is the catalog size the reference guide's VM series names.
	VM string `json:"vm"`
	// Model is the catalog model used for the size class.
	Model string `json:"model"`
	// PickGPUs restricts gpuplan's pick to these chips; empty = any.
	PickGPUs []string      `json:"pick_gpus,omitempty"`
	Source   string        `json:"source"`
	AsOf     hardware.Date `json:"as_of"`
}

type dataFile struct {
	Sources []cost.Source    `json:"sources"`
	Rows    []ReferenceEntry `json:"rows"`
}

// ReferenceRows returns the embedded seed table.
func ReferenceRows() ([]ReferenceEntry, cost.Source, error) {
	raw, err := dataFS.ReadFile("data/seed-guide.yaml")
	if err != nil {
		return nil, cost.Source{}, err
	}
	var f dataFile
	if err := yaml.UnmarshalStrict(raw, &f); err != nil {
		return nil, cost.Source{}, fmt.Errorf("parse embedded seed-guide.yaml: %w", err)
	}
	if len(f.Sources) != 1 {
		return nil, cost.Source{}, errors.New("seed-guide.yaml: want exactly one source")
	}
	for i, r := range f.Rows {
		if r.Source != f.Sources[0].Key || r.AsOf.IsZero() {
			return nil, cost.Source{}, fmt.Errorf("seed-guide.yaml rows[%d]: needs source %q and an as_of date", i, f.Sources[0].Key)
		}
		if r.GPUCount < 1 || r.Model == "" || r.VM == "" || r.GPU == "" {
			return nil, cost.Source{}, fmt.Errorf("seed-guide.yaml rows[%d]: needs gpu, gpu_count, vm and model", i)
		}
	}
	return f.Rows, f.Sources[0], nil
}

// Options configure Build. Zero values take the defaults named.
type Options struct {
	// Models defaults to model.EmbeddedCatalog().
	Models *model.Catalog
	// Hardware defaults to hardware.Default().
	Hardware *hardware.Catalog
	// Prices defaults to Hardware.Prices().
	Prices *hardware.PriceBook
	// Region for prices; default DefaultRegion.
	Region string
	// Context is the sequence length that must fit; default DefaultContext.
	Context int64
	// Concurrency is how many such sequences; default 1.
	Concurrency int64
	// Engine is the engine profile; default engine.Default().
	Engine engine.Engine
}

// Defaults of Options.
const (
	// DefaultContext: 8,192 tokens, a common serving length that every
	// guide model supports.
	DefaultContext = 8192
	// DefaultRegion: the only region the embedded price book covers.
	DefaultRegion = "eastus"
)

// Precision is the seed table's column: "Min VRAM (INT8)". INT8 W8A8
// (compressed-tensors *-quantized.w8a8), one byte per weight.
const Precision = "int8"

// Setup is a model on a GPU configuration under the engine profile.
type Setup struct {
	// VM is empty for the reference guide's bare GPU recommendation.
	VM       string `json:"vm,omitempty"`
	VMSeries string `json:"vm_series,omitempty"`
	// VMGPUs is how many GPUs the VM has (it is sold whole).
	VMGPUs  int    `json:"vm_gpus,omitempty"`
	GPU     string `json:"gpu"`
	GPUName string `json:"gpu_name"`
	// GPUs is how many GPUs the model runs on (TP); TP is the
	// tensor-parallel degree.
	GPUs int `json:"gpus"`
	TP   int `json:"tp"`
	// Per-GPU memory: datasheet (decimal GB as sold) and what CUDA reports.
	DatasheetMemory     units.Bytes `json:"gpu_datasheet_memory_bytes"`
	CUDAMemory          units.Bytes `json:"gpu_cuda_memory_bytes"`
	CUDAMemoryEstimated bool        `json:"gpu_cuda_memory_estimated"`
	// Supported is false when the GPU cannot run INT8 W8A8.
	Supported bool `json:"supported"`
	// RuleFits: the reference guide's rule (params × 1 B + 20%) is at most the CUDA
	// memory of the GPUs used.
	RuleFits bool `json:"rule_fits"`
	// Fits: the engine profile's budget holds Concurrency sequences of
	// Context tokens.
	Fits                   bool        `json:"fits"`
	WeightsPerGPU          units.Bytes `json:"weights_bytes_per_gpu"`
	Activation             units.Bytes `json:"activation_bytes"`
	NonTorch               units.Bytes `json:"non_torch_bytes"`
	Requested              units.Bytes `json:"requested_bytes"`
	KVPool                 units.Bytes `json:"kv_pool_bytes"`
	KVCacheTokens          int64       `json:"kv_cache_tokens"`
	MaxConcurrentSequences int64       `json:"max_concurrent_sequences"`
	MaxContext             int64       `json:"max_context_tokens"`
	Reasons                []string    `json:"reasons,omitempty"`
	// USDPerHour is the whole VM's Linux pay-as-you-go price; nil when
	// unknown (PriceUnknown says how to supply it) or for a bare GPU.
	USDPerHour   *float64      `json:"usd_per_hour"`
	PriceAsOf    hardware.Date `json:"price_as_of"`
	PriceSource  string        `json:"price_source,omitempty"`
	ThirdParty   bool          `json:"third_party,omitempty"`
	PriceUnknown string        `json:"price_unknown,omitempty"`
	// PriceRegion is the region the price is from: the guide's region, or,
	// when the size has no price there, the cheapest region that has one.
	PriceRegion string `json:"price_region,omitempty"`
}

// totalGPUMemory is the VM's (or the bare recommendation's) GPU memory in
// bytes as CUDA reports it.
func (s Setup) totalGPUMemory() units.Bytes {
	n := s.VMGPUs
	if n == 0 {
		n = s.GPUs
	}
	return units.Bytes(n) * s.CUDAMemory
}

// Flag is one way the reference guide's row misleads, or a fact a reader of the row
// needs.
type Flag struct {
	// Kind: min-vram-column, rule-optimistic, rule-pessimistic,
	// reference-gpu-too-small, reference-gpu-unsupported, units, tight-kv,
	// gpu-vm-mismatch, vm-sold-whole, price-differs, price-unknown,
	// price-matches-other, smaller-fits, what-fits, no-single-vm.
	Kind string `json:"kind"`
	Text string `json:"text"`
}

// Row is one regenerated row.
type Row struct {
	SizeClass string       `json:"size_class"`
	Reference ReferenceRow `json:"reference"`
	Model     string       `json:"model"`
	Params    int64        `json:"params"`
	// RuleWeights is params × 1 byte; RuleWithOverhead adds the reference guide's 20%.
	RuleWeights      units.Bytes `json:"rule_weights_bytes"`
	RuleWithOverhead units.Bytes `json:"rule_with_overhead_bytes"`
	// ReferenceGPU is the reference guide's recommended GPU × count, TP over all of them.
	ReferenceGPU Setup `json:"reference_gpu"`
	// ReferenceVM is the VM size the reference guide's series names, at the smallest TP
	// that fits.
	ReferenceVM Setup `json:"reference_vm"`
	// Pick is the catalog VM with the least GPU memory that holds the
	// model; nil when no single VM does.
	Pick  *Setup `json:"pick"`
	Flags []Flag `json:"flags"`
}

// Guide is the regenerated table.
type Guide struct {
	Precision   string  `json:"precision"`
	KVDType     string  `json:"kv_dtype"`
	Context     int64   `json:"context_tokens"`
	Concurrency int64   `json:"concurrency"`
	Engine      string  `json:"engine"`
	Utilization float64 `json:"gpu_memory_utilization"`
	Region      string  `json:"region"`
	Rows        []Row   `json:"rows"`
	Currency    string  `json:"currency"`
	// PricesAsOf is the oldest as_of among the prices shown.
	PricesAsOf      hardware.Date `json:"prices_as_of"`
	ReferenceSource cost.Source   `json:"reference_source"`
	Assumptions     []string      `json:"assumptions"`
}

type builder struct {
	o      Options
	prec   dtype.Precision
	region string
	gpus   map[string]hardware.GPU
}

// Build regenerates the guide.
func Build(o Options) (Guide, error) {
	var err error
	if o.Models == nil {
		if o.Models, err = model.EmbeddedCatalog(); err != nil {
			return Guide{}, err
		}
	}
	if o.Hardware == nil {
		o.Hardware = hardware.Default()
	}
	if o.Prices == nil {
		p := o.Hardware.Prices()
		o.Prices = &p
	}
	if o.Region == "" {
		o.Region = DefaultRegion
	}
	region, err := hardware.NormalizeRegion(o.Region)
	if err != nil {
		return Guide{}, err
	}
	if o.Context == 0 {
		o.Context = DefaultContext
	}
	if o.Concurrency == 0 {
		o.Concurrency = 1
	}
	if o.Context < 1 || o.Concurrency < 1 {
		return Guide{}, fmt.Errorf("%w: context and concurrency must be positive", memory.ErrInvalid)
	}
	if o.Engine == nil {
		o.Engine = engine.Default()
	}
	prec, err := dtype.LookupPrecision(Precision)
	if err != nil {
		return Guide{}, err
	}
	rows, src, err := ReferenceRows()
	if err != nil {
		return Guide{}, err
	}
	b := &builder{o: o, prec: prec, region: region, gpus: map[string]hardware.GPU{}}
	for _, g := range o.Hardware.GPUs() {
		b.gpus[g.ID] = g
	}
	util := o.Engine.Info().DefaultUtilization
	g := Guide{
		Precision: prec.Name, KVDType: "auto (the model's bf16)", Context: o.Context, Concurrency: o.Concurrency,
		Engine: o.Engine.Info().ID(), Utilization: util, Region: region,
		Currency: "USD", ReferenceSource: src,
	}
	for _, sr := range rows {
		r, err := b.row(sr)
		if err != nil {
			return Guide{}, fmt.Errorf("guide row %s: %w", sr.SizeClass, err)
		}
		g.Rows = append(g.Rows, r)
		for _, s := range []*Setup{&r.ReferenceVM, r.Pick} {
			if s != nil {
				g.PricesAsOf = hardware.OldestDate(g.PricesAsOf, s.PriceAsOf)
			}
		}
	}
	g.Assumptions = []string{
		fmt.Sprintf("INT8 W8A8 weights (one byte per weight; embeddings and norms stay bf16), KV cache bf16, %d-token context, %d concurrent sequence(s)", o.Context, o.Concurrency),
		fmt.Sprintf("memory budget: %s, %.2f of CUDA memory, minus weights, activation peak and runtime overhead (memory.Estimate)", g.Engine, util),
		"the reference guide's rule is parameters × 1 byte + 20%, in decimal GB (10^9 bytes); it is compared with the memory CUDA reports, in bytes",
		"a VM is sold whole: its $/hour buys all its GPUs; prices are Linux pay-as-you-go in " + region + " (gpuplan prices refresh, or --catalog, for others)",
		"pick: the catalog VM with the least GPU memory that fits at the smallest TP; ties go to priced, cheaper, then fewer-vCPU sizes; retired and partial-GPU sizes are skipped",
	}
	return g, nil
}

func (b *builder) row(sr ReferenceEntry) (Row, error) {
	spec, _, err := b.o.Models.Lookup(sr.Model)
	if err != nil {
		return Row{}, fmt.Errorf("model %s: %w", sr.Model, err)
	}
	params := spec.Params().Total
	qr := memory.NewQuickRule(params, b.prec)
	r := Row{SizeClass: sr.SizeClass, Reference: sr.Reference, Model: spec.ID, Params: params, RuleWeights: qr.Weights, RuleWithOverhead: qr.WithOverhead}

	chip, ok := b.gpus[sr.GPU]
	if !ok {
		return Row{}, fmt.Errorf("GPU %s is not in the catalog", sr.GPU)
	}
	r.ReferenceGPU, err = b.setup(spec, chip, sr.GPUCount, qr)
	if err != nil {
		return Row{}, err
	}
	vm, err := b.o.Hardware.LookupVM(sr.VM)
	if err != nil {
		return Row{}, err
	}
	sv, err := b.onVM(spec, vm, qr)
	if err != nil {
		return Row{}, err
	}
	r.ReferenceVM = sv
	r.Pick, err = b.pick(spec, sr.PickGPUs, qr)
	if err != nil {
		return Row{}, err
	}
	r.Flags = b.flags(sr, r, vm, chip)
	return r, nil
}

// setup sizes spec on count × chip with TP = count.
func (b *builder) setup(spec *model.Spec, chip hardware.GPU, count int, qr memory.QuickRule) (Setup, error) {
	s := Setup{
		GPU: chip.ID, GPUName: chip.Name, GPUs: count, TP: count,
		DatasheetMemory: chip.DatasheetMemory, CUDAMemory: chip.CUDAMemory, CUDAMemoryEstimated: chip.CUDAMemoryEstimated,
	}
	s.RuleFits = qr.WithOverhead <= units.Bytes(count)*chip.CUDAMemory
	comp := engine.Check(engine.Combination{Model: spec, Precision: b.prec, Target: engine.OnGPU(chip), Engine: b.o.Engine, TP: count, PP: 1})
	s.Supported = comp.OK()
	if !s.Supported {
		s.Reasons = []string{fmt.Sprintf("%s cannot run INT8 W8A8: %s", chip.Name, comp.Error())}
		return s, nil
	}
	p := b.prec
	bud, err := memory.Estimate(memory.Request{
		Model: spec, Precision: &p, Context: b.o.Context, Concurrency: b.o.Concurrency,
		GPU: memory.GPU{ID: chip.ID, CUDAMemory: chip.CUDAMemory}, TP: count, Engine: b.o.Engine,
	})
	if err != nil {
		return s, err
	}
	s.Fits = bud.Fits
	s.WeightsPerGPU, s.Activation, s.NonTorch, s.Requested, s.KVPool = bud.WeightsPerGPU, bud.Activation, bud.NonTorch, bud.Requested, bud.KVPool
	s.KVCacheTokens, s.MaxConcurrentSequences, s.MaxContext, s.Reasons = bud.KVCacheTokens, bud.MaxConcurrentSequences, bud.MaxContext, bud.Reasons
	if s.KVPool < 0 {
		s.KVCacheTokens, s.MaxContext = 0, 0
	}
	return s, nil
}

// onVM runs spec on vm at the smallest TP (1, 2, 4, … up to the VM's GPUs,
// dividing the attention heads) that fits; when none fits, the largest TP
// tried is reported. The VM's price is attached.
func (b *builder) onVM(spec *model.Spec, vm hardware.VMSize, qr memory.QuickRule) (Setup, error) {
	chip, ok := b.gpus[vm.GPU]
	if !ok {
		return Setup{}, fmt.Errorf("VM %s names GPU %s, which is not in the catalog", vm.Name, vm.GPU)
	}
	var best Setup
	tried := false
	for tp := 1; tp <= vm.GPUCount; tp *= 2 {
		if spec.Heads > 0 && spec.Heads%tp != 0 {
			continue
		}
		s, err := b.setup(spec, chip, tp, qr)
		if errors.Is(err, memory.ErrInvalid) {
			continue
		}
		if err != nil {
			return Setup{}, err
		}
		best, tried = s, true
		if s.Fits || !s.Supported {
			break
		}
	}
	if !tried {
		best = Setup{GPU: chip.ID, GPUName: chip.Name, Reasons: []string{fmt.Sprintf("no tensor-parallel degree up to %d divides the model's %d heads", vm.GPUCount, spec.Heads)}}
	}
	best.VM, best.VMSeries, best.VMGPUs = vm.Name, vm.Series, vm.GPUCount
	b.price(&best)
	return best, nil
}

func (b *builder) price(s *Setup) {
	p, ok := b.o.Prices.PAYG(s.VM, b.region)
	if !ok {
		// Not sold (or not priced) in the guide's region: price it where it
		// is cheapest, and say which region that is.
		for _, q := range b.o.Prices.Filter(s.VM, "") {
			if q.Kind == hardware.PAYG && strings.EqualFold(q.Currency, "USD") && (!ok || q.USDPerHour < p.USDPerHour) {
				p, ok = q, true
			}
		}
	}
	if !ok {
		s.PriceUnknown = fmt.Sprintf("no pay-as-you-go price for %s in any region: run `gpuplan prices refresh` or supply it with --catalog (prices: {vm: %s, region: %s, kind: payg, currency: USD, usd_per_hour, source, as_of})", s.VM, s.VM, b.region)
		return
	}
	m := cost.VMHourly(p, b.o.Hardware)
	s.USDPerHour, s.PriceAsOf, s.ThirdParty = &m.Amount, p.AsOf, m.ThirdParty
	s.PriceSource, s.PriceRegion = p.Source, p.Region
}

// pick finds the catalog VM with the least GPU memory that holds spec.
func (b *builder) pick(spec *model.Spec, allowed []string, qr memory.QuickRule) (*Setup, error) {
	var fits []Setup
	vcpu := map[string]int{}
	for _, vm := range b.o.Hardware.VMSizes() {
		if vm.Retired() || vm.GPUCount < 1 || !allowedGPU(vm.GPU, allowed) {
			continue
		}
		if _, ok := b.gpus[vm.GPU]; !ok {
			continue
		}
		s, err := b.onVM(spec, vm, qr)
		if err != nil {
			return nil, err
		}
		if s.Fits {
			fits = append(fits, s)
			vcpu[vm.Name] = vm.VCPU
		}
	}
	if len(fits) == 0 {
		return nil, nil
	}
	sort.SliceStable(fits, func(i, j int) bool {
		a, c := fits[i], fits[j]
		if ma, mc := a.totalGPUMemory(), c.totalGPUMemory(); ma != mc {
			return ma < mc
		}
		if (a.USDPerHour != nil) != (c.USDPerHour != nil) {
			return a.USDPerHour != nil
		}
		if a.USDPerHour != nil && *a.USDPerHour != *c.USDPerHour {
			return *a.USDPerHour < *c.USDPerHour
		}
		if vcpu[a.VM] != vcpu[c.VM] {
			return vcpu[a.VM] < vcpu[c.VM]
		}
		return a.VM < c.VM
	})
	return &fits[0], nil
}

func allowedGPU(id string, allowed []string) bool {
	if len(allowed) == 0 {
		return true
	}
	for _, a := range allowed {
		if a == id {
			return true
		}
	}
	return false
}

// gb and gib print byte counts in the two units, labelled.
func gb(b units.Bytes) string  { return fmt.Sprintf("%.1f GB", b.GB()) }
func gib(b units.Bytes) string { return fmt.Sprintf("%.2f GiB", b.GiB()) }

func plural(n int64, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// flags says where the reference guide's row misleads.
func (b *builder) flags(sr ReferenceEntry, r Row, vm hardware.VMSize, chip hardware.GPU) []Flag {
	var out []Flag
	add := func(kind, format string, args ...any) { out = append(out, Flag{kind, fmt.Sprintf(format, args...)}) }
	sg := r.ReferenceGPU
	ctx := b.o.Context
	gpus := chip.Name
	if sg.GPUs > 1 {
		gpus = fmt.Sprintf("%d× %s", sg.GPUs, chip.Name)
	}
	est := ""
	if sg.CUDAMemoryEstimated {
		est = ", estimated from the driver total"
	}
	mem := fmt.Sprintf("the %s of CUDA memory (%s%s) on %s", gib(units.Bytes(sg.GPUs)*sg.CUDAMemory), gb(units.Bytes(sg.GPUs)*sg.CUDAMemory), est, gpus)

	// 1. The reference guide's "Min VRAM" column against the model's INT8 weights.
	weightsGB := float64(r.Params) / 1e9
	if sr.Reference.MinVRAMGB < 0.75*weightsGB {
		match := ""
		for _, bpp := range []float64{0.5, 2} {
			if v := weightsGB * bpp; math.Abs(v-sr.Reference.MinVRAMGB)/v < 0.05 {
				match = fmt.Sprintf("; it matches %.1f byte per parameter (%.1f GB), not INT8", bpp, v)
			}
		}
		add("min-vram-column", "the reference guide's minimum VRAM \"%s\" is below the INT8 weights alone: %s has %.2fB parameters = %.1f GB at one byte each%s", sr.Reference.MinVRAM, r.Model, weightsGB, weightsGB, match)
	}

	// 2. The rule's verdict against the budget on the reference guide's GPU(s).
	rule := fmt.Sprintf("the rule's %s (%.2fB × 1 byte + 20%%) is %s %s", gb(r.RuleWithOverhead), weightsGB, map[bool]string{true: "within", false: "more than"}[sg.RuleFits], mem)
	switch {
	case !sg.Supported:
		add("reference-gpu-unsupported", "%s: %s", gpus, strings.Join(sg.Reasons, "; "))
	case sg.RuleFits && !sg.Fits:
		add("rule-optimistic", "%s, yet under %s it does not hold %d %s of %d tokens: weights %s/GPU + activations %s + overhead %s against %s usable (%.2f × CUDA memory): %s",
			rule, b.engine(), b.o.Concurrency, plural(b.o.Concurrency, "sequence", "sequences"), ctx, gib(sg.WeightsPerGPU), gib(sg.Activation), gib(sg.NonTorch), gib(sg.Requested), b.o.Engine.Info().DefaultUtilization, strings.Join(sg.Reasons, "; "))
	case !sg.RuleFits && sg.Fits:
		add("rule-pessimistic", "%s, yet %s does hold it: %s KV-cache tokens remain (%d %s of %d)", rule, gpus, fmtInt(sg.KVCacheTokens), sg.MaxConcurrentSequences, plural(sg.MaxConcurrentSequences, "sequence", "sequences"), ctx)
	case !sg.Fits:
		add("reference-gpu-too-small", "%s does not hold it, as the rule also says (%s): %s", gpus, rule, strings.Join(sg.Reasons, "; "))
	}
	// Read against the datasheet label (decimal GB) the rule can give the
	// opposite answer to the same comparison in bytes.
	label := units.Bytes(sg.GPUs) * sg.DatasheetMemory
	if sg.Supported && label > 0 && (r.RuleWithOverhead <= label) != sg.RuleFits {
		add("units", "against the %q label the rule's %s says %s; in one unit it is %s against %s, so the rule says it %s",
			sr.Reference.GPU, gb(r.RuleWithOverhead), map[bool]string{true: "it fits", false: "it does not fit"}[r.RuleWithOverhead <= label],
			gib(r.RuleWithOverhead), mem, map[bool]string{true: "fits", false: "does not fit"}[sg.RuleFits])
	}
	if sg.Supported && sg.Fits && sg.KVCacheTokens < 4*ctx*b.o.Concurrency {
		add("tight-kv", "on %s it fits with only %s KV-cache tokens: %d %s of %d tokens, little room for concurrent users", gpus, fmtInt(sg.KVCacheTokens), sg.MaxConcurrentSequences, plural(sg.MaxConcurrentSequences, "sequence", "sequences"), ctx)
	}

	// 3. The VM column against the GPU column.
	if vm.GPU != sr.GPU {
		var with []string
		for _, v := range b.o.Hardware.VMSizesFor(sr.GPU) {
			if !v.Retired() && v.GPUCount > 0 {
				with = append(with, v.Name)
			}
		}
		carriers := "no catalog VM size carries it"
		if len(with) > 0 {
			carriers = "sizes with it: " + strings.Join(with, ", ")
		}
		add("gpu-vm-mismatch", "the reference guide recommends %s but %s (%s) carries %d× %s; %s", sr.Reference.GPU, sr.Reference.VMSeries, vm.Name, vm.GPUCount, b.gpus[vm.GPU].Name, carriers)
	}
	if vm.GPUCount != sr.GPUCount {
		add("vm-sold-whole", "%s is sold whole with %d GPUs; the reference guide's row needs %d", vm.Name, vm.GPUCount, sr.GPUCount)
	}

	// 4. The reference guide's $/hour against the catalog.
	sv := r.ReferenceVM
	if sv.USDPerHour != nil {
		ratio := *sv.USDPerHour / sr.Reference.USDPerHour
		if ratio > 1.1 || ratio < 0.9 {
			where := ""
			if sv.PriceRegion != b.region {
				where = " in " + sv.PriceRegion + " (no " + b.region + " price)"
			}
			add("price-differs", "the reference guide's %s an hour; %s costs $%s an hour%s (%.1f×, %s, %s)", sr.Reference.CostPerHour, vm.Name, cost.FormatPrice(*sv.USDPerHour), where, ratio, sv.PriceAsOf, b.tier(sv.ThirdParty))
		}
	} else {
		add("price-unknown", "the reference guide's %s an hour cannot be checked: %s", sr.Reference.CostPerHour, sv.PriceUnknown)
	}
	for _, m := range b.priceMatches(sr.Reference.USDPerHour, vm.Name) {
		add("price-matches-other", "the reference guide's %s matches %s", sr.Reference.CostPerHour, m)
	}

	// 5. gpuplan's pick.
	switch p := r.Pick; {
	case p == nil:
		add("no-single-vm", "no single catalog VM holds %s at INT8 with %d tokens; see `gpuplan plan` for multi-node options", r.Model, ctx)
	case p.totalGPUMemory() < sg.totalGPUMemory() || (!sg.Fits && sg.Supported):
		price := "price unknown"
		if p.USDPerHour != nil {
			price = "$" + cost.FormatPrice(*p.USDPerHour) + "/h"
		}
		kind, lead := "smaller-fits", "a smaller configuration holds it"
		if p.totalGPUMemory() >= sg.totalGPUMemory() {
			kind, lead = "what-fits", "the least GPU memory that holds it"
		}
		add(kind, "%s: %s (%d× %s, %s of CUDA memory) at TP=%d with %s KV-cache tokens, %s",
			lead, p.VM, p.VMGPUs, p.GPUName, gib(p.totalGPUMemory()), p.TP, fmtInt(p.KVCacheTokens), price)
	}
	return out
}

func (b *builder) engine() string { return b.o.Engine.Info().ID() }

func (b *builder) tier(third bool) string {
	if third {
		return "third-party, unverified"
	}
	return "catalog"
}

// priceMatches lists catalog VMs (other than except) whose PAYG price in
// the region, or price per GPU, is within 1% of usd.
func (b *builder) priceMatches(usd float64, except string) []string {
	var out []string
	for _, p := range b.o.Prices.Prices {
		if p.Kind != hardware.PAYG || p.Region != b.region || !strings.EqualFold(p.Currency, "USD") || strings.EqualFold(p.VM, except) {
			continue
		}
		vm, err := b.o.Hardware.LookupVM(p.VM)
		if err != nil {
			continue
		}
		g := b.gpus[vm.GPU].Name
		switch {
		case math.Abs(p.USDPerHour-usd)/usd <= 0.01:
			share := fmt.Sprintf("%d×", vm.GPUCount)
			if vm.GPUFraction != "" {
				share = vm.GPUFraction + " of an"
			}
			out = append(out, fmt.Sprintf("%s at $%s an hour (%s %s, %s)", p.VM, cost.FormatPrice(p.USDPerHour), share, g, p.AsOf))
		case vm.GPUCount > 1 && math.Abs(p.USDPerHour/float64(vm.GPUCount)-usd)/usd <= 0.01:
			out = append(out, fmt.Sprintf("one GPU's share of %s ($%s an hour for %d× %s, %s)", p.VM, cost.FormatPrice(p.USDPerHour), vm.GPUCount, g, p.AsOf))
		}
	}
	return out
}

// fmtInt prints an integer with thousands separators.
func fmtInt(n int64) string {
	s := fmt.Sprint(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}
