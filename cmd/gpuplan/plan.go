package main

import (
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/gpuplan/gpuplan/cost"
	"github.com/gpuplan/gpuplan/hardware"
	"github.com/gpuplan/gpuplan/perf"
	"github.com/gpuplan/gpuplan/plan"
)

type planFlags struct {
	model                    modelFlags
	eng                      engineFlags
	load                     workloadFlags
	context                  int64
	ttft, tpot, budget       float64
	hoursPerDay, thinkTimeS  float64
	calibration              string
	pricing, managed, deploy string
	imageArch, save          string
	objective, sloPct, sloCI string
	region, gpus, vms        enumFlag
	target                   enumFlag
	top, pick, pickCPU       int
	output                   outputFormat
	big                      bigFlags
	simulate                 bool
}

func newPlanCmd(a *app) *cobra.Command {
	var f planFlags
	cmd := &cobra.Command{
		Use:   "plan MODEL",
		Short: "Cheapest VM/GPU/precision/parallelism for a load and SLOs, vs Azure OpenAI",
		Long: `Search every Azure GPU VM size × precision × tensor/pipeline parallelism for the
cheapest way to serve MODEL at the given load and latency targets. Each row is
sized with the memory model, predicted with the performance model (SLOs are
judged on the upper edge of its error band) and priced from the dated price
book; rows with unknown prices come last, labelled, never guessed. Below the
table, one "why not" line per rejected family.

--managed adds Azure OpenAI pay-as-you-go and PTU rows for the same load.`,
		Example: `  gpuplan plan llama-3.1-8b-instruct --context 8192 --concurrency 32 --input-tokens 1000 --output-tokens 200 --tpot-slo-ms 50
  gpuplan plan llama-3.1-70b-instruct --context 8192 --rps 2 --input-tokens 2000 --output-tokens 300 --ttft-slo-ms 2000 --managed gpt-4.1-mini
  gpuplan plan qwen3-30b-a3b --context 16384 --concurrency 8 --input-tokens 1000 --output-tokens 500 --save plan.json`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usageErrf("plan needs exactly one MODEL; see 'gpuplan models'")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error { return runPlan(cmd, a, args[0], f) },
	}
	fl := cmd.Flags()
	fl.Int64Var(&f.context, "context", 0, "maximum model length per replica (default: input + output tokens)")
	f.load.register(fl, workloadHelp{input: requiredShapeHelp.input, output: requiredShapeHelp.output,
		concurrency: "concurrent users (closed loop)", rps: "requests per second (open loop)"})
	fl.Float64Var(&f.thinkTimeS, "think-time-s", 0, "with --concurrency: seconds each user waits between a response and its next request (default 0: back to back, the heaviest load N users make)")
	fl.Float64Var(&f.ttft, "ttft-slo-ms", 0, "time-to-first-token target in ms (judged on --slo-percentile)")
	fl.Float64Var(&f.tpot, "tpot-slo-ms", 0, "time-per-output-token target in ms (judged on --slo-percentile)")
	fl.StringVar(&f.sloPct, "slo-percentile", "p90", "percentile the SLOs are judged on: p50, p90, p95, p99")
	fl.StringVar(&f.sloCI, "slo-confidence", "point", "point (the percentile's predicted value) or band (its upper bound under the error band)")
	fl.StringVar(&f.objective, "objective", "cost", "what ranks the rows: cost (monthly bill for this load), cost-per-token, latency, throughput")
	f.region.list, f.region.extra = true, []string{"any"}
	addEnumFlag(fl, &f.region, regionEnum, "region", "eastus", "Azure region(s): one ARM name, a comma-separated list, or any (each row is priced in the cheapest)")
	f.gpus.list, f.vms.list = true, true
	addEnumFlag(fl, &f.gpus, gpuEnum, "gpu", "", "only these GPUs, comma-separated chip ids (see 'gpuplan gpus')")
	addEnumFlag(fl, &f.vms, vmEnum, "vm", "", "only these VM sizes, comma-separated (Standard_ optional)")
	addEnumFlag(fl, &f.target, targetEnum, "target", "", "only what this target runs: aks, aks-multinode, kaito, containerapps (default: all)")
	fl.Float64Var(&f.budget, "budget-usd-month", 0, "reject offers above this monthly cost")
	f.model.register(fl, modelHelp{precisionList: true, precisionDefault: precisionAuto,
		precision: "precisions to consider: auto (the checkpoint's own and fp8 quantized at load), any (also int8/int4, which need a quantized checkpoint), or a comma-separated list (docs/cli.md)",
		kvDType:   checkpointModelHelp.kvDType})
	f.eng.register(fl, schedHelp)
	fl.StringVar(&f.calibration, "calibration", "", "calibration FILE for the performance model (docs/calibration.md)")
	fl.StringVar(&f.pricing, "pricing", "payg", "VM pricing: payg, spot, 1y, 3y")
	fl.Float64Var(&f.hoursPerDay, "hours-per-day", 24, "hours a day the load runs (token volume; VMs bill 730 h/month)")
	fl.StringVar(&f.managed, "managed", "", "Azure OpenAI models to compare, comma-separated (e.g. gpt-4.1-mini,gpt-4.1)")
	fl.StringVar(&f.deploy, "deployment", "global", "Azure OpenAI deployment type: global, datazone, regional")
	fl.StringVar(&f.imageArch, "image-arch", "", "CPU architecture of the engine image: x86-64 (default), arm64, multi")
	fl.IntVar(&f.top, "top", 10, "rows to print (0 = all)")
	fl.StringVar(&f.save, "save", "", "write the best self-hosted row (or --pick RANK) to this plan.json")
	fl.IntVar(&f.pick, "pick", 1, "rank of the row --save writes")
	fl.IntVar(&f.pickCPU, "pick-cpu", 0, "with --save: write CPU VM row RANK instead of a GPU row (deploy it with --gguf-url)")
	addMoEFlags(fl, &f.big)
	addSpecFlags(fl, &f.big)
	fl.BoolVar(&f.simulate, "simulate", true, "replay the best 5 rows request by request (2,000 each; queues, length spread, tails): their speed figures come from the simulation, a row that fails gets more replicas of its VM until it holds the SLO (dropped only when none up to 8× does) and the rows are ranked again; --simulate=false keeps the steady-state model for every row")
	addOutputFlag(cmd, &f.output)
	return cmd
}

func runPlan(cmd *cobra.Command, a *app, ref string, f planFlags) error {
	w, err := f.load.resolve("--input-tokens and --output-tokens are required", loadExactlyOne)
	if err != nil {
		return err
	}
	if f.thinkTimeS > 0 && w.RPS > 0 {
		return usageErrf("--think-time-s goes with --concurrency (closed-loop users), not --rps")
	}
	if f.pickCPU > 0 && (f.save == "" || cmd.Flags().Changed("pick")) {
		return usageErrf("--pick-cpu RANK goes with --save FILE and without --pick (it saves a CPU row instead of a GPU row)")
	}
	spec, err := a.resolveModel(cmd.Context(), ref)
	if err != nil {
		return err
	}
	_, hc, err := a.loadCatalogs()
	if err != nil {
		return err
	}
	book, warnings := a.priceBook(hc, "USD")
	if cw := contextDefaultWarning(cmd, w.InputTokens, w.OutputTokens, spec); cw != "" {
		warnings = append(warnings, cw)
	}
	req := plan.Request{
		Model: spec, Context: f.context, InputTokens: w.InputTokens, OutputTokens: w.OutputTokens,
		Concurrency: w.Concurrency, RPS: w.RPS, ThinkTimeS: f.thinkTimeS, TTFTSLOMs: f.ttft, TPOTSLOMs: f.tpot,
		BudgetUSDMonth: f.budget, HoursPerDay: f.hoursPerDay, Hardware: hc, Prices: book,
		ImageArch:  f.imageArch,
		MaxNumSeqs: f.eng.maxNumSeqs, MaxNumBatchedTokens: f.eng.maxNumBatchedTokens, CacheRate: w.CacheRate,
		NoSimulate: !f.simulate,
	}
	if err := f.big.applyPlan(cmd.Context(), a.resolveModel, &req); err != nil {
		return err
	}
	if req.Regions, err = parseRegions(f.region.value, hc, book); err != nil {
		return usageErr(err)
	}
	if req.Objective, err = plan.ParseObjective(f.objective); err != nil {
		return usageErr(err)
	}
	req.SLOPercentile = strings.ToLower(strings.TrimSpace(f.sloPct))
	if !slices.Contains(plan.SLOPercentiles, req.SLOPercentile) {
		return usageErrf("--slo-percentile %q: use p50, p90, p95 or p99", f.sloPct)
	}
	switch strings.ToLower(f.sloCI) {
	case "point", "":
	case "band":
		req.SLOBand = true
	default:
		return usageErrf("--slo-confidence %q: use point or band", f.sloCI)
	}
	req.GPUs, req.VMs = splitList(f.gpus.value), splitList(f.vms.value)
	if f.target.value != "" && !slices.Contains(plan.Targets, f.target.value) {
		return usageErrf("--target %q: use %s", f.target.value, strings.Join(plan.Targets, ", "))
	}
	req.Target = f.target.value
	if req.Pricing, err = parsePricing(f.pricing); err != nil {
		return usageErr(err)
	}
	if err := pricingKnown(book, req.Pricing, f.pricing); err != nil {
		return usageErr(err)
	}
	sf, err := f.model.resolve()
	if err != nil {
		return err
	}
	req.Precisions, req.AllPrecisions, req.KVDType = sf.Precisions, sf.AllPrecisions, sf.KVDType
	if req.Engine, err = f.eng.resolve(); err != nil {
		return err
	}
	if f.calibration != "" {
		if req.Calibration, err = perf.LoadCalibrationFile(f.calibration); err != nil {
			return usageErr(err)
		}
	}
	res, searchErr := plan.Search(req)
	if searchErr != nil && !errors.Is(searchErr, plan.ErrInfeasible) {
		if errors.Is(searchErr, plan.ErrInvalid) {
			return usageErr(searchErr)
		}
		return searchErr
	}
	out := plan.Report{Result: res}
	cpuRes := plan.SearchCPU(req)
	out.CPU = &cpuRes
	if errors.Is(searchErr, plan.ErrInfeasible) && len(cpuRes.Rows) > 0 {
		searchErr = nil // a CPU VM meets the request
	}
	if f.managed != "" {
		// Managed rows serve the same request stream as the self-hosted
		// rows, and are printed even when no self-hosted row is feasible.
		if out.Managed, err = a.managedRows(f, plan.RequestRate(res, req)); err != nil {
			return err
		}
		if len(out.Managed) == 0 {
			out.ManagedNote = "Azure OpenAI rows need a request rate: " + res.RequestStream + "; give --rps, an SLO, or --think-time-s"
		}
	}
	printed := out
	if f.top > 0 && len(printed.Rows) > f.top {
		printed.Rows = printed.Rows[:f.top]
	}
	if res.PricesAsOf != "" {
		if d, err := hardware.ParseDate(res.PricesAsOf); err == nil && hardware.Stale(d, a.Now()) {
			warnings = append(warnings, fmt.Sprintf("the prices used were observed as early as %s, more than %d days before %s; run `gpuplan prices refresh` for current prices",
				res.PricesAsOf, int(hardware.StaleAfter.Hours()/24), hardware.DateOf(a.Now())))
		}
	}
	for _, w := range warnings {
		fmt.Fprintln(a.Stderr, "Warning:", w)
	}
	width := a.tableWidth(a.Stdout)
	if err := render(a.Stdout, f.output, printed, func(w *tabwriter.Writer) error { return printPlan(w, printed, width) }); err != nil {
		return err
	}
	if searchErr != nil {
		return infeasibleErr(fmt.Errorf("%w; the \"why not\" lines above say what was closest", searchErr))
	}
	if f.save != "" && f.pickCPU > 0 {
		return a.saveCPURow(f, req, cpuRes)
	}
	if f.save != "" {
		if f.pick < 1 || f.pick > len(res.Rows) {
			return usageErrf("--pick %d: the plan has %d rows", f.pick, len(res.Rows))
		}
		c := res.Rows[f.pick-1].Candidate
		c.GPUPlanVersion = version
		if err := plan.Save(f.save, c); err != nil {
			return err
		}
		fmt.Fprintf(a.Stderr, "Saved rank %d (%s × %d, %s, TP %d) to %s\n", f.pick, c.VM, c.VMCount, c.Engine.Precision, c.Engine.TP, f.save)
	}
	return nil
}

// splitList reads a comma-separated flag value.
func splitList(s string) []string {
	var out []string
	for _, x := range strings.Split(s, ",") {
		if x = strings.TrimSpace(x); x != "" {
			out = append(out, x)
		}
	}
	return out
}

// parseRegions reads --region: one region, a comma-separated list, or
// "any" (every region the catalog, a --catalog overlay or refreshed prices
// know). A region none of them knows is a usage error naming close ones.
func parseRegions(s string, hc *hardware.Catalog, book hardware.PriceBook) ([]string, error) {
	known := hc.KnownRegions(book)
	if strings.EqualFold(strings.TrimSpace(s), "any") {
		return known, nil
	}
	var out []string
	for _, x := range splitList(s) {
		r, err := hardware.NormalizeRegion(x)
		if err != nil {
			return nil, fmt.Errorf("--region: %w", err)
		}
		if !slices.Contains(known, r) {
			msg := fmt.Sprintf("--region %q: not a region the catalog, --catalog or refreshed prices know", x)
			if close := hardware.CloseRegions(r, known); len(close) > 0 {
				msg += "; did you mean " + strings.Join(close, ", ") + "?"
			}
			return nil, errors.New(msg + " (any searches every known region; 'gpuplan prices' lists them): choose from " + shortList(known, 12))
		}
		if !slices.Contains(out, r) {
			out = append(out, r)
		}
	}
	if len(out) == 0 {
		return nil, errors.New("--region is empty: give a region such as eastus, a comma-separated list, or any")
	}
	return out, nil
}

func parsePricing(s string) (hardware.PriceKind, error) {
	switch strings.ToLower(s) {
	case "payg", "":
		return hardware.PAYG, nil
	case "spot":
		return hardware.Spot, nil
	case "1y", "reserved-1y":
		return hardware.Reserved1Y, nil
	case "3y", "reserved-3y":
		return hardware.Reserved3Y, nil
	}
	return "", fmt.Errorf("unknown --pricing %q (use payg, spot, 1y or 3y)", s)
}

// pricingKnown refuses a --pricing kind the price book has no row of at
// all (the embedded book has pay-as-you-go and spot only), instead of a
// table where every row says "unknown".
func pricingKnown(book hardware.PriceBook, kind hardware.PriceKind, flag string) error {
	for _, p := range book.Prices {
		if p.Kind == kind && strings.EqualFold(p.Currency, "USD") {
			return nil
		}
	}
	what := map[hardware.PriceKind]string{hardware.Reserved1Y: "1-year reservation", hardware.Reserved3Y: "3-year reservation"}[kind]
	if what == "" {
		what = string(kind)
	}
	return fmt.Errorf("--pricing %s: no %s prices are known for any VM size (the embedded price book has Linux pay-as-you-go and spot only); "+
		"run `gpuplan prices refresh` to fetch them from the Azure Retail Prices API, or give them in a --catalog file (prices: kind: %s), or use --pricing payg or spot",
		flag, what, kind)
}

func money(p *float64) string {
	if p == nil {
		return "unknown"
	}
	return "$" + cost.FormatAmount(*p)
}

// proseWidth is the width prose below a table wraps at: the table's
// width, or 118 columns when tables print every column (piped, --wide),
// so notes stay readable in a file.
func proseWidth(width int) int {
	if width > 0 {
		return width
	}
	return 118
}

// printPlan prints the plan for width (0: every column; see tableWidth).
// Long text is always below the tables as numbered notes; JSON carries
// every field.
func printPlan(w io.Writer, out plan.Report, width int) error {
	r := out.Result
	pw := proseWidth(width)
	load := fmt.Sprintf("%d concurrent users", r.Workload.Concurrency)
	if r.Workload.RPS > 0 {
		load = fmt.Sprintf("%.4g requests/s", r.Workload.RPS)
	}
	fmt.Fprint(w, wrapLine(fmt.Sprintf("Model %s (%s params) — %s, %d in / %d out tokens", r.Model.ID, billions(r.Model.ParamsTotal), load, r.Workload.InputTokens, r.Workload.OutputTokens), width, 2))
	var slo []string
	if r.Workload.TTFTSLOMs > 0 {
		slo = append(slo, fmt.Sprintf("TTFT ≤ %g ms", r.Workload.TTFTSLOMs))
	}
	if r.Workload.TPOTSLOMs > 0 {
		slo = append(slo, fmt.Sprintf("TPOT ≤ %g ms", r.Workload.TPOTSLOMs))
	}
	rule := r.SLOPercentile + " predicted"
	if r.SLORule == "band" {
		rule = r.SLOPercentile + " upper bound"
	}
	if len(slo) > 0 {
		fmt.Fprint(w, wrapLine(fmt.Sprintf("SLO %s, judged on the %s", strings.Join(slo, ", "), rule), width, 2))
	}
	regions := "Region " + r.Region
	if len(r.Regions) > 1 {
		regions = fmt.Sprintf("%d regions searched, each row priced in its cheapest", len(r.Regions))
	}
	ranked := fmt.Sprintf("Ranked by %s. %s; %s prices", r.Objective.Describe(), regions, r.Pricing)
	if r.PricesAsOf != "" {
		ranked += " as of " + r.PricesAsOf
	}
	fmt.Fprint(w, wrapLine(ranked+" (USD)", width, 2))
	fmt.Fprintln(w)
	var notes []string
	if len(r.Rows) > 0 {
		pct := r.SLOPercentile
		if r.SLORule == "band" {
			pct += "↑"
		}
		t := textTable{
			Header: []string{"RANK", "VM × COUNT", "GPUS", "PREC TP×PP", "REGION", "$/MONTH", "$/MTOK", "TTFT " + pct, "TPOT " + pct, "TOK/S", "NOTE"},
			// One region is named above the table, so its column goes
			// first; the ranking's money and the SLO figures stay.
			Drop: []int{4, 9, 6, 2, 3},
		}
		if len(r.Regions) > 1 {
			t.Drop = []int{9, 6, 2, 3, 4}
		}
		for _, row := range r.Rows {
			c := row.Candidate
			vm := strings.TrimPrefix(c.VM, "Standard_")
			if row.Target == plan.TargetContainerApps {
				vm = "ACA " + vm
			}
			notes = append(notes, rowNote(row))
			t.Rows = append(t.Rows, []string{fmt.Sprint(row.Rank), fmt.Sprintf("%s × %d", vm, c.VMCount), gpuCount(c.GPUsPerVM*float64(c.VMCount)) + "×" + c.GPU,
				fmt.Sprintf("%s %d×%d", c.Engine.Precision, c.Engine.TP, c.Engine.PP), row.Region,
				money(c.Prices.USDPerMonth), money(c.Prices.USDPerMillionTokens),
				fmt.Sprintf("%.0f", judged(c.Predictions.TTFTMs, r)), fmt.Sprintf("%.1f", judged(c.Predictions.TPOTMs, r)),
				fmt.Sprintf("%.0f", c.Predictions.OutputTokensPerS), fmt.Sprintf("[%d]", len(notes))})
		}
		if err := t.write(w, width); err != nil {
			return err
		}
	} else {
		fmt.Fprintln(w, "No self-hosted offer meets the request.")
	}
	if err := printCPUPlan(w, out, width); err != nil {
		return err
	}
	if len(out.Managed) > 0 {
		fmt.Fprintln(w)
		t := textTable{
			Header: []string{"AZURE OPENAI", "DEPLOYMENT", "PEAK RPM", "TPM", "PAYG $/MONTH", "PTU", "PTU $/MONTH (HOURLY / 1-MONTH / 1-YEAR)", "NOTE"},
			Drop:   []int{1, 3, 2, 5},
		}
		for _, m := range out.Managed {
			c := m.Comparison
			payg := "unknown"
			if c.PAYG != nil {
				payg = "$" + cost.FormatAmount(c.PAYG.Amount)
			}
			var terms []string
			for _, o := range c.Options {
				if o.Monthly != nil {
					terms = append(terms, "$"+cost.FormatAmount(o.Monthly.Amount))
				} else {
					terms = append(terms, "unknown")
				}
			}
			note := "rule of thumb: " + c.RuleOfThumb.Verdict
			if m.Quota != "" {
				note = m.Quota + "; " + note
			}
			notes = append(notes, note)
			t.Rows = append(t.Rows, []string{m.Model, string(m.Deployment), fmt.Sprintf("%.0f", m.PeakRPM), costCount(math.Round(m.TokensPerMinute)), payg,
				fmt.Sprint(c.Estimate.PTU), strings.Join(terms, " / "), fmt.Sprintf("[%d]", len(notes))})
		}
		if err := t.write(w, width); err != nil {
			return err
		}
	}
	if out.ManagedNote != "" {
		fmt.Fprintln(w)
		fmt.Fprint(w, wrapLine(out.ManagedNote+".", width, 2))
	}
	if r.RequestStream != "" && len(out.Managed) > 0 {
		fmt.Fprint(w, wrapLine(fmt.Sprintf("Both sides serve %.4g requests/s (%s).", r.RequestsPerS, r.RequestStream), width, 2))
	}
	if len(notes) > 0 {
		fmt.Fprintln(w)
		for i, n := range notes {
			fmt.Fprintln(w, wrapText(fmt.Sprintf("[%d] %s", i+1, n), pw, "    "))
		}
	}
	if len(r.WhyNot) > 0 {
		fmt.Fprintln(w)
		fmt.Fprintln(w, "Why not:")
		for _, j := range r.WhyNot {
			fmt.Fprintln(w, wrapText(fmt.Sprintf("  %s: %s — %s", j.Family, strings.ReplaceAll(string(j.Kind), "_", " "), j.Reason), pw, "      "))
		}
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, wrapText(fmt.Sprintf("$/month: %s.", r.Excludes), pw, "  "))
	for _, s := range r.Assumptions {
		fmt.Fprintln(w, wrapText(fmt.Sprintf("Assumption: %s.", s), pw, "  "))
	}
	return nil
}

// wrapText breaks s into lines of at most width runes at spaces, indenting
// continuation lines; a word longer than a line stays whole, on the line
// it starts.
func wrapText(s string, width int, indent string) string {
	var b strings.Builder
	line := 0
	for i, word := range strings.Fields(s) {
		n := len([]rune(word))
		switch {
		case i == 0:
			if strings.HasPrefix(s, " ") {
				lead := s[:len(s)-len(strings.TrimLeft(s, " "))]
				b.WriteString(lead)
				line = len(lead)
			}
		case line+1+n > width && len(indent)+n <= width:
			// A word longer than a whole line (a URL) stays after its
			// label instead of leaving the label alone on a line.
			b.WriteString("\n" + indent)
			line = len(indent)
		default:
			b.WriteByte(' ')
			line++
		}
		b.WriteString(word)
		line += n
	}
	return b.String()
}

// judged is the latency figure the SLOs were judged on for a row.
func judged(l plan.Latency, r plan.Result) float64 {
	v, hi := l.P90, l.P90High
	switch r.SLOPercentile {
	case "p50":
		v, hi = l.P50, l.P50High
	case "p95":
		v, hi = l.P95, l.P95High
	case "p99":
		v, hi = l.P99, l.P99High
	}
	if r.SLORule == "band" {
		return hi
	}
	return v
}

// rowNote is a row's long text: quota family and vCPUs, replicas and
// why, the $/hour and the input/output $/Mtok split, idle GPUs and cold
// start.
func rowNote(row plan.Row) string {
	c := row.Candidate
	var parts []string
	if row.QuotaFamily != "" {
		parts = append(parts, fmt.Sprintf("quota %s (%d vCPUs)", row.QuotaFamily, row.VCPUsNeeded))
	} else if row.Target != plan.TargetContainerApps {
		parts = append(parts, fmt.Sprintf("quota family unknown (%d vCPUs)", row.VCPUsNeeded))
	}
	if p := c.Prices; p.USDPerHour != nil {
		split := ""
		if p.USDPerMillionInput != nil && p.USDPerMillionOutput != nil {
			split = fmt.Sprintf(", $/Mtok in %s / out %s", money(p.USDPerMillionInput), money(p.USDPerMillionOutput))
		}
		parts = append(parts, fmt.Sprintf("%s/hour%s", money(p.USDPerHour), split))
	}
	if row.FirstRequestTTFTMs > 0 {
		parts = append(parts, fmt.Sprintf("scales to zero: first request after idle ~%.0f s TTFT (cold start)", row.FirstRequestTTFTMs/1000))
	}
	parts = append(parts, c.Reason)
	return strings.Join(parts, "; ")
}

// managedRows compares Azure OpenAI models at the plan's request rate:
// PTU sized for it as the peak, PAYG for the month it implies over
// --hours-per-day.
func (a *app) managedRows(f planFlags, rps float64) ([]plan.ManagedRow, error) {
	if rps <= 0 {
		return nil, nil
	}
	book, err := a.costBook()
	if err != nil {
		return nil, err
	}
	d, err := cost.ParseDeploymentType(f.deploy)
	if err != nil {
		return nil, usageErr(err)
	}
	rows, err := plan.CompareManaged(book, strings.Split(f.managed, ","), d, rps, float64(f.load.input), float64(f.load.output), f.hoursPerDay)
	if err != nil {
		return nil, usageErr(err)
	}
	return rows, nil
}
