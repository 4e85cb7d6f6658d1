package stats

import (
	"math"
	"testing"
)

// Values checked against numpy.percentile's default (linear) method.
func TestPercentile(t *testing.T) {
	xs := []float64{15, 20, 35, 40, 50}
	for p, want := range map[float64]float64{0: 15, 25: 20, 40: 29, 50: 35, 90: 46, 100: 50} {
		if got := Percentile(xs, p); math.Abs(got-want) > 1e-12 {
			t.Errorf("p%v = %v, want %v", p, got, want)
		}
	}
	if got := Median([]float64{4, 1, 3, 2}); got != 2.5 {
		t.Errorf("median of 1..4 = %v, want 2.5", got)
	}
	in := []float64{3, 1, 2}
	Median(in)
	if in[0] != 3 {
		t.Error("Median reordered its input")
	}
	if !math.IsNaN(Percentile(nil, 50)) || !math.IsNaN(PercentileSorted(nil, 50)) {
		t.Error("empty input should give NaN")
	}
	if got := Percentile([]float64{7}, 90); got != 7 {
		t.Errorf("single value p90 = %v", got)
	}
}
