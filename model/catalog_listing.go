package model

import (
	"fmt"

	"github.com/gpuplan/gpuplan/dtype"
)

// CatalogListing is what `gpuplan models` prints with -o json or -o yaml,
// and what the API's /api/v1/models answers.
type CatalogListing struct {
	Models []CatalogListingRow `json:"models"`
}

// CatalogListingRow is one catalog model as `models` prints it: the entry's sourced
// facts plus the figures computed from its config.
type CatalogListingRow struct {
	ID           string   `json:"id"`
	Aliases      []string `json:"aliases,omitempty"`
	Family       string   `json:"family,omitempty"`
	Architecture string   `json:"architecture,omitempty"`
	Base         string   `json:"base,omitempty"`
	Quantization string   `json:"quantization,omitempty"`
	// ConfigKind is how the config was obtained (verbatim, transcribed,
	// reconstructed; a variant shows its base's), so reconstructed shapes
	// are never mistaken for the vendor's file.
	ConfigKind       string `json:"config_kind,omitempty"`
	ParamsTotal      int64  `json:"params_total"`
	ParamsActive     int64  `json:"params_active"`
	CardParams       string `json:"card_params,omitempty"`
	MaxContextTokens int    `json:"max_context_tokens"`
	KVBytesPerToken  int64  `json:"kv_bytes_per_token"`
	Source           string `json:"source"`
	AsOf             string `json:"as_of"`
}

// Listing describes the catalog entries matching query (Search's rules),
// with parameter counts and KV bytes per token computed from each model's
// config.
func (c *Catalog) Listing(query string) (CatalogListing, error) {
	entries := c.Search(query)
	rows := make([]CatalogListingRow, 0, len(entries))
	for _, e := range entries {
		spec, _, err := c.Lookup(e.ID)
		if err != nil {
			return CatalogListing{}, fmt.Errorf("catalog entry %s: %w", e.ID, err)
		}
		p := spec.Params()
		r := CatalogListingRow{
			ID: e.ID, Aliases: e.Aliases, Family: e.Family, Architecture: spec.Architecture, Base: e.Base,
			ParamsTotal: p.Total, ParamsActive: p.Active, CardParams: e.CardParams,
			MaxContextTokens: spec.MaxPositionEmbeddings,
			KVBytesPerToken:  int64(spec.KVBytesPerToken(dtype.KVAuto)),
			Source:           e.Source, AsOf: e.AsOf,
		}
		switch {
		case e.Quantization != nil:
			r.Quantization = e.Quantization.Precision + " (" + e.Quantization.Method + ")"
		case spec.Quant != nil:
			// A release that ships quantized (DeepSeek-V3's FP8
			// blocks, gpt-oss's MXFP4) says so in its own config.
			r.Quantization = string(spec.Quant.Method)
			if w := string(spec.Quant.Weight); w != "" && w != r.Quantization {
				r.Quantization = w + " (" + r.Quantization + ")"
			}
		}
		r.ConfigKind = e.ConfigKind
		if e.Base != "" {
			if _, base, err := c.Lookup(e.Base); err == nil {
				r.ConfigKind = base.ConfigKind
			}
		}
		rows = append(rows, r)
	}
	return CatalogListing{Models: rows}, nil
}
