package model

import (
	"fmt"
	"sort"
	"strings"

	"github.com/gpuplan/gpuplan/dtype"
)

// normalizeRef lowercases a user reference and strips a Hugging Face URL
// prefix, so "https://huggingface.co/Qwen/Qwen3-8B" finds "Qwen/Qwen3-8B".
func normalizeRef(ref string) string {
	r := strings.ToLower(strings.TrimSpace(ref))
	for _, p := range []string{"https://huggingface.co/", "http://huggingface.co/", "huggingface.co/", "https://hf.co/", "hf.co/"} {
		if strings.HasPrefix(r, p) {
			r = r[len(p):]
			break
		}
	}
	return strings.TrimSuffix(r, "/")
}

// find returns the index of the entry that ref names, or -1. Caller holds
// the read lock.
func (c *Catalog) find(ref string) int {
	r := normalizeRef(ref)
	if i, ok := c.byID[r]; ok {
		return i
	}
	if i, ok := c.byAlias[r]; ok {
		return i
	}
	return -1
}

// Lookup resolves a Hugging Face id (any case, optionally as a
// huggingface.co URL) or an alias to the model's architecture and its
// catalog entry. A quantized variant resolves to its base architecture with
// Spec.Quant set from the entry. Spec.ID, Source and Revision come from the
// entry. An unknown reference gives a *NotFoundError (wrapping
// ErrNotInCatalog) that suggests the closest ids.
func (c *Catalog) Lookup(ref string) (*Spec, *CatalogEntry, error) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	i := c.find(ref)
	if i < 0 {
		return nil, nil, &NotFoundError{Ref: strings.TrimSpace(ref), Suggestions: c.suggest(ref)}
	}
	e := c.entries[i].clone()
	archEntry := &e
	if e.Base != "" {
		j := c.byID[strings.ToLower(e.Base)] // presence checked when the entry was added
		archEntry = &c.entries[j]
	}
	raw := c.configs[archEntry.Config]
	spec, err := ParseConfig(raw)
	if err != nil {
		return nil, nil, fmt.Errorf("catalog entry %s: parse config %s: %w", archEntry.ID, archEntry.Config, err)
	}
	spec.ID, spec.Source, spec.Revision = e.ID, e.Source, e.Revision
	if q := e.Quantization; q != nil {
		quant, err := q.toQuantization()
		if err != nil {
			return nil, nil, fmt.Errorf("catalog entry %s: %w", e.ID, err)
		}
		spec.Quant = quant
	}
	return spec, &e, nil
}

// ConfigBytes returns the raw config.json bytes of an entry (for a quantized
// variant, its base's), exactly as embedded or added.
func (c *Catalog) ConfigBytes(ref string) ([]byte, error) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	i := c.find(ref)
	if i < 0 {
		return nil, &NotFoundError{Ref: strings.TrimSpace(ref), Suggestions: c.suggest(ref)}
	}
	e := &c.entries[i]
	if e.Base != "" {
		e = &c.entries[c.byID[strings.ToLower(e.Base)]]
	}
	return append([]byte(nil), c.configs[e.Config]...), nil
}

func (q *CatalogQuant) precision() (dtype.Precision, error) {
	p, err := dtype.LookupPrecision(q.Precision)
	if err != nil {
		return dtype.Precision{}, fmt.Errorf("quantization.precision: %w", err)
	}
	return p, nil
}

// toQuantization builds the Spec.Quant of a variant from the catalog's
// record: element formats come from the named precision, group size from
// the record or, for group-wise methods whose source did not state it, the
// precision's default (AWQ/GPTQ default to 128, as their configs do).
func (q *CatalogQuant) toQuantization() (*Quantization, error) {
	p, err := q.precision()
	if err != nil {
		return nil, err
	}
	out := &Quantization{
		Method:            dtype.Checkpoint(q.Method),
		Weight:            p.Weight,
		Bits:              int(p.Weight.Bits()),
		GroupSize:         q.GroupSize,
		BlockSize:         append([]int(nil), q.BlockSize...),
		ActivationDynamic: q.ActivationDynamic,
		Format:            q.Format,
		NotConverted:      append([]string(nil), q.NotConverted...),
	}
	if len(out.BlockSize) == 0 {
		out.BlockSize = nil
	}
	if len(out.NotConverted) == 0 {
		out.NotConverted = nil
	}
	if !p.WeightOnly {
		out.Activation = p.Compute
	}
	if out.GroupSize == 0 && (out.Method == dtype.CheckpointAWQ || out.Method == dtype.CheckpointGPTQ) {
		out.GroupSize = p.GroupSize
	}
	return out, nil
}

// Search returns the entries whose id, an alias or the family contains
// query (case-insensitive), sorted by family, then size, then id. An empty
// query returns every entry.
func (c *Catalog) Search(query string) []CatalogEntry {
	q := strings.ToLower(strings.TrimSpace(query))
	c.mu.RLock()
	defer c.mu.RUnlock()
	var out []CatalogEntry
	for _, e := range c.entries {
		if q == "" || entryMatches(&e, q) {
			out = append(out, e.clone())
		}
	}
	c.sortEntries(out)
	return out
}

func entryMatches(e *CatalogEntry, q string) bool {
	if strings.Contains(strings.ToLower(e.ID), q) || strings.Contains(strings.ToLower(e.Family), q) {
		return true
	}
	for _, a := range e.Aliases {
		if strings.Contains(a, q) {
			return true
		}
	}
	return false
}

// Entries returns every entry, in the order of Search("").
func (c *Catalog) Entries() []CatalogEntry { return c.Search("") }

// sortEntries orders by family, then headline size (a variant sorts with
// its base), then id. Caller holds the read lock.
func (c *Catalog) sortEntries(es []CatalogEntry) {
	size := func(e *CatalogEntry) float64 {
		card := e.CardParams
		if card == "" && e.Base != "" {
			if j, ok := c.byID[strings.ToLower(e.Base)]; ok {
				card = c.entries[j].CardParams
			}
		}
		total, _, err := parseCardParams(card)
		if err != nil {
			return 0
		}
		return total
	}
	sort.SliceStable(es, func(i, j int) bool {
		a, b := &es[i], &es[j]
		if a.Family != b.Family {
			return a.Family < b.Family
		}
		if sa, sb := size(a), size(b); sa != sb {
			return sa < sb
		}
		return strings.ToLower(a.ID) < strings.ToLower(b.ID)
	})
}
