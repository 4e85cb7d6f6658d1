package main

import (
	"errors"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/gpuplan/gpuplan/cost"
	"github.com/gpuplan/gpuplan/cost/guide"
	"github.com/gpuplan/gpuplan/memory"
	"github.com/gpuplan/gpuplan/units"
)

type guideFlags struct {
	context, concurrency int64
	region               enumFlag
	eng                  engineFlags
	output               outputFormat
}

func newGuideCmd(a *app) *cobra.Command {
	var f guideFlags
	cmd := &cobra.Command{
		Use:   "guide",
		Short: "The seed's GPU sizing guide regenerated from the catalog, with where its rule misleads",
		Long: `Regenerate the seed document's "GPU Sizing Guide" (model size at INT8 → minimum
VRAM, recommended GPU, Azure VM, $/hour) from gpuplan's catalogs and price book.

Each row uses a real catalog model for its size class and is checked three ways
under the engine memory profile at --context tokens and --concurrency sequences:
the seed's GPU (fits? KV-cache tokens left), the Azure VM size the seed names (at
the smallest tensor-parallel degree that fits, with its $/hour), and gpuplan's pick
(the VM with the least GPU memory that holds the model). Flags say where the seed
misleads: the rule's GB (10^9 bytes) against real CUDA memory (an "80 GB" A100 has
80 GiB), weights + activations + utilization against the rule's +20%, GPUs that the
named VM does not carry, VMs sold whole, and prices.`,
		Example: `  gpuplan guide
  gpuplan guide --context 32768 --concurrency 4 -o json`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usageErrf("guide takes no arguments (got %q); see 'gpuplan guide --help'", args)
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error { return runGuide(a, f) },
	}
	fl := cmd.Flags()
	fl.Int64Var(&f.context, "context", guide.DefaultContext, "tokens per sequence that must fit")
	fl.Int64Var(&f.concurrency, "concurrency", 1, "sequences of --context tokens that must fit at once")
	addEnumFlag(fl, &f.region, regionEnum, "region", guide.DefaultRegion, "Azure region for prices")
	f.eng.register(fl, engineHelp{})
	addOutputFlag(cmd, &f.output)
	return cmd
}

func runGuide(a *app, f guideFlags) error {
	eng, err := f.eng.resolve()
	if err != nil {
		return err
	}
	mc, hc, err := a.loadCatalogs()
	if err != nil {
		return err
	}
	book, warnings := a.priceBook(hc, "USD")
	region, err := resolveRegion(&f.region, guide.DefaultRegion, hc, book)
	if err != nil {
		return err
	}
	g, err := guide.Build(guide.Options{
		Models: mc, Hardware: hc, Prices: &book, Region: region,
		Context: f.context, Concurrency: f.concurrency, Engine: eng,
	})
	if errors.Is(err, memory.ErrInvalid) {
		return usageErr(err)
	}
	if err != nil {
		return err
	}
	g.Assumptions = append(g.Assumptions, warnings...)
	width := a.tableWidth(a.Stdout)
	return render(a.Stdout, f.output, g, func(tw *tabwriter.Writer) error { return printGuide(tw, g, width) })
}

func guideUSD(v *float64) string {
	if v == nil {
		return "unknown"
	}
	return "$" + cost.FormatPrice(*v)
}

func guideKV(s guide.Setup) string {
	switch {
	case !s.Supported:
		return "int8 unsupported"
	case !s.Fits:
		if s.KVCacheTokens > 0 {
			return fmt.Sprintf("no (%s tokens)", costCount(float64(s.KVCacheTokens)))
		}
		return "no"
	}
	return costCount(float64(s.KVCacheTokens))
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// guideWhere names the region a price comes from when it is not the
// guide's own (the size has no price there).
func guideWhere(s guide.Setup, region string) string {
	if s.USDPerHour == nil || s.PriceRegion == "" || s.PriceRegion == region {
		return ""
	}
	return " (" + s.PriceRegion + ")"
}

func printGuide(w io.Writer, g guide.Guide, width int) error {
	fmt.Fprint(w, wrapLine(fmt.Sprintf("GPU sizing guide at %s: %s-token context, %d concurrent sequence(s), %s (utilization %.2f), prices %s",
		g.Precision, costCount(float64(g.Context)), g.Concurrency, g.Engine, g.Utilization, g.Region), width, 0))
	fmt.Fprintln(w)

	fmt.Fprintln(w, "THE REFERENCE GUIDE'S TABLE, CHECKED")
	seed := textTable{
		Header: []string{"SIZE", "MODEL", "GUIDE MIN VRAM", "RULE +20%", "GUIDE GPU", "RULE FITS", fmt.Sprintf("KV TOKENS (%s)", g.Engine), "GUIDE VM", "GUIDE $/H", "CATALOG $/H"},
		// The seed's own figures go first; the checks stay.
		Drop: []int{8, 2, 7, 3, 9, 1},
	}
	for _, r := range g.Rows {
		sg, sv := r.ReferenceGPU, r.ReferenceVM
		seed.Rows = append(seed.Rows, []string{r.SizeClass, fmt.Sprintf("%s (%.2fB)", r.Model, float64(r.Params)/1e9), r.Reference.MinVRAM,
			fmt.Sprintf("%.1f GB", r.RuleWithOverhead.GB()), fmt.Sprintf("%d× %s", sg.GPUs, sg.GPU), yesNo(sg.RuleFits), guideKV(sg),
			sv.VM, r.Reference.CostPerHour, guideUSD(sv.USDPerHour) + guideWhere(sv, g.Region)})
	}
	if err := seed.write(w, width); err != nil {
		return err
	}

	fmt.Fprintln(w)
	fmt.Fprintln(w, "REGENERATED (least GPU memory that fits)")
	regen := textTable{
		Header: []string{"SIZE", "AZURE VM", "GPUS", "TP", "WEIGHTS/GPU", "KV TOKENS", "$/HOUR", "PRICE AS OF"},
		Drop:   []int{7, 4, 3, 5},
	}
	for _, r := range g.Rows {
		p := r.Pick
		if p == nil {
			regen.Rows = append(regen.Rows, []string{r.SizeClass, "no single VM", "-", "-", "-", "-", "-", "-"})
			continue
		}
		asOf := "-"
		if !p.PriceAsOf.IsZero() {
			asOf = p.PriceAsOf.String()
			if p.ThirdParty {
				asOf += " (third-party)"
			}
		}
		regen.Rows = append(regen.Rows, []string{r.SizeClass, p.VM, fmt.Sprintf("%d× %s", p.VMGPUs, p.GPU), fmt.Sprint(p.TP),
			fmt.Sprintf("%.2f GiB", units.Bytes(p.WeightsPerGPU).GiB()), guideKV(*p), guideUSD(p.USDPerHour) + guideWhere(*p, g.Region), asOf})
	}
	if err := regen.write(w, width); err != nil {
		return err
	}

	fmt.Fprintln(w)
	fmt.Fprintln(w, "WHERE THE REFERENCE GUIDE MISLEADS")
	for _, r := range g.Rows {
		fmt.Fprintf(w, "%s (%s):\n", r.SizeClass, r.Model)
		for _, fl := range r.Flags {
			fmt.Fprint(w, wrapLine(fmt.Sprintf("  - [%s] %s", fl.Kind, fl.Text), width, 4))
		}
	}
	fmt.Fprintln(w)
	fmt.Fprint(w, wrapLine(fmt.Sprintf("Currency %s; prices as of %s. Reference guide table: %s.", g.Currency, g.PricesAsOf, g.ReferenceSource.Ref), width, 0))
	for _, s := range g.Assumptions {
		fmt.Fprint(w, wrapLine("- "+s, width, 2))
	}
	return nil
}
