package plan

import (
	"strings"

	"github.com/gpuplan/gpuplan/cost"
)

// Report is what `gpuplan plan` prints with -o json or -o yaml (the table is
// a view of it), and what the API's /api/v1/plan answers: the ranked
// self-hosted rows and "why not" lines of a Result, the Azure OpenAI
// comparisons at the same request rate, and the CPU VM offers.
type Report struct {
	Result
	// Managed compares Azure OpenAI models (`--managed`) at the plan's
	// request rate.
	Managed []ManagedRow `json:"managed,omitempty"`
	// ManagedNote says why --managed printed no rows.
	ManagedNote string `json:"managed_note,omitempty"`
	// CPU are the Azure CPU VM offers (llama.cpp) beside the GPU rows.
	CPU *CPUResult `json:"cpu,omitempty"`
}

// ManagedRow is one Azure OpenAI comparison beside the self-hosted rows:
// pay-as-you-go at the month's volume and PTU sized for the peak.
type ManagedRow struct {
	Model      string              `json:"model"`
	Deployment cost.DeploymentType `json:"deployment"`
	// PeakRPM is the load's request rate in requests per minute.
	PeakRPM float64 `json:"peak_rpm"`
	// TokensPerMinute is the load's input + output tokens per minute.
	TokensPerMinute float64 `json:"tokens_per_minute"`
	// Quota says how TokensPerMinute compares with the default
	// pay-as-you-go quota (empty when it is within it).
	Quota      string          `json:"quota,omitempty"`
	Comparison cost.Comparison `json:"comparison"`
}

// CompareManaged compares each Azure OpenAI model in models at rps
// requests per second of inputTokens + outputTokens: PTU sized for that
// rate as the peak, pay-as-you-go for the month it implies at hoursPerDay
// hours a day. A rate of zero (a load given only as concurrency) has no
// managed equivalent and yields no rows. Errors name the model or the
// value that cannot be priced.
func CompareManaged(b *cost.Book, models []string, d cost.DeploymentType, rps, inputTokens, outputTokens, hoursPerDay float64) ([]ManagedRow, error) {
	if rps <= 0 {
		return nil, nil
	}
	var rows []ManagedRow
	for _, m := range models {
		m = strings.TrimSpace(m)
		w := cost.Workload{RPM: rps * 60, InputTokens: inputTokens, OutputTokens: outputTokens}
		v, err := cost.VolumeFromHours(w, hoursPerDay)
		if err != nil {
			return nil, err
		}
		c, err := b.Compare(m, w, d, v)
		if err != nil {
			return nil, err
		}
		tpm := w.RPM * (w.InputTokens + w.OutputTokens)
		rows = append(rows, ManagedRow{Model: m, Deployment: d, PeakRPM: w.RPM, TokensPerMinute: tpm, Quota: cost.QuotaCheck(m, d, tpm, w.RPM), Comparison: c})
	}
	return rows, nil
}
