package cost

import (
	"encoding/json"
	"errors"
	"math"
	"os"
	"strings"
	"testing"
	"time"
)

// TestWorkedExample reproduces Microsoft's worked example from
// "Determine PTU sizing for a workload" (ms.date 05/21/2026,
// https://learn.microsoft.com/azure/foundry/openai/how-to/provisioned-throughput-sizing):
// gpt-5.2, Data Zone provisioned, 1,000 peak RPM, 200 prompt and 20
// response tokens → 110 PTU; with 50% of prompt tokens cached → 80 PTU.
func TestWorkedExample(t *testing.T) {
	tests := []struct {
		name                                                string
		cache                                               float64
		inputTPM, outputTPM, effectiveInput, weightedOutput float64
		normalized, raw2dp                                  float64
		rounded, ptu                                        int
	}{
		{
			name: "no cache",
			// input TPM  = 1,000 × 200 = 200,000
			// output TPM = 1,000 × 20  = 20,000
			// effective input = 200,000 × (1 − 0) = 200,000
			// weighted output = 8 × 20,000 = 160,000 (gpt-5.2 ratio 8)
			// normalized = 200,000 + 160,000 = 360,000
			// raw = 360,000 ÷ 3,400 = 105.882… → 105.88
			// up to the Data Zone increment of 5: ceil(105.88 / 5) = 22 → 110
			// minimum 15 < 110, so 110 PTU.
			cache: 0, inputTPM: 200000, outputTPM: 20000, effectiveInput: 200000, weightedOutput: 160000,
			normalized: 360000, raw2dp: 105.88, rounded: 110, ptu: 110,
		},
		{
			name: "50% cache",
			// effective input = 200,000 × (1 − 0.5) = 100,000
			// normalized = 100,000 + 8 × 20,000 = 260,000
			// raw = 260,000 ÷ 3,400 = 76.470… → 76.47
			// ceil(76.47 / 5) = 16 → 80 PTU.
			cache: 0.5, inputTPM: 200000, outputTPM: 20000, effectiveInput: 100000, weightedOutput: 160000,
			normalized: 260000, raw2dp: 76.47, rounded: 80, ptu: 80,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e, err := PTUSize("gpt-5.2", Workload{RPM: 1000, InputTokens: 200, OutputTokens: 20, CacheRate: tc.cache}, DataZone)
			if err != nil {
				t.Fatal(err)
			}
			if e.InputTPM != tc.inputTPM || e.OutputTPM != tc.outputTPM || e.EffectiveInputTPM != tc.effectiveInput ||
				e.WeightedOutputTPM != tc.weightedOutput || e.NormalizedTPM != tc.normalized {
				t.Errorf("TPM steps = %v in, %v out, %v effective, %v weighted, %v normalized; want %v, %v, %v, %v, %v",
					e.InputTPM, e.OutputTPM, e.EffectiveInputTPM, e.WeightedOutputTPM, e.NormalizedTPM,
					tc.inputTPM, tc.outputTPM, tc.effectiveInput, tc.weightedOutput, tc.normalized)
			}
			if got := math.Round(e.RawPTU*100) / 100; got != tc.raw2dp {
				t.Errorf("raw PTU = %v (%.2f), want %.2f", e.RawPTU, got, tc.raw2dp)
			}
			if e.RoundedPTU != tc.rounded || e.PTU != tc.ptu || e.MinimumApplied {
				t.Errorf("PTU = %d (rounded %d, minimum applied %v), want %d", e.PTU, e.RoundedPTU, e.MinimumApplied, tc.ptu)
			}
			if e.Scale != (Scale{Minimum: 15, Increment: 5}) {
				t.Errorf("Data Zone scale = %+v, want minimum 15, increment 5", e.Scale)
			}
		})
	}
}

type refRecord struct {
	Role         string             `json:"role"`
	Source       string             `json:"source"`
	Model        string             `json:"model"`
	InputTokens  *float64           `json:"input_tokens"`
	OutputTokens *float64           `json:"output_tokens"`
	Measured     map[string]float64 `json:"measured"`
}

func loadRefRecords(t *testing.T) []refRecord {
	t.Helper()
	b, err := os.ReadFile("testdata/ptu-records.json")
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Records []refRecord `json:"records"`
	}
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	if len(f.Records) == 0 {
		t.Fatal("no reference records")
	}
	return f.Records
}

// TestWorkedExampleRecords checks the same example against the copied
// reference records, so the test data and the code agree on the figures.
func TestWorkedExampleRecords(t *testing.T) {
	n := 0
	for _, r := range loadRefRecords(t) {
		if r.Role != "worked-example" {
			continue
		}
		n++
		m := r.Measured
		w := Workload{RPM: m["peak_rpm"], InputTokens: *r.InputTokens, OutputTokens: *r.OutputTokens, CacheRate: m["cache_rate"]}
		e, err := PTUSize(r.Model, w, DataZone)
		if err != nil {
			t.Fatal(err)
		}
		if e.NormalizedTPM != m["normalized_tpm"] || e.PTU != int(m["ptu_rounded_data_zone"]) || math.Abs(e.RawPTU-m["ptu_raw"]) > 0.005 {
			t.Errorf("%s cache %v: normalized %v, raw %v, PTU %d; reference %v, %v, %v", r.Model, w.CacheRate, e.NormalizedTPM, e.RawPTU, e.PTU, m["normalized_tpm"], m["ptu_raw"], m["ptu_rounded_data_zone"])
		}
	}
	if n != 2 {
		t.Fatalf("found %d worked-example records, want 2", n)
	}
}

// TestPTUModelsMatchReference compares every embedded model row with the
// reference record of the same model.
func TestPTUModelsMatchReference(t *testing.T) {
	b := Default()
	n := 0
	for _, r := range loadRefRecords(t) {
		if r.Role != "parameters" {
			continue
		}
		n++
		m, err := b.PTUModel(r.Model)
		if err != nil {
			t.Errorf("reference model %q: %v", r.Model, err)
			continue
		}
		x := r.Measured
		if m.InputTPMPerPTU != x["input_tpm_per_ptu"] || m.OutputWeight != x["output_to_input_token_weight"] || m.LatencyTarget != x["latency_target_tokens_per_s_at_99pct"] {
			t.Errorf("%s: tpm/PTU %v weight %v latency %v; reference %v %v %v", m.ID, m.InputTPMPerPTU, m.OutputWeight, m.LatencyTarget,
				x["input_tpm_per_ptu"], x["output_to_input_token_weight"], x["latency_target_tokens_per_s_at_99pct"])
		}
		g := Scale{int(x["global_datazone_min_ptu"]), int(x["global_datazone_increment_ptu"])}
		if m.Scales[Global] != g {
			t.Errorf("%s: global scale %+v, reference %+v", m.ID, m.Scales[Global], g)
		}
		// Fireworks models are Global only; the others share the Global
		// figures with Data Zone.
		if dz, ok := m.Scales[DataZone]; ok != (m.Family != FamilyFireworks) || (ok && dz != g) {
			t.Errorf("%s: data zone scale %+v (offered %v)", m.ID, dz, ok)
		}
		if _, want := x["regional_min_ptu"]; want {
			rg := Scale{int(x["regional_min_ptu"]), int(x["regional_increment_ptu"])}
			if m.Scales[Regional] != rg {
				t.Errorf("%s: regional scale %+v, reference %+v", m.ID, m.Scales[Regional], rg)
			}
		} else if _, ok := m.Scales[Regional]; ok {
			t.Errorf("%s: regional offered, but the reference gives no regional figures", m.ID)
		}
	}
	if n != len(b.PTUModels()) {
		t.Errorf("%d reference parameter records, %d embedded models", n, len(b.PTUModels()))
	}
}

func TestPTUSizeRules(t *testing.T) {
	tests := []struct {
		name  string
		model string
		w     Workload
		d     DeploymentType
		ptu   int
		min   bool
		err   string
	}{
		// 10 × (100 + 4 × 10) = 1,400 normalized TPM ÷ 3,000 = 0.47 → 5, below the minimum 15.
		{"minimum applies", "gpt-4.1", Workload{RPM: 10, InputTokens: 100, OutputTokens: 10}, Global, 15, true, ""},
		// 0.47 → regional increment 50 = 50, which is also the regional minimum.
		{"regional increment", "gpt-4.1", Workload{RPM: 10, InputTokens: 100, OutputTokens: 10}, Regional, 50, false, ""},
		// 1,000 × (1,000 × 0.7 + 4 × 0) = 700,000 ÷ 3,000 = 233.33 → 235.
		{"cache without output", "gpt-4.1", Workload{RPM: 1000, InputTokens: 1000, CacheRate: 0.3}, Global, 235, false, ""},
		// 450 × (1,000 × 0.7) = 315,000 ÷ 3,000 = 105 exactly; 1 − 0.3 is
		// 0.7000000000000001 in binary, which must not round to 110.
		{"exact multiple survives float error", "gpt-4.1", Workload{RPM: 450, InputTokens: 1000, CacheRate: 0.3}, Global, 105, false, ""},
		// o1: regional minimum 25, increment 50. 100 × (1,000) = 100,000 ÷ 230 = 434.8 → 450.
		{"o1 regional", "o1", Workload{RPM: 100, InputTokens: 1000}, Regional, 450, false, ""},
		// Llama: 100 × (2,000 + 4 × 500) = 400,000 ÷ 8,450 = 47.3 → 100 (increment 100).
		{"foundry increment 100", "Llama-3.3-70B-Instruct", Workload{RPM: 100, InputTokens: 2000, OutputTokens: 500}, Global, 100, false, ""},
		{"not offered regional", "llama-3.3-70b-instruct", Workload{RPM: 100, InputTokens: 2000, OutputTokens: 500}, Regional, 0, false, "not offered as Regional"},
		{"fireworks without weight", "gpt-oss-120b", Workload{RPM: 100, InputTokens: 2000, OutputTokens: 500}, Global, 0, false, "no output-to-input ratio"},
		// Without output tokens the missing weight does not matter:
		// 100 × 2,000 = 200,000 ÷ 13,500 = 14.8 → 40, below the minimum 80.
		{"fireworks input only", "Kimi K2.6", Workload{RPM: 100, InputTokens: 2000}, Global, 800, true, ""},
		{"unknown model", "gpt-9", Workload{RPM: 1, InputTokens: 1}, Global, 0, false, "no provisioned-throughput parameters"},
		{"cache as percent", "gpt-4.1", Workload{RPM: 1, InputTokens: 1, CacheRate: 50}, Global, 0, false, "not a percentage"},
		{"zero rpm", "gpt-4.1", Workload{InputTokens: 1}, Global, 0, false, "peak requests per minute"},
		{"no tokens", "gpt-4.1", Workload{RPM: 5}, Global, 0, false, "no tokens"},
		{"absurd", "gpt-4.1", Workload{RPM: 1e9, InputTokens: 1e9}, Global, 0, false, "beyond any deployment"},
		{"NaN", "gpt-4.1", Workload{RPM: math.NaN(), InputTokens: 1}, Global, 0, false, "peak requests"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e, err := PTUSize(tc.model, tc.w, tc.d)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want it to mention %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if e.PTU != tc.ptu || e.MinimumApplied != tc.min {
				t.Errorf("PTU = %d (minimum applied %v, raw %v), want %d (%v)", e.PTU, e.MinimumApplied, e.RawPTU, tc.ptu, tc.min)
			}
		})
	}
}

func TestPAYGMonthly(t *testing.T) {
	// gpt-4.1 Global: $2.00 input, $0.50 cached input, $8.00 output per
	// million. 1M input of which 200k cached, 1M output:
	// 0.8 × 2.00 + 0.2 × 0.50 + 1 × 8.00 = 1.60 + 0.10 + 8.00 = $9.70.
	m, err := PAYGMonthly("gpt-4.1", Global, 1e6, 1e6, 2e5)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(m.Amount-9.70) > 1e-9 || m.Currency != "USD" || !m.ThirdParty || m.AsOf.String() != "2026-06-01" {
		t.Errorf("gpt-4.1 PAYG = %+v, want 9.70 USD, third party, as of 2026-06-01", m)
	}
	// Data Zone gpt-4.1 is 10% above Global and has no cached price:
	// without cached tokens 2.20 + 8.80 = $11.00; with them, unknown.
	m, err = PAYGMonthly("gpt-4.1", DataZone, 1e6, 1e6, 0)
	if err != nil || math.Abs(m.Amount-11.00) > 1e-9 {
		t.Errorf("gpt-4.1 Data Zone = %v, %v; want 11.00", m, err)
	}
	_, err = PAYGMonthly("gpt-4.1", DataZone, 1e6, 1e6, 1)
	if !errors.Is(err, ErrUnknownPrice) || !strings.Contains(err.Error(), "cached_input_per_mtok") {
		t.Errorf("cached price missing: err = %v", err)
	}
	_, err = PAYGMonthly("gpt-5.2", DataZone, 1, 1, 0)
	var ue *UnknownPriceError
	if !errors.As(err, &ue) || !strings.Contains(ue.Override, "azure_openai.payg_prices") {
		t.Errorf("gpt-5.2 PAYG: err = %v, want an UnknownPriceError naming the override", err)
	}
	if _, err := PAYGMonthly("gpt-4.1", Global, 1, 1, 2); err == nil {
		t.Error("cached > input accepted")
	}
	if _, err := PAYGMonthly("gpt-4.1", Global, -1, 1, 0); err == nil {
		t.Error("negative volume accepted")
	}
}

func TestVolume(t *testing.T) {
	w := Workload{RPM: 60, InputTokens: 1800, OutputTokens: 650, CacheRate: 0.2}
	full, err := VolumeFromHours(w, 24)
	if err != nil {
		t.Fatal(err)
	}
	avg, err := VolumeFromAvgRPM(w, 60)
	if err != nil {
		t.Fatal(err)
	}
	// 60 requests a minute all month: 60 × 60 × 730 = 2,628,000 requests,
	// whether counted as 24 h × 30.4167 days or as 730 hours.
	if math.Abs(full.Requests-2628000) > 1e-6 || math.Abs(avg.Requests-2628000) > 1e-6 {
		t.Errorf("requests = %v (hours) and %v (avg), want 2,628,000", full.Requests, avg.Requests)
	}
	if math.Abs(DaysPerMonth-30.416666666666668) > 1e-12 {
		t.Errorf("DaysPerMonth = %v", DaysPerMonth)
	}
	// 8 h a day: a third of the month's requests.
	part, _ := VolumeFromHours(w, 8)
	if math.Abs(part.Requests-876000) > 1e-6 || part.AvgRPM != 20 {
		t.Errorf("8 h/day: %v requests at avg %v RPM, want 876,000 at 20", part.Requests, part.AvgRPM)
	}
	if math.Abs(full.CachedInputTokens-0.2*full.InputTokens) > 1 {
		t.Errorf("cached = %v of %v input", full.CachedInputTokens, full.InputTokens)
	}
	if _, err := VolumeFromHours(w, 25); err == nil {
		t.Error("25 hours a day accepted")
	}
	if _, err := VolumeFromAvgRPM(w, 0); err == nil {
		t.Error("zero average RPM accepted")
	}
}

// TestCompareGPT41 works through gpt-4.1 Global at 60 peak RPM, 1,800 in /
// 650 out, 20% cache, all month; the PAYG figure matches the third-party
// demo README's "~$21,700" for the same workload.
func TestCompareGPT41(t *testing.T) {
	w := Workload{RPM: 60, InputTokens: 1800, OutputTokens: 650, CacheRate: 0.2}
	v, _ := VolumeFromHours(w, 24)
	c, err := Compare("gpt-4.1", w, Global, v)
	if err != nil {
		t.Fatal(err)
	}
	// normalized per request = 1,800 × 0.8 + 4 × 650 = 1,440 + 2,600 = 4,040
	// normalized TPM = 60 × 4,040 = 242,400; ÷ 3,000 = 80.8 → 85 PTU.
	if c.Estimate.NormalizedTPM != 242400 || c.Estimate.PTU != 85 {
		t.Fatalf("normalized %v, PTU %d; want 242,400 and 85", c.Estimate.NormalizedTPM, c.Estimate.PTU)
	}
	// PAYG: 2,628,000 requests.
	//   uncached input 2,628,000 × 1,440 = 3.78432e9 × $2.00/M = $7,568.64
	//   cached input   2,628,000 × 360   = 9.4608e8  × $0.50/M = $473.04
	//   output         2,628,000 × 650   = 1.7082e9  × $8.00/M = $13,665.60
	//   total $21,707.28
	if c.PAYG == nil || math.Abs(c.PAYG.Amount-21707.28) > 0.005 {
		t.Fatalf("PAYG = %v, want 21,707.28", c.PAYG)
	}
	// PTU: hourly 85 × $1.00 × 730 = $62,050; 1-month 85 × $260 = $22,100;
	// 1-year 85 × $2,652 / 12 = 85 × $221 = $18,785.
	want := map[Term]float64{Hourly: 62050, Reserved1M: 22100, Reserved1Y: 18785}
	for _, o := range c.Options {
		if o.Monthly == nil || math.Abs(o.Monthly.Amount-want[o.Term]) > 1e-6 || !o.Monthly.ThirdParty {
			t.Errorf("%s: monthly %v, want %v (third party)", o.Term, o.Monthly, want[o.Term])
		}
	}
	// Break-even of the 1-year term: one request costs
	// (1,440 × 2.00 + 360 × 0.50 + 650 × 8.00) / 10^6 = $0.00826;
	// 18,785 / 0.00826 = 2,274,213.08 requests = 51.92 average RPM, under
	// the 85 PTU's capacity of 85 × 3,000 / 4,040 = 63.12 RPM.
	be := c.Options[2].BreakEven
	if be == nil || math.Abs(be.Requests-2274213.075) > 0.01 || math.Abs(be.AvgRPM-51.9227) > 1e-3 || !be.Reachable {
		t.Errorf("1-year break-even = %+v", be)
	}
	if math.Abs(be.Tokens-be.Requests*2450) > 1e-3 {
		t.Errorf("break-even tokens %v != requests × 2,450", be.Tokens)
	}
	if math.Abs(c.Estimate.CapacityRPM-63.1188) > 1e-3 {
		t.Errorf("capacity = %v RPM, want 63.12", c.Estimate.CapacityRPM)
	}
	// Hourly: 62,050 / 0.00826 / 43,800 = 171.5 RPM, above capacity.
	if hb := c.Options[0].BreakEven; hb == nil || hb.Reachable {
		t.Errorf("hourly break-even %+v should be unreachable", hb)
	}
}

func TestRuleOfThumb(t *testing.T) {
	shape := Workload{InputTokens: 1800, OutputTokens: 650, CacheRate: 0.2}
	tests := []struct {
		name        string
		rpm, hours  float64
		says, holds bool
		verdict     string
	}{
		// $21,707.28 PAYG > $5K; 1-year PTU $18,785 is cheaper.
		{"above and PTU cheaper", 60, 24, true, true, "holds"},
		// 8 h a day: PAYG $7,235.76 > $5K, but PTU is sized for the peak
		// (85 PTU, $18,785 at best).
		{"above but PTU dearer", 60, 8, true, false, "misleads"},
		// 10 RPM: PAYG 438,000 × $0.00826 = $3,617.88 < $5K; PTU is the
		// minimum 15 × $221 = $3,315, cheaper.
		{"below but PTU cheaper", 10, 24, false, false, "misleads"},
		// 5 RPM: PAYG $1,808.94; 15 PTU cost $3,315.
		{"below and PAYG cheaper", 5, 24, false, true, "holds"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := shape
			w.RPM = tc.rpm
			v, _ := VolumeFromHours(w, tc.hours)
			c, err := Compare("gpt-4.1", w, Global, v)
			if err != nil {
				t.Fatal(err)
			}
			r := c.RuleOfThumb
			if r.SaysEvaluatePTU == nil || *r.SaysEvaluatePTU != tc.says || r.Holds == nil || *r.Holds != tc.holds || !strings.HasPrefix(r.Verdict, tc.verdict) {
				t.Errorf("rule = %+v (PAYG %v), want says %v holds %v", r, c.PAYG, tc.says, tc.holds)
			}
			if r.CheapestPTU != Reserved1Y {
				t.Errorf("cheapest = %s", r.CheapestPTU)
			}
		})
	}
	// Unknown PAYG: no verdict.
	w := Workload{RPM: 1000, InputTokens: 200, OutputTokens: 20}
	v, _ := VolumeFromHours(w, 24)
	c, err := Compare("gpt-5.2", w, DataZone, v)
	if err != nil {
		t.Fatal(err)
	}
	if c.PAYG != nil || c.RuleOfThumb.Holds != nil || !strings.HasPrefix(c.RuleOfThumb.Verdict, "cannot judge") || c.PAYGUnknown == "" {
		t.Errorf("unknown PAYG: %+v", c.RuleOfThumb)
	}
	for _, o := range c.Options {
		if o.BreakEven != nil || o.Monthly == nil {
			t.Errorf("%s: monthly %v, break-even %v", o.Term, o.Monthly, o.BreakEven)
		}
	}
	// Foundry models have no PTU price: every option unknown, with the override.
	w = Workload{RPM: 100, InputTokens: 2000, OutputTokens: 500}
	v, _ = VolumeFromHours(w, 24)
	c, err = Compare("llama-3.3-70b-instruct", w, Global, v)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range c.Options {
		if o.Monthly != nil || !strings.Contains(o.Unknown, "azure_openai.ptu_prices") {
			t.Errorf("llama %s: %+v", o.Term, o)
		}
	}
}

func TestEmbeddedRowsSourcedAndDated(t *testing.T) {
	b := Default()
	now := time.Now()
	if err := b.CheckDates(now); err != nil {
		t.Fatal(err)
	}
	check := func(what, source string, asOf interface{ IsZero() bool }) {
		t.Helper()
		if err := b.checkSource(source); err != nil {
			t.Errorf("%s: %v", what, err)
		}
		if asOf.IsZero() {
			t.Errorf("%s: no as_of", what)
		}
	}
	for _, m := range b.PTUModels() {
		check("ptu model "+m.ID, m.Source, m.AsOf)
	}
	for _, p := range b.PTUPrices() {
		check("ptu price "+ptuPriceKey(p), p.Source, p.AsOf)
		if !b.ThirdParty(p.Source) {
			t.Errorf("ptu price %s: no Microsoft source states PTU prices, so it must be labelled third-party", ptuPriceKey(p))
		}
	}
	for _, p := range b.PAYGPrices() {
		check("payg price "+paygKey(p), p.Source, p.AsOf)
	}
	for _, s := range b.Sources() {
		if s.URL == "" && s.Ref == "" {
			t.Errorf("source %s has neither url nor ref", s.Key)
		}
	}
	// A future date is rejected.
	future := now.AddDate(0, 0, 2).Format("2006-01-02")
	o, err := ParseOverlay([]byte(`payg_prices: [{model: gpt-5.2, deployment: global, input_per_mtok: 1, output_per_mtok: 8, currency: USD, source: "https://example.com/p", as_of: "` + future + `"}]`))
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Merge(o, now); err == nil || !strings.Contains(err.Error(), "after today") {
		t.Errorf("future as_of: err = %v", err)
	}
}

func TestPTUPriceConversions(t *testing.T) {
	b := Default()
	tests := []struct {
		d     DeploymentType
		t     Term
		month float64
	}{
		{Global, Hourly, 730},    // $1.00 × 730 h
		{DataZone, Hourly, 803},  // $1.10 × 730 h
		{Regional, Hourly, 1460}, // $2.00 × 730 h
		{DataZone, Reserved1M, 260},
		{Regional, Reserved1Y, 221}, // $2,652 / 12
	}
	for _, tc := range tests {
		p, err := b.PTUPrice(FamilyAzureOpenAI, tc.d, tc.t)
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(p.PerPTUMonth()-tc.month) > 1e-9 {
			t.Errorf("%s %s: %v per PTU-month, want %v", tc.d, tc.t, p.PerPTUMonth(), tc.month)
		}
	}
}

func TestParseDeployment(t *testing.T) {
	for in, want := range map[string]DeploymentType{"global": Global, "Data Zone": DataZone, "data-zone": DataZone, "DataZoneProvisionedManaged": DataZone, "regional": Regional, "ProvisionedManaged": Regional} {
		if d, err := ParseDeploymentType(in); err != nil || d != want {
			t.Errorf("ParseDeploymentType(%q) = %v, %v; want %v", in, d, err, want)
		}
	}
	if _, err := ParseDeploymentType("zonal"); err == nil {
		t.Error("zonal accepted")
	}
}
