package cost

import (
	"errors"
	"fmt"
	"math"
)

// Workload is the call shape PTUs are sized for.
type Workload struct {
	// RPM is the peak requests per minute.
	RPM float64 `json:"peak_rpm"`
	// InputTokens and OutputTokens are average tokens per request (prompt
	// and response).
	InputTokens  float64 `json:"input_tokens"`
	OutputTokens float64 `json:"output_tokens"`
	// CacheRate is the fraction (0–1) of input tokens served from the
	// prompt cache.
	CacheRate float64 `json:"cache_rate"`
}

// maxTokensPerMinute bounds inputs so that products stay far from
// overflow and nonsense (10^12 tokens a minute is beyond any deployment).
const maxTokensPerMinute = 1e12

// Validate checks the workload.
func (w Workload) Validate() error {
	switch {
	case !(w.RPM > 0) || math.IsInf(w.RPM, 0):
		return fmt.Errorf("peak requests per minute %v: want a positive number", w.RPM)
	case !(w.InputTokens >= 0) || !(w.OutputTokens >= 0) || math.IsInf(w.InputTokens+w.OutputTokens, 0):
		return fmt.Errorf("tokens per request %v in, %v out: want non-negative numbers", w.InputTokens, w.OutputTokens)
	case w.InputTokens+w.OutputTokens == 0:
		return errors.New("requests carry no tokens: give input and/or output tokens per request")
	case !(w.CacheRate >= 0 && w.CacheRate <= 1):
		return fmt.Errorf("cache rate %v: want a fraction from 0 to 1 (not a percentage)", w.CacheRate)
	case w.RPM*(w.InputTokens+w.OutputTokens) > maxTokensPerMinute:
		return fmt.Errorf("%v requests per minute × %v tokens is beyond any deployment; check the units", w.RPM, w.InputTokens+w.OutputTokens)
	}
	return nil
}

// normalizedPerRequest is one request's weight in input-token equivalents:
// prompt tokens not served from cache, plus the weighted response tokens.
func normalizedPerRequest(w Workload, weight float64) float64 {
	return w.InputTokens*(1-w.CacheRate) + weight*w.OutputTokens
}

// PTUEstimate is Microsoft's capacity-calculator sizing, every step kept so
// it can be shown (aoai-ptu-sizing, "Estimate manually"):
//
//	input TPM       = peak RPM × prompt tokens
//	output TPM      = peak RPM × response tokens
//	normalized TPM  = input TPM × (1 − cache rate) + output weight × output TPM
//	PTUs (raw)      = normalized TPM ÷ input TPM per PTU
//	PTUs            = raw rounded up to the scale increment, or the
//	                  minimum deployment, whichever is larger
type PTUEstimate struct {
	Model      PTUModel       `json:"model"`
	Deployment DeploymentType `json:"deployment"`
	Workload   Workload       `json:"workload"`
	Scale      Scale          `json:"scale"`
	// PTUSteps are the formula's steps; embedded, so their JSON keys sit
	// beside the fields above, and the ptu report shows the same steps.
	PTUSteps
}

// PTUSteps are the worked steps of the PTU sizing formula, shared by
// PTUEstimate and the ptu report (PTUReportSizing).
type PTUSteps struct {
	// InputTPM and OutputTPM are peak tokens per minute.
	InputTPM  float64 `json:"input_tpm"`
	OutputTPM float64 `json:"output_tpm"`
	// EffectiveInputTPM is InputTPM × (1 − cache rate): cached tokens are
	// "deducted 100% from the utilization calculation".
	EffectiveInputTPM float64 `json:"effective_input_tpm"`
	// WeightedOutputTPM is output weight × OutputTPM.
	WeightedOutputTPM float64 `json:"weighted_output_tpm"`
	NormalizedTPM     float64 `json:"normalized_tpm"`
	// RawPTU is NormalizedTPM ÷ InputTPMPerPTU, unrounded.
	RawPTU float64 `json:"ptu_raw"`
	// RoundedPTU is RawPTU rounded up to a multiple of the increment.
	RoundedPTU int `json:"ptu_rounded_to_increment"`
	// PTU is what to deploy: max(RoundedPTU, minimum).
	PTU int `json:"ptu"`
	// MinimumApplied is true when the minimum deployment decided PTU.
	MinimumApplied bool `json:"minimum_applied"`
	// CapacityRPM is the most requests per minute PTU units sustain at this
	// call shape: PTU × input TPM per PTU ÷ normalized tokens per request.
	CapacityRPM float64 `json:"capacity_rpm"`
}

// roundTolerance absorbs floating-point error before rounding up: a raw
// count such as 105.00000000000001 PTU (from a cache rate like 0.3 that
// binary floating point cannot hold exactly) must round to 105, not 110.
// One millionth of an increment is far below any real workload's precision.
const roundTolerance = 1e-6

// PTUSize sizes a provisioned deployment of model for w on deployment type
// d with the embedded parameters (see Book.PTUSize).
func PTUSize(model string, w Workload, d DeploymentType) (PTUEstimate, error) {
	return Default().PTUSize(model, w, d)
}

// PTUSize sizes a provisioned deployment with Microsoft's documented
// formula (see PTUEstimate).
func (b *Book) PTUSize(model string, w Workload, d DeploymentType) (PTUEstimate, error) {
	m, err := b.PTUModel(model)
	if err != nil {
		return PTUEstimate{}, err
	}
	if err := w.Validate(); err != nil {
		return PTUEstimate{}, err
	}
	if !validDeployment(d) {
		return PTUEstimate{}, fmt.Errorf("unknown deployment type %q (use global, datazone or regional)", d)
	}
	sc, ok := m.Scales[d]
	if !ok {
		var offered []string
		for _, x := range DeploymentTypes {
			if _, ok := m.Scales[x]; ok {
				offered = append(offered, string(x))
			}
		}
		return PTUEstimate{}, fmt.Errorf("%s is not offered as %s provisioned (offered: %v); pick another --deployment", m.DisplayName(), d.DisplayName(), offered)
	}
	if m.OutputWeight == 0 && w.OutputTokens > 0 {
		return PTUEstimate{}, fmt.Errorf("no output-to-input ratio for %s in Microsoft's sizing table: supply output_to_input_weight with --catalog (azure_openai.ptu_models, docs/cost.md)", m.DisplayName())
	}
	e := PTUEstimate{Model: m, Deployment: d, Workload: w, Scale: sc}
	e.InputTPM = w.RPM * w.InputTokens
	e.OutputTPM = w.RPM * w.OutputTokens
	e.EffectiveInputTPM = e.InputTPM * (1 - w.CacheRate)
	e.WeightedOutputTPM = m.OutputWeight * e.OutputTPM
	e.NormalizedTPM = e.EffectiveInputTPM + e.WeightedOutputTPM
	e.RawPTU = e.NormalizedTPM / m.InputTPMPerPTU
	steps := math.Ceil(e.RawPTU/float64(sc.Increment) - roundTolerance)
	if steps > 1e9 {
		return PTUEstimate{}, fmt.Errorf("the workload needs %.3g PTUs, beyond any deployment; check the units", e.RawPTU)
	}
	e.RoundedPTU = int(steps) * sc.Increment
	e.PTU = e.RoundedPTU
	if e.PTU < sc.Minimum {
		e.PTU, e.MinimumApplied = sc.Minimum, true
	}
	if per := normalizedPerRequest(w, m.OutputWeight); per > 0 {
		e.CapacityRPM = float64(e.PTU) * m.InputTPMPerPTU / per
	}
	return e, nil
}

// PTUPrice returns the price of one PTU of a model family on a term for a
// deployment type: a row for that type, else a row for "any" type.
func (b *Book) PTUPrice(f Family, d DeploymentType, t Term) (PTUPrice, error) {
	var anyRow *PTUPrice
	for i, p := range b.ptu {
		if p.Family != f || p.Term != t || p.Currency != "USD" {
			continue
		}
		if p.Deployment == d {
			return p, nil
		}
		if p.Deployment == deploymentAny {
			anyRow = &b.ptu[i]
		}
	}
	if anyRow != nil {
		return *anyRow, nil
	}
	return PTUPrice{}, &UnknownPriceError{
		What:     fmt.Sprintf("the %s PTU price of %s models on %s deployments", t.DisplayName(), f, d.DisplayName()),
		Override: fmt.Sprintf("azure_openai.ptu_prices entry {family: %s, deployment: %s, term: %s}", f, d, t),
	}
}

// PTUMonthly is the monthly cost of e.PTU units on term t.
func (b *Book) PTUMonthly(e PTUEstimate, t Term) (Money, PTUPrice, error) {
	p, err := b.PTUPrice(e.Model.Family, e.Deployment, t)
	if err != nil {
		return Money{}, PTUPrice{}, err
	}
	return b.priceMoney(p.PerPTUMonth()*float64(e.PTU), p.Currency, p.Source, p.AsOf), p, nil
}
