package cost

import (
	"fmt"
	"math"

	"github.com/gpuplan/gpuplan/hardware"
)

// priceMoney wraps an amount computed from one price row.
func (b *Book) priceMoney(amount float64, currency, source string, asOf hardware.Date) Money {
	return Money{Amount: amount, Currency: currency, AsOf: asOf, ThirdParty: b.ThirdParty(source), Sources: sourceKeys(source)}
}

// PAYGPrice returns a model's pay-as-you-go token prices (USD) on a
// deployment type.
func (b *Book) PAYGPrice(model string, d DeploymentType) (PAYGPrice, error) {
	k := normalizeModel(model)
	for _, p := range b.payg {
		if normalizeModel(p.Model) == k && p.Deployment == d && p.Currency == "USD" {
			return p, nil
		}
	}
	return PAYGPrice{}, &UnknownPriceError{
		What:     fmt.Sprintf("the pay-as-you-go price of %s (%s Standard)", model, d.DisplayName()),
		Override: fmt.Sprintf("azure_openai.payg_prices entry {model: %s, deployment: %s, input_per_mtok, output_per_mtok, cached_input_per_mtok}", k, d),
	}
}

// PAYGMonthly is the pay-as-you-go cost of a monthly token volume with the
// embedded prices (see Book.PAYGMonthly).
func PAYGMonthly(model string, d DeploymentType, monthlyInputTokens, monthlyOutputTokens, cachedInputTokens float64) (Money, error) {
	return Default().PAYGMonthly(model, d, monthlyInputTokens, monthlyOutputTokens, cachedInputTokens)
}

// PAYGMonthly is the pay-as-you-go cost of a month's tokens:
//
//	(input − cached) × input price + cached × cached-input price
//	  + output × output price, prices per million tokens.
//
// monthlyInputTokens counts every prompt token, cached or not;
// cachedInputTokens is the part served from the prompt cache (at most
// monthlyInputTokens). The cached-input price is needed only when
// cachedInputTokens > 0.
func (b *Book) PAYGMonthly(model string, d DeploymentType, monthlyInputTokens, monthlyOutputTokens, cachedInputTokens float64) (Money, error) {
	in, out, cached := monthlyInputTokens, monthlyOutputTokens, cachedInputTokens
	if !(in >= 0 && out >= 0 && cached >= 0) || math.IsInf(in+out, 0) {
		return Money{}, fmt.Errorf("monthly tokens %v in, %v out, %v cached: want non-negative numbers", in, out, cached)
	}
	if cached > in {
		return Money{}, fmt.Errorf("cached input tokens (%v) exceed input tokens (%v): cached tokens are part of the input", cached, in)
	}
	p, err := b.PAYGPrice(model, d)
	if err != nil {
		return Money{}, err
	}
	amount := (in-cached)*p.Input + out*p.Output
	if cached > 0 {
		if p.CachedInput == nil {
			return Money{}, &UnknownPriceError{
				What:     fmt.Sprintf("the cached-input price of %s (%s Standard)", model, d.DisplayName()),
				Override: fmt.Sprintf("azure_openai.payg_prices entry for %s %s with cached_input_per_mtok", normalizeModel(model), d),
			}
		}
		amount += cached * *p.CachedInput
	}
	return b.priceMoney(amount/1e6, p.Currency, p.Source, p.AsOf), nil
}

// Volume is a month of traffic at a call shape.
type Volume struct {
	// Basis says how the month was derived: "avg-rpm" (an average rate
	// over 730 hours) or "hours-per-day" (the peak rate for HoursPerDay
	// hours on each of 30.42 days).
	Basis       string  `json:"basis"`
	AvgRPM      float64 `json:"avg_rpm,omitempty"`
	HoursPerDay float64 `json:"hours_per_day,omitempty"`
	Requests    float64 `json:"requests"`
	// InputTokens counts every prompt token; CachedInputTokens the part
	// served from the prompt cache.
	InputTokens       float64 `json:"input_tokens"`
	CachedInputTokens float64 `json:"cached_input_tokens"`
	OutputTokens      float64 `json:"output_tokens"`
}

func volumeOf(w Workload, requests float64) Volume {
	in := requests * w.InputTokens
	return Volume{Requests: requests, InputTokens: in, CachedInputTokens: in * w.CacheRate, OutputTokens: requests * w.OutputTokens}
}

// VolumeFromAvgRPM is a month at an average of avgRPM requests per minute:
// avgRPM × 60 × 730 requests of w's shape.
func VolumeFromAvgRPM(w Workload, avgRPM float64) (Volume, error) {
	if !(avgRPM > 0) || math.IsInf(avgRPM, 0) || avgRPM > maxTokensPerMinute {
		return Volume{}, fmt.Errorf("average requests per minute %v: want a positive number", avgRPM)
	}
	v := volumeOf(w, avgRPM*MinutesPerMonth)
	v.Basis, v.AvgRPM = "avg-rpm", avgRPM
	return v, nil
}

// VolumeFromHours is a month of w.RPM requests per minute for hoursPerDay
// hours a day: RPM × 60 × hoursPerDay × 30.42 days (730 h / 24 h).
func VolumeFromHours(w Workload, hoursPerDay float64) (Volume, error) {
	if !(hoursPerDay > 0 && hoursPerDay <= 24) {
		return Volume{}, fmt.Errorf("hours per day %v: want more than 0 and at most 24", hoursPerDay)
	}
	v := volumeOf(w, w.RPM*60*hoursPerDay*DaysPerMonth)
	v.Basis, v.HoursPerDay = "hours-per-day", hoursPerDay
	v.AvgRPM = w.RPM * hoursPerDay / 24
	return v, nil
}
