package main

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/gpuplan/gpuplan/cost"
	"github.com/gpuplan/gpuplan/hardware"
)

type ptuFlags struct {
	rpm, inputTokens, outputTokens, cacheRate, avgRPM, hoursPerDay float64
	deployment                                                     enumFlag
	output                                                         outputFormat
}

func newPTUCmd(a *app) *cobra.Command {
	var f ptuFlags
	cmd := &cobra.Command{
		Use:   "ptu MODEL",
		Short: "Azure OpenAI provisioned throughput sizing and break-even",
		Long: `Size an Azure OpenAI provisioned (PTU) deployment with Microsoft's capacity-calculator
formula, showing every step:

  normalized TPM = peak RPM × input tokens × (1 − cache rate)
                 + output-to-input weight × peak RPM × output tokens
  PTUs           = normalized TPM ÷ input TPM per PTU, rounded up to the deployment
                   type's increment, at least its minimum

then price the PTUs hourly and on 1-month and 1-year reservations, price the same
month's tokens pay-as-you-go, give the break-even volume, and say whether the rule of
thumb ">$5K/month PAYG → evaluate PTU" holds for these numbers.

MODEL is an Azure OpenAI (or Foundry provisioned) model: gpt-4.1, gpt-5.2, o4-mini, ...
The month is 730 hours (30.42 days). PAYG volume: --avg-rpm over the month, or
--rpm for --hours-per-day hours on each day (default 24: the peak all month).
PTU and token prices are third-party figures unless you supply your own with
--catalog (section azure_openai, docs/cost.md).`,
		Example: `  gpuplan ptu gpt-5.2 --deployment datazone --rpm 1000 --input-tokens 200 --output-tokens 20
  gpuplan ptu gpt-4.1 --rpm 60 --input-tokens 1800 --output-tokens 650 --cache-rate 0.2 --avg-rpm 40
  gpuplan ptu gpt-4.1-mini --rpm 300 --input-tokens 1000 --output-tokens 200 --hours-per-day 10 -o json`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usageErrf("ptu needs exactly one MODEL, an Azure OpenAI model such as gpt-4.1 or gpt-5.2")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error { return runPTU(cmd, a, args[0], f) },
	}
	fl := cmd.Flags()
	fl.Float64Var(&f.rpm, "rpm", 0, "peak requests per minute (required)")
	fl.Float64Var(&f.inputTokens, "input-tokens", 0, "average prompt tokens per request")
	fl.Float64Var(&f.outputTokens, "output-tokens", 0, "average response tokens per request")
	fl.Float64Var(&f.cacheRate, "cache-rate", 0, "fraction (0-1) of prompt tokens served from the prompt cache")
	addEnumFlag(fl, &f.deployment, deploymentEnum, "deployment", string(cost.Global), "deployment type: global, datazone or regional")
	fl.Float64Var(&f.avgRPM, "avg-rpm", 0, "average requests per minute over the month, for the PAYG volume")
	fl.Float64Var(&f.hoursPerDay, "hours-per-day", 0, "hours a day at the peak --rpm, for the PAYG volume (default 24)")
	addOutputFlag(cmd, &f.output)
	return cmd
}

func runPTU(cmd *cobra.Command, a *app, model string, f ptuFlags) error {
	if !cmd.Flags().Changed("rpm") {
		return usageErrf("give the peak load with --rpm (requests per minute)")
	}
	if !cmd.Flags().Changed("input-tokens") && !cmd.Flags().Changed("output-tokens") {
		return usageErrf("give the call shape with --input-tokens and --output-tokens (average tokens per request)")
	}
	if cmd.Flags().Changed("avg-rpm") && cmd.Flags().Changed("hours-per-day") {
		return usageErrf("give --avg-rpm or --hours-per-day, not both: each alone sets the month's PAYG volume")
	}
	d, err := cost.ParseDeploymentType(f.deployment.value)
	if err != nil {
		return usageErr(err)
	}
	b, err := a.costBook()
	if err != nil {
		return err
	}
	if _, err := b.PTUModel(model); err != nil {
		return usageErr(err)
	}
	w := cost.Workload{RPM: f.rpm, InputTokens: f.inputTokens, OutputTokens: f.outputTokens, CacheRate: f.cacheRate}
	if err := w.Validate(); err != nil {
		return usageErr(err)
	}
	var v cost.Volume
	var assumptions []string
	switch {
	case cmd.Flags().Changed("avg-rpm"):
		v, err = cost.VolumeFromAvgRPM(w, f.avgRPM)
		if err == nil && f.avgRPM > f.rpm {
			err = fmt.Errorf("--avg-rpm %v is above the peak --rpm %v", f.avgRPM, f.rpm)
		}
	default:
		h := f.hoursPerDay
		if !cmd.Flags().Changed("hours-per-day") {
			h = 24
			assumptions = append(assumptions, "no --avg-rpm or --hours-per-day: the PAYG month assumes the peak rate around the clock, the most PAYG can cost at this peak; give one of them for a realistic volume")
		}
		v, err = cost.VolumeFromHours(w, h)
	}
	if err != nil {
		return usageErr(err)
	}
	c, err := b.Compare(model, w, d, v)
	if err != nil {
		return usageErr(err)
	}
	out := cost.NewPTUReport(b, c, assumptions)
	return render(a.Stdout, f.output, out, func(tw *tabwriter.Writer) error { return printPTU(tw, out, c) })
}

// num prints a count with thousands separators and at most two decimals.
func costCount(v float64) string {
	s := strconv.FormatFloat(math.Round(v*100)/100, 'f', -1, 64)
	sign := ""
	if strings.HasPrefix(s, "-") {
		sign, s = "-", s[1:]
	}
	intPart, frac, hasFrac := strings.Cut(s, ".")
	var b strings.Builder
	for i, c := range intPart {
		if i > 0 && (len(intPart)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if hasFrac {
		return sign + b.String() + "." + frac
	}
	return sign + b.String()
}

// money prints "$1,234.56" or "unknown".
func costUSD(v *float64) string {
	if v == nil {
		return "unknown"
	}
	return "$" + cost.FormatAmount(*v)
}

func costProvenance(third bool, asOf hardware.Date) string {
	if asOf.IsZero() {
		return "-"
	}
	if third {
		return asOf.String() + " (third-party, unverified)"
	}
	return asOf.String()
}

func printPTU(w *tabwriter.Writer, out cost.PTUReport, c cost.Comparison) error {
	s, wl := out.Sizing, out.Workload
	fmt.Fprintf(w, "%s, %s provisioned (%s), family %s\n", out.ModelName, c.Estimate.Deployment.DisplayName(), out.SKUName, out.Family)
	fmt.Fprintf(w, "Workload: peak %s RPM, %s input + %s output tokens per request, cache rate %s\n\n",
		costCount(wl.RPM), costCount(wl.InputTokens), costCount(wl.OutputTokens), strconv.FormatFloat(wl.CacheRate, 'f', -1, 64))

	fmt.Fprintf(w, "SIZING (Microsoft's formula, provisioned-throughput-sizing %s)\n", s.AsOf)
	fmt.Fprintln(w, "STEP\tFORMULA\tWORKED\tRESULT")
	fmt.Fprintf(w, "input TPM\tpeak RPM × input tokens\t%s × %s\t%s\n", costCount(wl.RPM), costCount(wl.InputTokens), costCount(s.InputTPM))
	fmt.Fprintf(w, "output TPM\tpeak RPM × output tokens\t%s × %s\t%s\n", costCount(wl.RPM), costCount(wl.OutputTokens), costCount(s.OutputTPM))
	fmt.Fprintf(w, "effective input TPM\tinput TPM × (1 − cache rate)\t%s × (1 − %s)\t%s\n", costCount(s.InputTPM), strconv.FormatFloat(wl.CacheRate, 'f', -1, 64), costCount(s.EffectiveInputTPM))
	fmt.Fprintf(w, "normalized TPM\teffective input + weight × output TPM\t%s + %s × %s\t%s\n", costCount(s.EffectiveInputTPM), costCount(s.OutputWeight), costCount(s.OutputTPM), costCount(s.NormalizedTPM))
	fmt.Fprintf(w, "PTUs (raw)\tnormalized TPM ÷ input TPM per PTU\t%s ÷ %s\t%.2f\n", costCount(s.NormalizedTPM), costCount(s.InputTPMPerPTU), s.RawPTU)
	fmt.Fprintf(w, "PTUs\tup to a multiple of %d, at least %d\tceil(%.2f ÷ %d) × %d = %d\t%d\n", s.IncrementPTU, s.MinimumPTU, s.RawPTU, s.IncrementPTU, s.IncrementPTU, s.RoundedPTU, s.PTU)
	fmt.Fprintf(w, "capacity\tPTUs × input TPM per PTU ÷ normalized tokens per request\t%d × %s ÷ %s\t%s RPM\n", s.PTU, costCount(s.InputTPMPerPTU), costCount(s.NormalizedTPM/wl.RPM), costCount(math.Round(s.CapacityRPM*100)/100))
	if s.MinimumApplied {
		fmt.Fprintf(w, "The minimum deployment of %d PTU decides the size: the load needs only %.2f.\n", s.MinimumPTU, s.RawPTU)
	}

	v := out.Volume
	fmt.Fprintln(w)
	if v.Basis == "avg-rpm" {
		fmt.Fprintf(w, "MONTHLY VOLUME: average %s RPM × 60 × %d h\n", costCount(v.AvgRPM), cost.HoursPerMonth)
	} else {
		fmt.Fprintf(w, "MONTHLY VOLUME: peak %s RPM × 60 × %s h/day × %.2f days (730 h / 24 h)\n", costCount(wl.RPM), costCount(v.HoursPerDay), v.DaysPerMonth)
	}
	fmt.Fprintf(w, "%s requests, %s input tokens (%s cached), %s output tokens\n\n", costCount(math.Round(v.Requests)), costCount(math.Round(v.InputTokens)), costCount(math.Round(v.CachedInputTokens)), costCount(math.Round(v.OutputTokens)))

	fmt.Fprintln(w, "MONTHLY COST\tPTU\tPRICE\t$/MONTH\tVS PAYG\tBREAK-EVEN VOLUME\tPRICE AS OF")
	for i, r := range out.PTUMonthly {
		term := c.Options[i].Term.DisplayName()
		if r.Unknown != "" {
			fmt.Fprintf(w, "%s\t%d\tunknown\tunknown\t-\t-\t-\n", term, r.PTU)
			continue
		}
		unit := map[string]string{cost.UnitPTUHour: "/PTU-hour", cost.UnitPTUMonth: "/PTU-month", cost.UnitPTUYear: "/PTU-year"}[r.PriceUnit]
		delta, be := "unknown", "unknown"
		if r.DeltaVsPAYGUSD != nil {
			d := *r.DeltaVsPAYGUSD
			if d <= 0 {
				delta = "$" + cost.FormatAmount(-d) + " less"
			} else {
				delta = "$" + cost.FormatAmount(d) + " more"
			}
		}
		if r.BreakEven != nil {
			be = fmt.Sprintf("%s tokens (avg %s RPM)", costCount(math.Round(r.BreakEven.MonthlyTokens)), costCount(math.Round(r.BreakEven.AvgRPM*100)/100))
			if !r.BreakEven.Reachable {
				be += ", beyond capacity"
			}
		}
		fmt.Fprintf(w, "%s\t%d\t$%s%s\t%s\t%s\t%s\t%s\n", term, r.PTU, cost.FormatPrice(*r.UnitPriceUSD), unit, costUSD(r.MonthlyUSD), delta, be, costProvenance(r.ThirdParty, r.PriceAsOf))
	}
	p := out.PAYGMonthly
	if p.Unknown != "" {
		fmt.Fprintf(w, "pay-as-you-go\t-\tunknown\tunknown\t-\t-\t-\n")
	} else {
		cached := "cached unknown"
		if p.CachedInputUSDPerMTok != nil {
			cached = "$" + cost.FormatPrice(*p.CachedInputUSDPerMTok) + " cached"
		}
		fmt.Fprintf(w, "pay-as-you-go\t-\t$%s in, %s, $%s out per 1M\t%s\t-\t-\t%s\n", cost.FormatPrice(*p.InputUSDPerMTok), cached, cost.FormatPrice(*p.OutputUSDPerMTok), costUSD(p.MonthlyUSD), costProvenance(p.ThirdParty, p.PriceAsOf))
	}
	for _, r := range out.PTUMonthly {
		if r.Unknown != "" {
			fmt.Fprintf(w, "  %s\n", r.Unknown)
		}
	}
	if p.Unknown != "" {
		fmt.Fprintf(w, "  %s\n", p.Unknown)
	}

	fmt.Fprintln(w)
	fmt.Fprintf(w, "RULE OF THUMB (\"%s\")\n", out.RuleOfThumb.Rule)
	fmt.Fprintln(w, out.RuleOfThumb.Verdict)

	fmt.Fprintln(w)
	fmt.Fprintf(w, "Currency %s; prices as of %s.\n", out.Currency, out.PricesAsOf)
	for _, s := range out.Assumptions {
		fmt.Fprintf(w, "- %s\n", s)
	}
	return nil
}
