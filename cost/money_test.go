package cost

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/gpuplan/gpuplan/hardware"
)

func TestSelfHostMonthly(t *testing.T) {
	// Standard_ND96isr_H100_v5 in eastus, $98.32/h (embedded price book,
	// third-party capture retrieved 2026-11-09).
	p, ok := hardware.Prices().PAYG("Standard_ND96isr_H100_v5", "eastus")
	if !ok {
		t.Fatal("no embedded price for Standard_ND96isr_H100_v5 in eastus")
	}
	h := VMHourly(p, hardware.Default())
	if h.Amount != 98.32 || !h.ThirdParty || h.AsOf.String() != "2026-11-09" {
		t.Fatalf("VMHourly = %+v", h)
	}
	tests := []struct {
		vms   int
		hours float64
		want  float64
	}{
		{1, 0, 71773.6},       // 98.32 × 730
		{2, 24, 143547.2},     // 98.32 × 2 × 730
		{2, 12, 71773.6},      // half the day
		{3, 8, 71773.6},       // 98.32 × 3 × 730 × 8/24
		{1, 0.5, 1495.283333}, // 98.32 × 730 × 0.5/24
	}
	for _, tc := range tests {
		m, err := SelfHostMonthly(h, tc.vms, tc.hours)
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(m.Amount-tc.want) > 1e-3 || m.Currency != "USD" || m.AsOf != h.AsOf {
			t.Errorf("%d VMs × %v h/day = %v, want %v", tc.vms, tc.hours, m, tc.want)
		}
	}
	for _, bad := range []struct {
		vms   int
		hours float64
	}{{0, 24}, {1, 25}, {1, -1}} {
		if _, err := SelfHostMonthly(h, bad.vms, bad.hours); err == nil {
			t.Errorf("%d VMs, %v h accepted", bad.vms, bad.hours)
		}
	}
}

func TestPerMillionTokens(t *testing.T) {
	perHour := Money{Amount: 3.673, Currency: "USD", AsOf: hardware.MustDate("2026-11-09")}
	// 1,000 input and 250 output tokens/s; 20% of GPU time is prefill.
	tc, err := PerMillionTokens(perHour, Load{InputTokensPerS: 1000, OutputTokensPerS: 250, PrefillTime: 2 * time.Second, DecodeTime: 8 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	// blended = 3.673 / (1,250 × 3,600) × 10^6 = $0.816222 per million
	// input   = 3.673 × 0.2 / (1,000 × 3,600) × 10^6 = $0.204056
	// output  = 3.673 × 0.8 / (250 × 3,600) × 10^6 = $3.264889
	if math.Abs(tc.Blended.Amount-0.816222) > 1e-6 || math.Abs(tc.Input.Amount-0.204056) > 1e-6 || math.Abs(tc.Output.Amount-3.264889) > 1e-6 {
		t.Errorf("per million: blended %v, input %v, output %v", tc.Blended.Amount, tc.Input.Amount, tc.Output.Amount)
	}
	// The split keeps the total: 1,000 × input + 250 × output = 1,250 × blended.
	if math.Abs(1000*tc.Input.Amount+250*tc.Output.Amount-1250*tc.Blended.Amount) > 1e-9 {
		t.Error("split does not conserve cost")
	}
	if tc.PrefillShare != 0.2 || tc.Blended.AsOf != perHour.AsOf {
		t.Errorf("share %v, as_of %v", tc.PrefillShare, tc.Blended.AsOf)
	}
	// Unknown split: blended only.
	tc, err = PerMillionTokens(perHour, Load{InputTokensPerS: 1000, OutputTokensPerS: 250})
	if err != nil || tc.Input != nil || tc.Output != nil || tc.PrefillShare >= 0 {
		t.Errorf("unknown split: %+v, %v", tc, err)
	}
	if _, err := PerMillionTokens(perHour, Load{}); err == nil {
		t.Error("zero load accepted")
	}
	if _, err := PerMillionTokens(perHour, Load{InputTokensPerS: math.NaN(), OutputTokensPerS: 1}); err == nil {
		t.Error("NaN accepted")
	}
}

func TestMoney(t *testing.T) {
	a := Money{Amount: 1, Currency: "USD", AsOf: hardware.MustDate("2026-06-01"), Sources: []string{"x"}}
	b := Money{Amount: 2, Currency: "usd", AsOf: hardware.MustDate("2026-05-01"), ThirdParty: true, Sources: []string{"y", "x"}}
	s, err := a.Add(b)
	if err != nil || s.Amount != 3 || s.AsOf.String() != "2026-05-01" || !s.ThirdParty || strings.Join(s.Sources, ",") != "x,y" {
		t.Errorf("Add = %+v, %v", s, err)
	}
	if _, err := a.Add(Money{Currency: "EUR"}); err == nil {
		t.Error("USD + EUR accepted")
	}
	for v, want := range map[float64]string{3.673: "3.673", 98.32: "98.32", 0.167798: "0.1678", 1234.5: "1,234.50", 2652: "2,652.00", 0.075: "0.075"} {
		if got := FormatPrice(v); got != want {
			t.Errorf("FormatPrice(%v) = %q, want %q", v, got, want)
		}
	}
	for v, want := range map[float64]string{0: "0.00", 1234.5: "1,234.50", 1234567.891: "1,234,567.89", -5000: "-5,000.00", 0.00123: "0.0012", 999.999: "1,000.00"} {
		if got := FormatAmount(v); got != want {
			t.Errorf("FormatAmount(%v) = %q, want %q", v, got, want)
		}
	}
}
