package cost

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/gpuplan/gpuplan/hardware"
)

// HoursPerMonth is the billing month: 730 hours, as Azure's pricing
// calculator uses (8,760 h / 12).
const HoursPerMonth = hardware.HoursPerMonth

// DaysPerMonth is the month in days under the same convention:
// 730 h / 24 h = 30.4167 days. Monthly token volumes from a daily pattern
// use it, so "24 hours a day" and "730 hours a month" agree exactly.
const DaysPerMonth = float64(HoursPerMonth) / 24

// MinutesPerMonth is 730 × 60 = 43,800.
const MinutesPerMonth = float64(HoursPerMonth) * 60

// Money is an amount with what is needed to trust it.
type Money struct {
	Amount   float64 `json:"amount"`
	Currency string  `json:"currency"`
	// AsOf is the oldest as_of among the prices the amount came from.
	AsOf hardware.Date `json:"as_of"`
	// ThirdParty is true when any of those prices is a third-party,
	// unverified figure.
	ThirdParty bool `json:"third_party"`
	// Sources are the source keys or URLs of those prices.
	Sources []string `json:"sources,omitempty"`
}

// Scale returns m × f with the same provenance.
func (m Money) Scale(f float64) Money {
	m.Amount *= f
	m.Sources = append([]string(nil), m.Sources...)
	return m
}

// Add returns m + o. The currencies must match; the date is the older of
// the two and the sources are merged.
func (m Money) Add(o Money) (Money, error) {
	if !strings.EqualFold(m.Currency, o.Currency) {
		return Money{}, fmt.Errorf("cannot add %s to %s", o.Currency, m.Currency)
	}
	return Money{
		Amount:     m.Amount + o.Amount,
		Currency:   m.Currency,
		AsOf:       olderDate(m.AsOf, o.AsOf),
		ThirdParty: m.ThirdParty || o.ThirdParty,
		Sources:    mergeSources(m.Sources, o.Sources),
	}, nil
}

// String prints "1,234.56 USD".
func (m Money) String() string { return FormatAmount(m.Amount) + " " + m.Currency }

// olderDate is the earlier of two dates, ignoring unset ones.
func olderDate(a, b hardware.Date) hardware.Date { return hardware.OldestDate(a, b) }

func mergeSources(a, b []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range append(append([]string(nil), a...), b...) {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	sort.Strings(out)
	return out
}

// FormatAmount prints an amount with thousands separators and two decimals
// ("1,234.56"); amounts under 0.01 keep up to four significant decimals.
func FormatAmount(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return fmt.Sprint(v)
	}
	neg := v < 0
	if neg {
		v = -v
	}
	var s string
	if v != 0 && v < 0.01 {
		s = strings.TrimRight(fmt.Sprintf("%.4f", v), "0")
	} else {
		s = fmt.Sprintf("%.2f", v)
	}
	intPart, frac, _ := strings.Cut(s, ".")
	var b strings.Builder
	for i, c := range intPart {
		if i > 0 && (len(intPart)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	out := b.String()
	if frac != "" {
		out += "." + frac
	}
	if neg {
		out = "-" + out
	}
	return out
}

// FormatPrice prints a unit price with two to four decimals, so that a
// price such as $3.673 an hour is not shown rounded ("3.673", "98.32",
// "0.1678", "1,234.50").
func FormatPrice(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return fmt.Sprint(v)
	}
	s := fmt.Sprintf("%.4f", v)
	for strings.HasSuffix(s, "0") && len(s)-strings.IndexByte(s, '.') > 3 {
		s = s[:len(s)-1]
	}
	intPart, frac, _ := strings.Cut(s, ".")
	neg := strings.HasPrefix(intPart, "-")
	intPart = strings.TrimPrefix(intPart, "-")
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i, c := range intPart {
		if i > 0 && (len(intPart)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String() + "." + frac
}

// VMHourly turns a VM price row into Money per VM-hour. cat resolves the
// row's source keys to tell third-party prices apart; it may be nil.
func VMHourly(p hardware.Price, cat *hardware.Catalog) Money {
	m := Money{Amount: p.USDPerHour, Currency: p.Currency, AsOf: p.AsOf, Sources: sourceKeys(p.Source)}
	if cat != nil {
		for _, k := range m.Sources {
			if s, ok := cat.Source(k); ok && s.Tier == "3p" {
				m.ThirdParty = true
			}
		}
	}
	return m
}

// SelfHostMonthly is what vmCount VMs cost in a month at perVMHour, running
// hoursPerDay hours a day (0 means 24): perVMHour × vmCount × 730 ×
// hoursPerDay/24. VMs bill by the hour they run; a VM deallocated outside
// its hours costs nothing for compute then (disks still bill; see
// docs/cost.md for what $/month excludes).
func SelfHostMonthly(perVMHour Money, vmCount int, hoursPerDay float64) (Money, error) {
	if vmCount < 1 {
		return Money{}, fmt.Errorf("VM count %d: need at least one VM", vmCount)
	}
	if hoursPerDay == 0 {
		hoursPerDay = 24
	}
	if !(hoursPerDay > 0 && hoursPerDay <= 24) {
		return Money{}, fmt.Errorf("hours per day %v: want more than 0 and at most 24", hoursPerDay)
	}
	if !(perVMHour.Amount >= 0) || math.IsInf(perVMHour.Amount, 0) {
		return Money{}, fmt.Errorf("price per VM-hour %v is not a valid amount", perVMHour.Amount)
	}
	return perVMHour.Scale(float64(vmCount) * HoursPerMonth * hoursPerDay / 24), nil
}

// Load is a steady token rate served by a deployment, with how its GPU time
// divides between prefill (processing input tokens) and decode (generating
// output tokens).
type Load struct {
	InputTokensPerS  float64
	OutputTokensPerS float64
	// PrefillTime and DecodeTime are the GPU time spent on prefill and on
	// decode over the same period (per request, or per second of serving:
	// only their ratio matters). Both zero leaves the input/output split
	// unknown.
	PrefillTime, DecodeTime time.Duration
}

// TokenCost is the cost of tokens at a load, per million tokens.
type TokenCost struct {
	// Blended is the cost of one million tokens, input and output counted
	// alike: cost per hour ÷ tokens per hour × 10^6.
	Blended Money `json:"blended"`
	// Input and Output split the same cost by GPU time: input tokens carry
	// the prefill share of the hour, output tokens the decode share. Nil
	// when the split is unknown or the load has no such tokens.
	Input  *Money `json:"input,omitempty"`
	Output *Money `json:"output,omitempty"`
	// PrefillShare is the fraction of GPU time (and so of cost) attributed
	// to input tokens; negative when unknown.
	PrefillShare float64 `json:"prefill_share"`
}

// PerMillionTokens is the cost of a million tokens when perHour buys the
// load l: blended over all tokens, and split into input and output by
// their share of GPU time (prefill vs decode). The split keeps the total:
// Input × input tokens + Output × output tokens = Blended × all tokens.
func PerMillionTokens(perHour Money, l Load) (TokenCost, error) {
	in, out := l.InputTokensPerS, l.OutputTokensPerS
	if !(in >= 0 && out >= 0) || math.IsInf(in+out, 0) {
		return TokenCost{}, fmt.Errorf("token rates %v in, %v out: want non-negative numbers", in, out)
	}
	if in+out == 0 {
		return TokenCost{}, errors.New("the load serves no tokens: no cost per token")
	}
	if l.PrefillTime < 0 || l.DecodeTime < 0 {
		return TokenCost{}, errors.New("negative prefill or decode time")
	}
	tc := TokenCost{Blended: perHour.Scale(1e6 / ((in + out) * 3600)), PrefillShare: -1}
	total := l.PrefillTime + l.DecodeTime
	if total == 0 {
		return tc, nil
	}
	share := float64(l.PrefillTime) / float64(total)
	tc.PrefillShare = share
	if in > 0 {
		m := perHour.Scale(share * 1e6 / (in * 3600))
		tc.Input = &m
	}
	if out > 0 {
		m := perHour.Scale((1 - share) * 1e6 / (out * 3600))
		tc.Output = &m
	}
	return tc, nil
}

// ErrUnknownPrice marks a price no source states.
var ErrUnknownPrice = errors.New("price unknown")

// UnknownPriceError says which price is missing and which --catalog entry
// supplies it.
type UnknownPriceError struct {
	// What names the price ("pay-as-you-go price of gpt-5.2, Data Zone").
	What string
	// Override names the --catalog entry that supplies it.
	Override string
}

func (e *UnknownPriceError) Error() string {
	return fmt.Sprintf("%s is unknown: supply it with --catalog (%s; docs/cost.md)", e.What, e.Override)
}

// Is makes errors.Is(err, ErrUnknownPrice) true.
func (e *UnknownPriceError) Is(target error) bool { return target == ErrUnknownPrice }
