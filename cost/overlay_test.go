package cost

import (
	"math"
	"strings"
	"testing"
	"time"
)

var now = time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)

func TestMergeOverlay(t *testing.T) {
	b := Default()
	o, err := ParseOverlay([]byte(`
payg_prices:
- {model: gpt-5.2, deployment: datazone, input_per_mtok: 1.925, cached_input_per_mtok: 0.1925, output_per_mtok: 15.4, currency: USD, source: "https://azure.microsoft.com/pricing/details/cognitive-services/openai-service/", as_of: "2026-11-20"}
ptu_prices:
- {family: azure-openai, deployment: datazone, term: reserved-1m, amount: 250, unit: ptu-month, currency: USD, source: "https://example.com/quote", as_of: "2026-11-20"}
ptu_models:
- {id: GPT-OSS-120B, family: fireworks, input_tpm_per_ptu: 13500, output_to_input_weight: 4, scales: {global: {min_ptu: 80, increment_ptu: 40}}, source: "https://example.com/fw", as_of: "2026-11-01"}
`))
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Merge(o, now); err != nil {
		t.Fatal(err)
	}
	// The new PAYG row makes the worked example comparable; user rows are
	// not third-party.
	w := Workload{RPM: 1000, InputTokens: 200, OutputTokens: 20}
	v, _ := VolumeFromHours(w, 24)
	c, err := b.Compare("gpt-5.2", w, DataZone, v)
	if err != nil {
		t.Fatal(err)
	}
	// 43,800,000 requests × (200 × 1.925 + 20 × 15.4) / 10^6
	// = 43.8e6 × (385 + 308) / 1e6 = 43.8 × 693 = $30,353.40
	if c.PAYG == nil || math.Abs(c.PAYG.Amount-30353.4) > 1e-6 || c.PAYG.ThirdParty {
		t.Fatalf("PAYG = %+v", c.PAYG)
	}
	// The Data Zone 1-month row overrides "any" for Data Zone only.
	if p, _ := b.PTUPrice(FamilyAzureOpenAI, DataZone, Reserved1M); p.Amount != 250 {
		t.Errorf("datazone 1-month = %v", p.Amount)
	}
	if p, _ := b.PTUPrice(FamilyAzureOpenAI, Global, Reserved1M); p.Amount != 260 {
		t.Errorf("global 1-month = %v", p.Amount)
	}
	// The model row replaced the embedded one (id normalized), now with a weight.
	if m, err := b.PTUModel("gpt-oss-120b"); err != nil || m.OutputWeight != 4 {
		t.Errorf("gpt-oss-120b = %+v, %v", m, err)
	}
	if n := len(b.PTUModels()); n != len(Default().PTUModels()) {
		t.Errorf("%d models after replacing one", n)
	}
	// Default is untouched.
	if _, err := Default().PAYGPrice("gpt-5.2", DataZone); err == nil {
		t.Error("merge leaked into the default book")
	}
}

func TestMergeRejects(t *testing.T) {
	tests := []struct{ name, yaml, err string }{
		{"unknown field", `payg_prices: [{model: x, deployment: global, input_per_mtok: 1, output_per_mtok: 1, currency: USD, source: "https://e.com", as_of: "2026-01-01", colour: red}]`, "unknown field"},
		{"no source", `payg_prices: [{model: x, deployment: global, input_per_mtok: 1, output_per_mtok: 1, currency: USD, as_of: "2026-01-01"}]`, "no source"},
		{"bad source", `payg_prices: [{model: x, deployment: global, input_per_mtok: 1, output_per_mtok: 1, currency: USD, source: "my notes", as_of: "2026-01-01"}]`, "neither an http(s) URL"},
		{"no date", `payg_prices: [{model: x, deployment: global, input_per_mtok: 1, output_per_mtok: 1, currency: USD, source: "https://e.com"}]`, "no as_of"},
		{"bad date", `payg_prices: [{model: x, deployment: global, input_per_mtok: 1, output_per_mtok: 1, currency: USD, source: "https://e.com", as_of: "yesterday"}]`, "want YYYY-MM-DD"},
		{"negative price", `payg_prices: [{model: x, deployment: global, input_per_mtok: -1, output_per_mtok: 1, currency: USD, source: "https://e.com", as_of: "2026-01-01"}]`, "plausible"},
		{"bad deployment", `payg_prices: [{model: x, deployment: zonal, input_per_mtok: 1, output_per_mtok: 1, currency: USD, source: "https://e.com", as_of: "2026-01-01"}]`, "unknown deployment"},
		{"unit mismatch", `ptu_prices: [{family: azure-openai, deployment: any, term: hourly, amount: 1, unit: ptu-month, currency: USD, source: "https://e.com", as_of: "2026-01-01"}]`, "unit"},
		{"zero increment", `ptu_models: [{id: m, family: azure-openai, input_tpm_per_ptu: 1, scales: {global: {min_ptu: 1, increment_ptu: 0}}, source: "https://e.com", as_of: "2026-01-01"}]`, "increment"},
		{"no scales", `ptu_models: [{id: m, family: azure-openai, input_tpm_per_ptu: 1, scales: {}, source: "https://e.com", as_of: "2026-01-01"}]`, "no deployment type"},
		{"future", `ptu_models: [{id: m, family: azure-openai, input_tpm_per_ptu: 1, scales: {global: {min_ptu: 1, increment_ptu: 1}}, source: "https://e.com", as_of: "2027-01-01"}]`, "after today"},
		{"duplicate", `payg_prices: [{model: x, deployment: global, input_per_mtok: 1, output_per_mtok: 1, currency: USD, source: "https://e.com", as_of: "2026-01-01"}, {model: X, deployment: global, input_per_mtok: 2, output_per_mtok: 1, currency: USD, source: "https://e.com", as_of: "2026-01-01"}]`, "duplicate"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := Default()
			o, err := ParseOverlay([]byte(tc.yaml))
			if err == nil {
				err = b.Merge(o, now)
			}
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Fatalf("err = %v, want it to mention %q", err, tc.err)
			}
			// All or nothing.
			if len(b.PAYGPrices()) != len(Default().PAYGPrices()) || len(b.PTUModels()) != len(Default().PTUModels()) {
				t.Error("a failed merge changed the book")
			}
		})
	}
	if o, err := ParseOverlay([]byte("null")); err != nil || !o.Empty() {
		t.Errorf("null section: %+v, %v", o, err)
	}
}

func FuzzParseOverlay(f *testing.F) {
	f.Add([]byte(`payg_prices: [{model: gpt-5.2, deployment: global, input_per_mtok: 1, output_per_mtok: 8, currency: USD, source: "https://e.com", as_of: "2026-01-01"}]`))
	f.Add([]byte(`ptu_models: [{id: m, family: azure-openai, input_tpm_per_ptu: 1e308, output_to_input_weight: 4, scales: {global: {min_ptu: 1, increment_ptu: 1}}, source: "https://e.com", as_of: "2026-01-01"}]`))
	f.Add([]byte(`{"ptu_prices": [{"family": "azure-openai", "deployment": "any", "term": "reserved-1y", "amount": 2652, "unit": "ptu-year", "currency": "USD", "source": "ptu-demo-readme", "as_of": "2026-06-01"}]}`))
	f.Add([]byte("- a\n- b"))
	f.Add([]byte("&a [*a, *a]"))
	f.Fuzz(func(t *testing.T, data []byte) {
		o, err := ParseOverlay(data)
		if err != nil {
			return
		}
		b := Default()
		if err := b.Merge(o, now); err != nil {
			return
		}
		// Whatever merged must size and price without panicking.
		for _, m := range b.PTUModels() {
			for _, d := range DeploymentTypes {
				w := Workload{RPM: 100, InputTokens: 1000, OutputTokens: 100, CacheRate: 0.1}
				v, _ := VolumeFromHours(w, 24)
				_, _ = b.Compare(m.ID, w, d, v)
			}
		}
	})
}
