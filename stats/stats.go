// Package stats holds the few order statistics gpuplan reports everywhere
// (accuracy tables, error bands, benchmark percentiles), so that every
// "p90" in the project means the same thing.
package stats

import (
	"math"
	"sort"
)

// Median returns the median of xs (the mean of the two middle values for an
// even count), or NaN when xs is empty. xs is not modified.
func Median(xs []float64) float64 { return Percentile(xs, 50) }

// Percentile returns the p-th percentile (0–100) of xs by linear
// interpolation between closest ranks — numpy's default "linear" method,
// which `vllm bench serve` uses — or NaN when xs is empty. xs is not
// modified.
func Percentile(xs []float64, p float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	return PercentileSorted(s, p)
}

// PercentileSorted is Percentile for xs already sorted in increasing
// order, without copying; NaN when xs is empty.
func PercentileSorted(sorted []float64, p float64) float64 {
	n := len(sorted)
	switch {
	case n == 0:
		return math.NaN()
	case p <= 0:
		return sorted[0]
	case p >= 100:
		return sorted[n-1]
	}
	rank := p / 100 * float64(n-1)
	lo := int(math.Floor(rank))
	hi := min(lo+1, n-1)
	return sorted[lo] + (sorted[hi]-sorted[lo])*(rank-float64(lo))
}
