package cost

import (
	"fmt"
	"strings"

	"github.com/gpuplan/gpuplan/hardware"
)

// PTUReport is what `gpuplan ptu` prints with -o json or -o yaml (the
// table is a view of it), and what the API's /api/v1/ptu answers: a
// Comparison laid out step by step, with every price's date and source.
type PTUReport struct {
	Model       string               `json:"model"`
	ModelName   string               `json:"model_name"`
	Family      string               `json:"family"`
	Deployment  string               `json:"deployment"`
	SKUName     string               `json:"sku_name"`
	Workload    Workload             `json:"workload"`
	Sizing      PTUReportSizing      `json:"sizing"`
	Volume      PTUReportVolume      `json:"monthly_volume"`
	PTUMonthly  []PTUReportTerm      `json:"ptu_monthly"`
	PAYGMonthly PTUReportPAYG        `json:"payg_monthly"`
	RuleOfThumb PTUReportRuleOfThumb `json:"rule_of_thumb"`
	Currency    string               `json:"currency"`
	// PricesAsOf is the oldest as_of among the prices used; null if none.
	PricesAsOf  hardware.Date `json:"prices_as_of"`
	Assumptions []string      `json:"assumptions"`
}

// PTUReportSizing is Microsoft's capacity-calculator formula worked through
// for the workload: TPMs, the normalized TPM, raw and rounded PTUs.
type PTUReportSizing struct {
	InputTPMPerPTU float64 `json:"input_tpm_per_ptu"`
	OutputWeight   float64 `json:"output_to_input_weight"`
	MinimumPTU     int     `json:"minimum_ptu"`
	IncrementPTU   int     `json:"increment_ptu"`
	PTUSteps
	LatencyTarget float64       `json:"latency_target_tokens_per_s,omitempty"`
	Source        string        `json:"source"`
	AsOf          hardware.Date `json:"as_of"`
}

// PTUReportVolume is the month's pay-as-you-go volume and how it was
// derived (basis "avg-rpm" or "hours-per-day").
type PTUReportVolume struct {
	Basis             string  `json:"basis"`
	AvgRPM            float64 `json:"avg_rpm"`
	HoursPerDay       float64 `json:"hours_per_day,omitempty"`
	DaysPerMonth      float64 `json:"days_per_month"`
	Requests          float64 `json:"requests"`
	InputTokens       float64 `json:"input_tokens"`
	CachedInputTokens float64 `json:"cached_input_tokens"`
	OutputTokens      float64 `json:"output_tokens"`
}

// PTUReportTerm is the sized PTUs on one billing term (hourly, 1-month or
// 1-year reservation), priced and compared with pay-as-you-go; prices that
// are not known are nil with Unknown saying why.
type PTUReportTerm struct {
	Term           string              `json:"term"`
	PTU            int                 `json:"ptu"`
	UnitPriceUSD   *float64            `json:"unit_price_usd"`
	PriceUnit      string              `json:"price_unit,omitempty"`
	PerPTUMonthUSD *float64            `json:"per_ptu_month_usd"`
	MonthlyUSD     *float64            `json:"monthly_usd"`
	DeltaVsPAYGUSD *float64            `json:"delta_vs_payg_usd"`
	BreakEven      *PTUReportBreakEven `json:"break_even"`
	PriceAsOf      hardware.Date       `json:"price_as_of"`
	PriceSource    string              `json:"price_source,omitempty"`
	ThirdParty     bool                `json:"third_party"`
	Unknown        string              `json:"unknown,omitempty"`
}

// PTUReportBreakEven is the monthly volume at which pay-as-you-go costs
// what a PTU term costs, at the workload's call shape.
type PTUReportBreakEven struct {
	MonthlyRequests float64 `json:"monthly_requests"`
	MonthlyTokens   float64 `json:"monthly_tokens"`
	AvgRPM          float64 `json:"avg_rpm"`
	Reachable       bool    `json:"reachable"`
}

// PTUReportPAYG is the month's volume priced pay-as-you-go.
type PTUReportPAYG struct {
	InputUSDPerMTok       *float64      `json:"input_usd_per_mtok"`
	CachedInputUSDPerMTok *float64      `json:"cached_input_usd_per_mtok"`
	OutputUSDPerMTok      *float64      `json:"output_usd_per_mtok"`
	MonthlyUSD            *float64      `json:"monthly_usd"`
	PriceAsOf             hardware.Date `json:"price_as_of"`
	PriceSource           string        `json:"price_source,omitempty"`
	ThirdParty            bool          `json:"third_party"`
	Note                  string        `json:"note,omitempty"`
	Unknown               string        `json:"unknown,omitempty"`
}

// PTUReportRuleOfThumb is the reference guide's ">$5K/month PAYG →
// evaluate PTU" rule checked against these numbers.
type PTUReportRuleOfThumb struct {
	Rule            string   `json:"rule"`
	Source          string   `json:"source"`
	ThresholdUSD    float64  `json:"threshold_usd"`
	PAYGMonthlyUSD  *float64 `json:"payg_monthly_usd"`
	SaysEvaluatePTU *bool    `json:"says_evaluate_ptu"`
	CheapestPTUTerm string   `json:"cheapest_ptu_term,omitempty"`
	PTUCheaper      *bool    `json:"ptu_cheaper"`
	Holds           *bool    `json:"holds"`
	Verdict         string   `json:"verdict"`
}

// NewPTUReport lays out a comparison as `gpuplan ptu` prints it: the sizing
// steps, the month's volume, each PTU term against pay-as-you-go, and the
// rule of thumb's verdict. extra assumptions come first in Assumptions.
func NewPTUReport(b *Book, c Comparison, extra []string) PTUReport {
	e := c.Estimate
	out := PTUReport{
		Model: e.Model.ID, ModelName: e.Model.DisplayName(), Family: string(e.Model.Family),
		Deployment: string(e.Deployment), SKUName: e.Deployment.SKUName(), Workload: e.Workload,
		Sizing: PTUReportSizing{
			InputTPMPerPTU: e.Model.InputTPMPerPTU, OutputWeight: e.Model.OutputWeight,
			MinimumPTU: e.Scale.Minimum, IncrementPTU: e.Scale.Increment,
			PTUSteps: e.PTUSteps, LatencyTarget: e.Model.LatencyTarget,
			Source: b.SourceText(e.Model.Source), AsOf: e.Model.AsOf,
		},
		Volume: PTUReportVolume{
			Basis: c.Volume.Basis, AvgRPM: c.Volume.AvgRPM, HoursPerDay: c.Volume.HoursPerDay, DaysPerMonth: DaysPerMonth,
			Requests: c.Volume.Requests, InputTokens: c.Volume.InputTokens, CachedInputTokens: c.Volume.CachedInputTokens, OutputTokens: c.Volume.OutputTokens,
		},
		Currency: "USD",
	}
	var dates []hardware.Date
	for _, o := range c.Options {
		row := PTUReportTerm{Term: string(o.Term), PTU: e.PTU, Unknown: o.Unknown}
		if o.Price != nil {
			p := o.Price
			row.UnitPriceUSD, row.PriceUnit = ptr(p.Amount), p.Unit
			row.PerPTUMonthUSD = ptr(p.PerPTUMonth())
			row.PriceAsOf, row.PriceSource, row.ThirdParty = p.AsOf, b.SourceText(p.Source), b.ThirdParty(p.Source)
			dates = append(dates, p.AsOf)
		}
		if o.Monthly != nil {
			row.MonthlyUSD = ptr(o.Monthly.Amount)
		}
		row.DeltaVsPAYGUSD = o.DeltaVsPAYG
		if be := o.BreakEven; be != nil {
			row.BreakEven = &PTUReportBreakEven{MonthlyRequests: be.Requests, MonthlyTokens: be.Tokens, AvgRPM: be.AvgRPM, Reachable: be.Reachable}
		}
		out.PTUMonthly = append(out.PTUMonthly, row)
	}
	pr := PTUReportPAYG{Unknown: c.PAYGUnknown}
	if p := c.PAYGPrice; p != nil {
		pr.InputUSDPerMTok, pr.OutputUSDPerMTok, pr.CachedInputUSDPerMTok = ptr(p.Input), ptr(p.Output), p.CachedInput
		pr.PriceAsOf, pr.PriceSource, pr.ThirdParty, pr.Note = p.AsOf, b.SourceText(p.Source), b.ThirdParty(p.Source), p.Note
		dates = append(dates, p.AsOf)
	}
	if c.PAYG != nil {
		pr.MonthlyUSD = ptr(c.PAYG.Amount)
	}
	out.PAYGMonthly = pr
	r := c.RuleOfThumb
	out.RuleOfThumb = PTUReportRuleOfThumb{
		Rule: r.Rule, Source: "docs/cost.md#the-reference-guides-rule-of-thumb (the reference guide's \"PTU vs PAYG on Azure OpenAI\" rule, quoted there)",
		ThresholdUSD: r.ThresholdUSD, PAYGMonthlyUSD: pr.MonthlyUSD, SaysEvaluatePTU: r.SaysEvaluatePTU,
		CheapestPTUTerm: string(r.CheapestPTU), PTUCheaper: r.PTUCheaper, Holds: r.Holds, Verdict: r.Verdict,
	}
	out.PricesAsOf = hardware.OldestDate(append(dates, out.PricesAsOf)...)
	out.Assumptions = append(extra,
		"sizing: Microsoft's capacity-calculator formula (provisioned-throughput-sizing, "+e.Model.AsOf.String()+"); benchmark real traffic before buying",
		fmt.Sprintf("a month is %d hours (%.2f days of 24 h); hourly PTUs bill every hour the deployment exists, serving or not", HoursPerMonth, DaysPerMonth),
		"break-even: the monthly volume, at this call shape and cache rate, where PAYG costs what the sized PTUs cost; 'reachable' is false when the PTUs cannot carry that rate",
		"PTU and PAYG prices are third-party figures (no Microsoft document states them) unless --catalog supplies them; verify on https://azure.microsoft.com/pricing/details/cognitive-services/openai-service/",
	)
	if e.Model.Family != FamilyAzureOpenAI {
		out.Assumptions = append(out.Assumptions, fmt.Sprintf("%s is billed on its own pricing page (family %s); supply its prices with --catalog", e.Model.DisplayName(), e.Model.Family))
	}
	out.Assumptions = append(out.Assumptions, e.Model.Notes...)
	return out
}

func ptr(v float64) *float64 { return &v }

// SourceText expands the ";"-separated source keys in s to their URLs, or
// to the reference with the key (several keys may share one reference);
// text that is not a key is kept as it is.
func (b *Book) SourceText(s string) string {
	var parts []string
	for _, p := range strings.Split(s, ";") {
		p = strings.TrimSpace(p)
		if src, ok := b.Source(p); ok {
			if src.URL != "" {
				p = src.URL
			} else {
				p = src.Ref + " (" + src.Key + ")"
			}
		}
		if p != "" {
			parts = append(parts, p)
		}
	}
	return strings.Join(parts, "; ")
}
