package hardware

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"
)

// Overlay is the hardware part of a --catalog file. Each entry is a JSON
// object in the schema of the embedded data (docs/hardware.md): a GPU entry
// names its chip by "id", a VM size by "name", a Container Apps profile by
// "type". An entry for something the catalog knows changes only the fields
// it gives (JSON merge patch, RFC 7386: nested objects such as dense_tflops
// merge key by key, null deletes a value and makes it unknown); an entry
// for something new adds it. Price entries are whole rows keyed by VM,
// region, kind and currency. Every entry must carry "source" (a URL or a
// source key) and "as_of" (YYYY-MM-DD).
type Overlay struct {
	GPUs                  []json.RawMessage `json:"gpus,omitempty"`
	VMSizes               []json.RawMessage `json:"vm_sizes,omitempty"`
	ContainerAppsProfiles []json.RawMessage `json:"container_apps_profiles,omitempty"`
	Prices                []json.RawMessage `json:"prices,omitempty"`
}

// Empty reports whether the overlay has no hardware entries.
func (o Overlay) Empty() bool {
	return len(o.GPUs)+len(o.VMSizes)+len(o.ContainerAppsProfiles)+len(o.Prices) == 0
}

// overlayMeta is what every overlay entry must carry.
type overlayMeta struct {
	Source string `json:"source"`
	AsOf   Date   `json:"as_of"`
}

// Merge applies an overlay. It is all or nothing: on any error the catalog
// is unchanged. now bounds as_of dates (an observation cannot be dated in
// the future).
func (c *Catalog) Merge(o Overlay, now time.Time) error {
	next := c.Clone()
	next.mergeNow = now
	for i, raw := range o.GPUs {
		if err := next.mergeGPU(raw); err != nil {
			return fmt.Errorf("catalog overlay gpus[%d]: %w", i, err)
		}
	}
	for i, raw := range o.VMSizes {
		if err := next.mergeVM(raw); err != nil {
			return fmt.Errorf("catalog overlay vm_sizes[%d]: %w", i, err)
		}
	}
	for i, raw := range o.ContainerAppsProfiles {
		if err := next.mergeProfile(raw); err != nil {
			return fmt.Errorf("catalog overlay container_apps_profiles[%d]: %w", i, err)
		}
	}
	var rows []Price
	for i, raw := range o.Prices {
		p, err := next.decodeOverlayPrice(raw)
		if err != nil {
			return fmt.Errorf("catalog overlay prices[%d]: %w", i, err)
		}
		rows = append(rows, p)
	}
	next.user = PriceBook{Prices: next.user}.Overlay(rows).Prices
	if err := next.Validate(); err != nil {
		return fmt.Errorf("catalog overlay: %w", err)
	}
	if err := next.CheckDates(now); err != nil {
		return fmt.Errorf("catalog overlay: %w", err)
	}
	next.mergeNow = time.Time{}
	*c = *next
	return nil
}

// decodeObject reads a JSON object keeping numbers exact.
func decodeObject(raw []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("not a JSON object: %w", err)
	}
	if m == nil {
		return nil, fmt.Errorf("entry is null; give an object")
	}
	return m, nil
}

// mergePatch applies an RFC 7386 merge patch.
func mergePatch(base, patch any) any {
	pm, ok := patch.(map[string]any)
	if !ok {
		return patch
	}
	bm, _ := base.(map[string]any)
	out := make(map[string]any, len(bm)+len(pm))
	for k, v := range bm {
		out[k] = v
	}
	for k, v := range pm {
		if v == nil {
			delete(out, k)
			continue
		}
		out[k] = mergePatch(out[k], v)
	}
	return out
}

// readMeta extracts and checks source/as_of of an entry.
func (c *Catalog) readMeta(m map[string]any) (overlayMeta, error) {
	b, _ := json.Marshal(map[string]any{"source": m["source"], "as_of": m["as_of"]})
	var meta overlayMeta
	if err := json.Unmarshal(b, &meta); err != nil {
		return meta, fmt.Errorf("source/as_of: %w", err)
	}
	if strings.TrimSpace(meta.Source) == "" {
		return meta, fmt.Errorf("every overlay entry needs \"source\" (a URL or a source key)")
	}
	if err := c.checkSource(meta.Source); err != nil {
		return meta, err
	}
	if meta.AsOf.IsZero() {
		return meta, fmt.Errorf("every overlay entry needs \"as_of\" (YYYY-MM-DD, the day the figures were observed)")
	}
	if !c.mergeNow.IsZero() && meta.AsOf.After(DateOf(c.mergeNow)) {
		return meta, fmt.Errorf("as_of %s is after today (%s): date an entry by when its figures were observed", meta.AsOf, DateOf(c.mergeNow))
	}
	return meta, nil
}

// changedFields lists the top-level keys an entry sets, minus bookkeeping.
func changedFields(m map[string]any, skip ...string) []string {
	var out []string
outer:
	for k := range m {
		for _, s := range skip {
			if k == s {
				continue outer
			}
		}
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func overrideNote(fields []string, meta overlayMeta) string {
	return fmt.Sprintf("--catalog overrode %s (source %s, as of %s)", strings.Join(fields, ", "), meta.Source, meta.AsOf)
}

func (c *Catalog) mergeGPU(raw json.RawMessage) error {
	m, err := decodeObject(raw)
	if err != nil {
		return err
	}
	id, _ := m["id"].(string)
	if strings.TrimSpace(id) == "" {
		return fmt.Errorf("GPU entry without \"id\"")
	}
	meta, err := c.readMeta(m)
	if err != nil {
		return fmt.Errorf("GPU %q: %w", id, err)
	}
	idx := -1
	if g, err := lookupGPU(c.gpus, id); err == nil {
		for i := range c.gpus {
			if c.gpus[i].ID == g.ID {
				idx = i
			}
		}
	}
	if idx < 0 {
		var g GPU
		if err := strictUnmarshal(raw, &g); err != nil {
			return fmt.Errorf("new GPU %q: %w", id, err)
		}
		g.ID = normalizeID(g.ID)
		c.gpus = append(c.gpus, g)
		return nil
	}
	base := c.gpus[idx]
	m["id"] = base.ID // an alias names the existing chip
	fields := changedFields(m, "id", "source", "as_of", "sources", "notes")
	delete(m, "source")
	delete(m, "as_of")
	merged, err := patchInto(base, m)
	if err != nil {
		return fmt.Errorf("GPU %q: %w", id, err)
	}
	var g GPU
	if err := strictUnmarshal(merged, &g); err != nil {
		return fmt.Errorf("GPU %q: %w", id, err)
	}
	if g.Sources == nil {
		g.Sources = map[string]string{}
	}
	for _, f := range fields {
		g.Sources[f] = meta.Source
	}
	if len(fields) > 0 {
		g.Notes = append(g.Notes, overrideNote(fields, meta))
	}
	c.gpus[idx] = g
	return nil
}

// patchInto marshals base, applies patch m and returns the merged JSON.
func patchInto(base any, m map[string]any) ([]byte, error) {
	b, err := json.Marshal(base)
	if err != nil {
		return nil, err
	}
	bm, err := decodeObject(b)
	if err != nil {
		return nil, err
	}
	return json.Marshal(mergePatch(bm, m))
}

func (c *Catalog) mergeVM(raw json.RawMessage) error {
	m, err := decodeObject(raw)
	if err != nil {
		return err
	}
	name, _ := m["name"].(string)
	if strings.TrimSpace(name) == "" {
		return fmt.Errorf("VM size entry without \"name\"")
	}
	meta, err := c.readMeta(m)
	if err != nil {
		return fmt.Errorf("VM size %q: %w", name, err)
	}
	idx := -1
	for i, v := range c.vms {
		if _, err := lookupVM([]VMSize{v}, name); err == nil {
			idx = i
		}
	}
	if idx < 0 {
		var v VMSize
		if err := strictUnmarshal(raw, &v); err != nil {
			return fmt.Errorf("new VM size %q: %w", name, err)
		}
		defaultAvailability(&v)
		c.vms = append(c.vms, v)
		return nil
	}
	base := c.vms[idx]
	m["name"] = base.Name
	fields := changedFields(m, "name", "source", "as_of", "notes")
	delete(m, "source")
	delete(m, "as_of")
	merged, err := patchInto(base, m)
	if err != nil {
		return fmt.Errorf("VM size %q: %w", name, err)
	}
	var v VMSize
	if err := strictUnmarshal(merged, &v); err != nil {
		return fmt.Errorf("VM size %q: %w", name, err)
	}
	if len(fields) > 0 {
		v.Source = joinSource(v.Source, meta.Source)
		v.Notes = append(v.Notes, overrideNote(fields, meta))
	}
	c.vms[idx] = v
	return nil
}

// defaultAvailability marks unset yes/no facts of a new entry unknown and
// its status unknown, rather than rejecting the entry for leaving them out.
func defaultAvailability(v *VMSize) {
	for _, a := range []*Availability{&v.AKS, &v.KAITO, &v.ContainerApps} {
		if *a == "" {
			*a = Unknown
		}
	}
	if v.Status == "" {
		v.Status = StatusUnknown
	}
}

func joinSource(a, b string) string {
	for _, p := range strings.Split(a, ";") {
		if strings.TrimSpace(p) == b {
			return a
		}
	}
	return a + "; " + b
}

func (c *Catalog) mergeProfile(raw json.RawMessage) error {
	m, err := decodeObject(raw)
	if err != nil {
		return err
	}
	typ, _ := m["type"].(string)
	if strings.TrimSpace(typ) == "" {
		return fmt.Errorf("a Container Apps profile entry lacks \"type\"")
	}
	meta, err := c.readMeta(m)
	if err != nil {
		return fmt.Errorf("profile %q: %w", typ, err)
	}
	idx := -1
	for i, p := range c.profiles {
		if strings.EqualFold(p.Type, typ) {
			idx = i
		}
	}
	if idx < 0 {
		var p ContainerAppsProfile
		if err := strictUnmarshal(raw, &p); err != nil {
			return fmt.Errorf("new profile %q: %w", typ, err)
		}
		c.profiles = append(c.profiles, p)
		return nil
	}
	base := c.profiles[idx]
	m["type"] = base.Type
	fields := changedFields(m, "type", "source", "as_of", "notes")
	delete(m, "source")
	delete(m, "as_of")
	merged, err := patchInto(base, m)
	if err != nil {
		return fmt.Errorf("profile %q: %w", typ, err)
	}
	var p ContainerAppsProfile
	if err := strictUnmarshal(merged, &p); err != nil {
		return fmt.Errorf("profile %q: %w", typ, err)
	}
	if len(fields) > 0 {
		p.Source = joinSource(p.Source, meta.Source)
		p.Notes = append(p.Notes, overrideNote(fields, meta))
	}
	c.profiles[idx] = p
	return nil
}

func (c *Catalog) decodeOverlayPrice(raw json.RawMessage) (Price, error) {
	m, err := decodeObject(raw)
	if err != nil {
		return Price{}, err
	}
	if _, err := c.readMeta(m); err != nil {
		return Price{}, err
	}
	var p Price
	if err := strictUnmarshal(raw, &p); err != nil {
		return Price{}, err
	}
	if p.Currency == "" {
		p.Currency = "USD"
	}
	p.Currency = strings.ToUpper(p.Currency)
	if !isCurrencyCode(p.Currency) {
		return Price{}, fmt.Errorf("currency %q is not an ISO 4217 code such as USD", p.Currency)
	}
	r, err := NormalizeRegion(p.Region)
	if err != nil {
		return Price{}, err
	}
	p.Region = r
	v, err := lookupVM(c.vms, p.VM)
	if err != nil {
		return Price{}, err
	}
	p.VM = v.Name
	if err := checkPrice(p); err != nil {
		return Price{}, err
	}
	return p, nil
}
