package cost

import (
	"errors"
	"fmt"
	"strings"
)

// RuleOfThumbThresholdUSD is the reference guide's rule of thumb: "if you
// consistently spend >$5K/month on PAYG for a single model, evaluate PTU"
// (section "PTU vs PAYG on Azure OpenAI"; quoted in docs/cost.md).
const RuleOfThumbThresholdUSD = 5000

// RuleOfThumbText is the rule as the reference guide states it.
const RuleOfThumbText = "if you consistently spend >$5K/month on PAYG for a single model, evaluate PTU"

// PTUOption is one way to buy the sized PTUs.
type PTUOption struct {
	Term Term `json:"term"`
	// Price is the per-PTU price row used; nil when unknown.
	Price *PTUPrice `json:"price,omitempty"`
	// Monthly is PTU × price per PTU-month; nil when unknown.
	Monthly *Money `json:"monthly,omitempty"`
	// Unknown says why Monthly is nil and what supplies it.
	Unknown string `json:"unknown,omitempty"`
	// DeltaVsPAYG is Monthly − PAYG monthly (negative: PTU is cheaper);
	// nil when either is unknown.
	DeltaVsPAYG *float64 `json:"delta_vs_payg,omitempty"`
	// BreakEven is the monthly volume at which PAYG costs what this option
	// costs; nil when either price is unknown.
	BreakEven *BreakEven `json:"break_even,omitempty"`
}

// BreakEven is the monthly volume, at the workload's call shape (tokens per
// request and cache rate), where pay-as-you-go costs as much as a PTU
// option: requests = PTU monthly cost ÷ PAYG cost of one request.
type BreakEven struct {
	Requests float64 `json:"requests"`
	// Tokens counts input and output tokens.
	Tokens float64 `json:"tokens"`
	// AvgRPM is Requests spread over 730 hours.
	AvgRPM float64 `json:"avg_rpm"`
	// Reachable is false when the sized PTUs cannot carry AvgRPM (it is
	// above their capacity at this call shape): PAYG then stays cheaper at
	// every volume these PTUs can serve.
	Reachable bool `json:"reachable"`
}

// RuleOfThumb judges the reference guide's rule of thumb on one workload.
type RuleOfThumb struct {
	Rule         string  `json:"rule"`
	ThresholdUSD float64 `json:"threshold_usd"`
	// SaysEvaluatePTU is PAYG monthly > $5,000; nil when PAYG is unknown.
	SaysEvaluatePTU *bool `json:"says_evaluate_ptu"`
	// CheapestPTU is the cheapest PTU option with a known price; empty
	// when none is known.
	CheapestPTU Term `json:"cheapest_ptu_term,omitempty"`
	// PTUCheaper: the cheapest PTU option costs less than PAYG; nil when
	// unknown.
	PTUCheaper *bool `json:"ptu_cheaper"`
	// Holds: the rule's advice matches the arithmetic; nil when unknown.
	Holds   *bool  `json:"holds"`
	Verdict string `json:"verdict"`
}

// Comparison is everything `gpuplan ptu` shows: the sizing, the PTU cost
// on each term, the PAYG cost of the same month, the break-even volumes,
// and the rule of thumb's verdict.
type Comparison struct {
	Estimate PTUEstimate `json:"estimate"`
	Volume   Volume      `json:"volume"`
	// PAYGPrice and PAYG are nil when unknown; PAYGUnknown says why.
	PAYGPrice   *PAYGPrice  `json:"payg_price,omitempty"`
	PAYG        *Money      `json:"payg,omitempty"`
	PAYGUnknown string      `json:"payg_unknown,omitempty"`
	Options     []PTUOption `json:"options"`
	RuleOfThumb RuleOfThumb `json:"rule_of_thumb"`
}

// Compare sizes PTUs for the peak of w and prices them on every term
// against the PAYG cost of the month v. Unknown prices leave the affected
// figures nil with a message; only bad input is an error.
func (b *Book) Compare(model string, w Workload, d DeploymentType, v Volume) (Comparison, error) {
	e, err := b.PTUSize(model, w, d)
	if err != nil {
		return Comparison{}, err
	}
	c := Comparison{Estimate: e, Volume: v}
	payg, err := b.PAYGMonthly(e.Model.ID, d, v.InputTokens, v.OutputTokens, v.CachedInputTokens)
	var perRequest float64
	switch {
	case errors.Is(err, ErrUnknownPrice):
		c.PAYGUnknown = err.Error()
	case err != nil:
		return Comparison{}, err
	default:
		p, _ := b.PAYGPrice(e.Model.ID, d)
		c.PAYGPrice, c.PAYG = &p, &payg
		one, err := b.PAYGMonthly(e.Model.ID, d, w.InputTokens, w.OutputTokens, w.InputTokens*w.CacheRate)
		if err != nil {
			return Comparison{}, err
		}
		perRequest = one.Amount
	}
	for _, t := range Terms {
		o := PTUOption{Term: t}
		m, p, err := b.PTUMonthly(e, t)
		switch {
		case errors.Is(err, ErrUnknownPrice):
			o.Unknown = err.Error()
		case err != nil:
			return Comparison{}, err
		default:
			o.Price, o.Monthly = &p, &m
		}
		if o.Monthly != nil && c.PAYG != nil && strings.EqualFold(o.Monthly.Currency, c.PAYG.Currency) {
			delta := o.Monthly.Amount - c.PAYG.Amount
			o.DeltaVsPAYG = &delta
			if perRequest > 0 {
				req := o.Monthly.Amount / perRequest
				be := &BreakEven{Requests: req, Tokens: req * (w.InputTokens + w.OutputTokens), AvgRPM: req / MinutesPerMonth}
				be.Reachable = be.AvgRPM <= e.CapacityRPM
				o.BreakEven = be
			}
		}
		c.Options = append(c.Options, o)
	}
	c.RuleOfThumb = judgeRuleOfThumb(c)
	return c, nil
}

// Compare runs Book.Compare on the embedded book.
func Compare(model string, w Workload, d DeploymentType, v Volume) (Comparison, error) {
	return Default().Compare(model, w, d, v)
}

// CheapestOption returns the PTU option with the lowest known monthly
// cost, or false when no price is known.
func (c Comparison) CheapestOption() (PTUOption, bool) {
	var best PTUOption
	found := false
	for _, o := range c.Options {
		if o.Monthly == nil {
			continue
		}
		if !found || o.Monthly.Amount < best.Monthly.Amount {
			best, found = o, true
		}
	}
	return best, found
}

func judgeRuleOfThumb(c Comparison) RuleOfThumb {
	r := RuleOfThumb{Rule: RuleOfThumbText, ThresholdUSD: RuleOfThumbThresholdUSD}
	if c.PAYG == nil {
		r.Verdict = "cannot judge: the pay-as-you-go price is unknown"
		return r
	}
	if !strings.EqualFold(c.PAYG.Currency, "USD") {
		r.Verdict = "cannot judge: the rule is in US dollars and the prices are in " + c.PAYG.Currency
		return r
	}
	says := c.PAYG.Amount > RuleOfThumbThresholdUSD
	r.SaysEvaluatePTU = &says
	best, ok := c.CheapestOption()
	if !ok {
		r.Verdict = "cannot judge: no PTU price is known"
		return r
	}
	r.CheapestPTU = best.Term
	cheaper := best.Monthly.Amount < c.PAYG.Amount
	holds := says == cheaper
	r.PTUCheaper, r.Holds = &cheaper, &holds
	payg := "$" + FormatAmount(c.PAYG.Amount)
	ptu := fmt.Sprintf("the %s of %d PTU ($%s)", best.Term.DisplayName(), c.Estimate.PTU, FormatAmount(best.Monthly.Amount))
	diff := "$" + FormatAmount(absf(best.Monthly.Amount-c.PAYG.Amount))
	// At break-even PAYG spend equals the PTU cost, so the cheapest PTU
	// option's monthly cost is the real threshold for this call shape.
	threshold := fmt.Sprintf("at this call shape the %d PTU pay off above $%s a month of PAYG spend, not $5K", c.Estimate.PTU, FormatAmount(best.Monthly.Amount))
	switch {
	case says && cheaper:
		r.Verdict = fmt.Sprintf("holds: PAYG would cost %s a month, above $5K, and %s costs %s less; %s", payg, ptu, diff, threshold)
	case says && !cheaper:
		r.Verdict = fmt.Sprintf("misleads: PAYG would cost %s a month, above $5K, yet %s costs %s more; %s", payg, ptu, diff, threshold)
	case !says && cheaper:
		r.Verdict = fmt.Sprintf("misleads: PAYG would cost only %s a month, below $5K, yet %s costs %s less; %s", payg, ptu, diff, threshold)
	default:
		r.Verdict = fmt.Sprintf("holds: PAYG would cost %s a month, below $5K, and less than %s; %s", payg, ptu, threshold)
	}
	return r
}

func absf(v float64) float64 {
	if v < 0 {
		return -v
	}
	return v
}
