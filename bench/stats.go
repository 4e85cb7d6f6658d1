package bench

import "math"

// Standard normal quantiles used by the quality gate.
const (
	// Z95OneSided is Φ⁻¹(0.95): a one-sided 95% bound is the upper end of
	// a two-sided 90% interval.
	Z95OneSided = 1.6448536269514722
	// Z95TwoSided is Φ⁻¹(0.975).
	Z95TwoSided = 1.959963984540054
)

// Wilson returns the Wilson score interval for x successes in n trials
// (Wilson 1927), the building block of Newcombe's paired interval.
func Wilson(x, n int, z float64) (lo, hi float64) {
	if n <= 0 {
		return 0, 1
	}
	nf, p := float64(n), float64(x)/float64(n)
	z2 := z * z
	centre := (p + z2/(2*nf)) / (1 + z2/nf)
	half := z / (1 + z2/nf) * math.Sqrt(p*(1-p)/nf+z2/(4*nf*nf))
	return math.Max(0, centre-half), math.Min(1, centre+half)
}

// PairedTable is the 2×2 table of paired outcomes on the same items:
// BothRight, OnlyBaseline (baseline right, candidate wrong), OnlyCandidate,
// BothWrong.
type PairedTable struct {
	BothRight     int `json:"both_correct"`
	OnlyBaseline  int `json:"only_baseline_correct"`
	OnlyCandidate int `json:"only_candidate_correct"`
	BothWrong     int `json:"both_wrong"`
}

// N is the number of pairs.
func (t PairedTable) N() int { return t.BothRight + t.OnlyBaseline + t.OnlyCandidate + t.BothWrong }

// Drop is the baseline accuracy minus the candidate accuracy.
func (t PairedTable) Drop() float64 {
	return safeDiv(float64(t.OnlyBaseline-t.OnlyCandidate), float64(t.N()))
}

// DropInterval returns Newcombe's square-and-add interval (Newcombe 1998,
// Statistics in Medicine 17:2635–2650, with the continuity-corrected
// correlation estimate as given by Fagerland, Lydersen and Laake,
// "Statistical Analysis of Contingency Tables", 2017, ch. 8) for the
// difference of paired proportions p_baseline − p_candidate, at the normal
// quantile z. Unlike the Wald interval it stays honest when the two models
// disagree on few items.
func (t PairedTable) DropInterval(z float64) (lo, hi float64) {
	n := t.N()
	if n == 0 {
		return -1, 1
	}
	nf := float64(n)
	x1 := t.BothRight + t.OnlyBaseline  // baseline correct
	x2 := t.BothRight + t.OnlyCandidate // candidate correct
	p1, p2 := float64(x1)/nf, float64(x2)/nf
	d := p1 - p2
	l1, u1 := Wilson(x1, n, z)
	l2, u2 := Wilson(x2, n, z)
	// psi estimates the correlation between the two proportions.
	var psi float64
	r1, r2 := x1, n-x1 // row sums
	c1, c2 := x2, n-x2 // column sums
	if r1 > 0 && r2 > 0 && c1 > 0 && c2 > 0 {
		prod := float64(r1) * float64(r2) * float64(c1) * float64(c2)
		a := float64(t.BothRight)*float64(t.BothWrong) - float64(t.OnlyBaseline)*float64(t.OnlyCandidate)
		switch {
		case a > nf/2:
			psi = (a - nf/2) / math.Sqrt(prod)
		case a >= 0:
			psi = 0
		default:
			psi = a / math.Sqrt(prod)
		}
	}
	dl1, du2 := p1-l1, u2-p2
	dl2, du1 := p2-l2, u1-p1
	lo = d - math.Sqrt(math.Max(0, dl1*dl1+du2*du2-2*psi*dl1*du2))
	hi = d + math.Sqrt(math.Max(0, dl2*dl2+du1*du1-2*psi*dl2*du1))
	return math.Max(-1, lo), math.Min(1, hi)
}
