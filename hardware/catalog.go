package hardware

import (
	"embed"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"sigs.k8s.io/yaml"
)

//go:embed data/*.yaml data/*.csv
var dataFS embed.FS

// SourceRef is an entry of data/sources.yaml: a key that catalog rows cite
// instead of repeating a long URL.
type SourceRef struct {
	Key   string `json:"key"`
	Title string `json:"title"`
	// URL is the public address; Ref is a path inside the project's
	// reference notes when the source has no stable public address.
	URL  string `json:"url,omitempty"`
	Ref  string `json:"ref,omitempty"`
	Tier string `json:"tier"`
}

// Catalog is a set of chips, VM sizes, Container Apps profiles and prices.
// Default returns the embedded one; Merge overlays a user's --catalog file.
// A Catalog is not safe for concurrent mutation; read-only use is.
type Catalog struct {
	gpus     []GPU // as loaded/merged; derived fields are filled on read
	vms      []VMSize
	profiles []ContainerAppsProfile
	prices   []Price // embedded snapshot
	user     []Price // --catalog / SetPrices rows, laid over the cache
	sources  map[string]SourceRef
	// mergeNow bounds overlay dates while Merge runs.
	mergeNow time.Time
}

var (
	defaultOnce sync.Once
	defaultCat  *Catalog
	defaultErr  error
)

// loadEmbedded parses the embedded data files. Tests assert it succeeds, so
// a malformed data file fails the build's tests, not a user's run.
func loadEmbedded() (*Catalog, error) {
	c := &Catalog{sources: map[string]SourceRef{}}
	var refs []SourceRef
	if err := readData("data/sources.yaml", &refs); err != nil {
		return nil, err
	}
	for _, r := range refs {
		c.sources[r.Key] = r
	}
	if err := readData("data/gpus.yaml", &c.gpus); err != nil {
		return nil, err
	}
	if err := readData("data/vms.yaml", &c.vms); err != nil {
		return nil, err
	}
	if err := readData("data/containerapps.yaml", &c.profiles); err != nil {
		return nil, err
	}
	csvBytes, err := dataFS.ReadFile(priceCSV)
	if err != nil {
		return nil, fmt.Errorf("read embedded %s: %w", priceCSV, err)
	}
	if c.prices, err = parsePriceCSV(csvBytes); err != nil {
		return nil, err
	}
	// data/prices.yaml holds later observations of the same prices (and
	// rows the table lacks); they replace the table's rows.
	var later []Price
	if err := readData("data/prices.yaml", &later); err != nil {
		return nil, err
	}
	c.prices = PriceBook{Prices: c.prices}.Overlay(later).Prices
	if err := c.Validate(); err != nil {
		return nil, fmt.Errorf("embedded hardware catalog: %w", err)
	}
	return c, nil
}

func readData(name string, v any) error {
	b, err := dataFS.ReadFile(name)
	if err != nil {
		return fmt.Errorf("read embedded %s: %w", name, err)
	}
	if err := yaml.UnmarshalStrict(b, v); err != nil {
		return fmt.Errorf("parse embedded %s: %w", name, err)
	}
	return nil
}

// Default returns a fresh copy of the embedded catalog. It panics only if
// the embedded data is malformed, which the package tests rule out.
func Default() *Catalog {
	defaultOnce.Do(func() { defaultCat, defaultErr = loadEmbedded() })
	if defaultErr != nil {
		panic(defaultErr)
	}
	return defaultCat.Clone()
}

// Clone returns a deep enough copy that merging into it leaves c unchanged.
func (c *Catalog) Clone() *Catalog {
	out := &Catalog{
		gpus:     make([]GPU, len(c.gpus)),
		vms:      make([]VMSize, len(c.vms)),
		profiles: append([]ContainerAppsProfile(nil), c.profiles...),
		prices:   append([]Price(nil), c.prices...),
		user:     append([]Price(nil), c.user...),
		sources:  make(map[string]SourceRef, len(c.sources)),
	}
	for i, g := range c.gpus {
		out.gpus[i] = cloneGPU(g)
	}
	for i, v := range c.vms {
		v.Aliases = append([]string(nil), v.Aliases...)
		v.Notes = append([]string(nil), v.Notes...)
		out.vms[i] = v
	}
	for k, v := range c.sources {
		out.sources[k] = v
	}
	return out
}

func cloneGPU(g GPU) GPU {
	g.Aliases = append([]string(nil), g.Aliases...)
	g.NativeMath = append([]Math(nil), g.NativeMath...)
	g.Measured = append([]Measurement(nil), g.Measured...)
	g.Notes = append([]string(nil), g.Notes...)
	if g.DenseTFLOPS != nil {
		m := make(map[Math]float64, len(g.DenseTFLOPS))
		for k, v := range g.DenseTFLOPS {
			m[k] = v
		}
		g.DenseTFLOPS = m
	}
	if g.Sources != nil {
		m := make(map[string]string, len(g.Sources))
		for k, v := range g.Sources {
			m[k] = v
		}
		g.Sources = m
	}
	return g
}

// GPUs returns every chip in catalog order, derived fields filled in.
func (c *Catalog) GPUs() []GPU {
	out := make([]GPU, len(c.gpus))
	for i, g := range c.gpus {
		g = cloneGPU(g)
		finishGPU(&g)
		out[i] = g
	}
	return out
}

// LookupGPU resolves a --gpu value: a canonical id or an unambiguous alias,
// case-insensitive. An ambiguous name ("h100") is an error listing choices.
func (c *Catalog) LookupGPU(id string) (GPU, error) {
	return lookupGPU(c.GPUs(), id)
}

// Source returns the entry for a source key, or for a URL that an entry
// names (rows may cite a source by its URL, as the embedded price table
// does, and still get its title and tier).
func (c *Catalog) Source(key string) (SourceRef, bool) {
	if r, ok := c.sources[key]; ok {
		return r, ok
	}
	if strings.HasPrefix(key, "https://") {
		for _, r := range c.sources {
			if r.URL == key {
				return r, true
			}
		}
	}
	return SourceRef{}, false
}

// Sources returns every source entry sorted by key.
func (c *Catalog) Sources() []SourceRef {
	out := make([]SourceRef, 0, len(c.sources))
	for _, r := range c.sources {
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out
}

// checkSource verifies that s cites at least one URL or known key; several
// may be joined with "; ".
func (c *Catalog) checkSource(s string) error {
	s = strings.TrimSpace(s)
	if s == "" {
		return fmt.Errorf("no source (give a URL or a key of data/sources.yaml)")
	}
	for _, part := range strings.Split(s, ";") {
		p := strings.TrimSpace(part)
		if strings.HasPrefix(p, "https://") || strings.HasPrefix(p, "http://") {
			continue
		}
		if _, ok := c.sources[p]; ok {
			continue
		}
		return fmt.Errorf("source %q is neither an http(s) URL nor a known source key", p)
	}
	return nil
}

// GPUs returns the embedded catalog's chips.
func GPUs() []GPU { return Default().GPUs() }

// LookupGPU resolves id in the embedded catalog (see Catalog.LookupGPU).
func LookupGPU(id string) (GPU, error) { return Default().LookupGPU(id) }
