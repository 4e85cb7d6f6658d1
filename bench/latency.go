package bench

import (
	"math"
	"slices"
	"time"

	"github.com/gpuplan/gpuplan/stats"
)

// Latency is the shared latency object (stats.Latency); measurements
// never set Low and High.
type Latency = stats.Latency

// Percentile returns the q-th percentile (0 ≤ q ≤ 100) of sorted values with
// linear interpolation between closest ranks, the rule numpy.percentile uses
// by default and therefore the one `vllm bench serve` reports. sorted must be
// in ascending order; an empty slice gives 0.
func Percentile(sorted []float64, q float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	return stats.PercentileSorted(sorted, q)
}

// Summarize returns the mean and percentiles of values (any order; the slice
// is not modified), or nil when there are none: an absent metric is reported
// as absent, not as zero.
func Summarize(values []float64) *Latency {
	if len(values) == 0 {
		return nil
	}
	s := slices.Clone(values)
	slices.Sort(s)
	var sum float64
	for _, v := range s {
		sum += v
	}
	return &Latency{
		Mean: sum / float64(len(s)),
		P50:  Percentile(s, 50),
		P90:  Percentile(s, 90),
		P95:  Percentile(s, 95),
		P99:  Percentile(s, 99),
	}
}

// ms converts a duration to float milliseconds, the unit of every _ms key.
func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// safeDiv returns a/b, or 0 when b is not positive, so that no NaN or Inf
// ever reaches JSON (encoding/json rejects them).
func safeDiv(a, b float64) float64 {
	if b <= 0 || math.IsNaN(a) || math.IsInf(a, 0) {
		return 0
	}
	return a / b
}
