package plan

import (
	"fmt"
	"slices"
	"strings"
)

// ObjectiveNames lists the --objective values (Objectives, as strings).
func ObjectiveNames() []string {
	out := make([]string, len(Objectives))
	for i, o := range Objectives {
		out[i] = string(o)
	}
	return out
}

// SLO confidences (--slo-confidence): judge an SLO on the percentile's
// predicted value, or on the upper bound of its error band.
const (
	SLOPoint = "point"
	SLOBand  = "band"
)

// SLOConfidences lists the --slo-confidence values.
func SLOConfidences() []string { return []string{SLOPoint, SLOBand} }

// ParseSLOConfidence reads an --slo-confidence value, case-insensitively
// ("" is point): whether SLOs are judged on the error band's upper bound
// (Request.SLOBand).
func ParseSLOConfidence(s string) (band bool, err error) {
	switch strings.ToLower(s) {
	case SLOPoint, "":
		return false, nil
	case SLOBand:
		return true, nil
	}
	return false, fmt.Errorf("--slo-confidence %q: use point or band", s)
}

// ParseSLOPercentile reads an --slo-percentile value (case-insensitive,
// spaces trimmed) into one of SLOPercentiles.
func ParseSLOPercentile(s string) (string, error) {
	p := strings.ToLower(strings.TrimSpace(s))
	if !slices.Contains(SLOPercentiles, p) {
		return "", fmt.Errorf("--slo-percentile %q: use p50, p90, p95 or p99", s)
	}
	return p, nil
}
