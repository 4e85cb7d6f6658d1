package cost

import (
	"fmt"
	"strings"
	"time"

	"sigs.k8s.io/yaml"
)

// Overlay is the "azure_openai" section of a --catalog file: whole rows
// that add to or replace the embedded ones. A PTU model replaces the one
// with the same id; a PTU price the one with the same family, deployment,
// term and currency; a PAYG price the one with the same model, deployment
// and currency. Every row must carry source (an http(s) URL or a known
// source key) and as_of (YYYY-MM-DD, not in the future).
type Overlay struct {
	PTUModels  []PTUModel  `json:"ptu_models,omitempty"`
	PTUPrices  []PTUPrice  `json:"ptu_prices,omitempty"`
	PAYGPrices []PAYGPrice `json:"payg_prices,omitempty"`
}

// Empty reports whether the overlay has no rows.
func (o Overlay) Empty() bool { return len(o.PTUModels)+len(o.PTUPrices)+len(o.PAYGPrices) == 0 }

// maxOverlayBytes bounds an overlay section: thousands of rows fit in a
// small fraction of it.
const maxOverlayBytes = 8 << 20

// ParseOverlay reads an "azure_openai" section given as JSON or YAML,
// rejecting unknown fields.
func ParseOverlay(b []byte) (Overlay, error) {
	if len(b) > maxOverlayBytes {
		return Overlay{}, fmt.Errorf("azure_openai section is %d bytes, more than the %d allowed", len(b), maxOverlayBytes)
	}
	js, err := yaml.YAMLToJSON(b)
	if err != nil {
		return Overlay{}, fmt.Errorf("azure_openai section: %w", err)
	}
	if s := strings.TrimSpace(string(js)); s == "null" || s == "" {
		return Overlay{}, nil
	}
	var o Overlay
	if err := strictJSON(js, &o); err != nil {
		return Overlay{}, fmt.Errorf("azure_openai section: %w", err)
	}
	return o, nil
}

// Merge applies an overlay, all or nothing: on any error b is unchanged.
// now bounds the as_of dates. Overlay rows citing a URL are labelled as
// user-supplied rather than third-party.
func (b *Book) Merge(o Overlay, now time.Time) error {
	if err := o.checkDuplicates(); err != nil {
		return fmt.Errorf("catalog overlay azure_openai: %w", err)
	}
	next := b.Clone()
	for _, m := range o.PTUModels {
		m.ID = normalizeModel(m.ID)
		m = cloneModel(m)
		replaced := false
		for i := range next.models {
			if next.models[i].ID == m.ID {
				next.models[i], replaced = m, true
			}
		}
		if !replaced {
			next.models = append(next.models, m)
		}
	}
	for _, p := range o.PTUPrices {
		replaced := false
		for i := range next.ptu {
			if ptuPriceKey(next.ptu[i]) == ptuPriceKey(p) {
				next.ptu[i], replaced = p, true
			}
		}
		if !replaced {
			next.ptu = append(next.ptu, p)
		}
	}
	for _, p := range o.PAYGPrices {
		replaced := false
		for i := range next.payg {
			if paygKey(next.payg[i]) == paygKey(p) {
				next.payg[i], replaced = p, true
			}
		}
		if !replaced {
			next.payg = append(next.payg, p)
		}
	}
	if err := next.Validate(); err != nil {
		return fmt.Errorf("catalog overlay azure_openai: %w", err)
	}
	if err := next.CheckDates(now); err != nil {
		return fmt.Errorf("catalog overlay azure_openai: %w", err)
	}
	*b = *next
	return nil
}

// checkDuplicates rejects two overlay rows with the same key: which one
// should win is not knowable.
func (o Overlay) checkDuplicates() error {
	seen := map[string]bool{}
	for i, m := range o.PTUModels {
		k := "ptu_models " + normalizeModel(m.ID)
		if seen[k] {
			return fmt.Errorf("ptu_models[%d]: duplicate id %q", i, m.ID)
		}
		seen[k] = true
	}
	for i, p := range o.PTUPrices {
		k := "ptu_prices " + ptuPriceKey(p)
		if seen[k] {
			return fmt.Errorf("ptu_prices[%d]: duplicate row for %s", i, ptuPriceKey(p))
		}
		seen[k] = true
	}
	for i, p := range o.PAYGPrices {
		k := "payg_prices " + paygKey(p)
		if seen[k] {
			return fmt.Errorf("payg_prices[%d]: duplicate row for %s", i, paygKey(p))
		}
		seen[k] = true
	}
	return nil
}
