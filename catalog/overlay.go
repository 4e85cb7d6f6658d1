// Package catalog reads the --catalog overlay file: one JSON or YAML
// document that adds or overrides models, GPUs, VM sizes, Container Apps
// profiles and prices by canonical id, field by field, each entry carrying
// its source and date (schema: docs/catalog.md). It applies the file to
// the model and hardware catalogs; neither of those knows about the other.
package catalog

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/gpuplan/gpuplan/boundedfile"
	"github.com/gpuplan/gpuplan/cost"
	"github.com/gpuplan/gpuplan/hardware"
	"github.com/gpuplan/gpuplan/model"
)

// SchemaVersion is the overlay format this package reads.
const SchemaVersion = 1

// maxOverlayBytes bounds an overlay file (and each referenced config): a
// catalog overlay is text written by a person or a script, a few KiB.
const maxOverlayBytes = 8 << 20

// File is a parsed overlay.
type File struct {
	SchemaVersion int     `json:"schema_version"`
	Models        []Model `json:"models,omitempty"`
	hardware.Overlay
	// AzureOpenAI is the Azure OpenAI PTU/PAYG section (schema:
	// docs/cost.md), parsed by the cost package.
	AzureOpenAI json.RawMessage `json:"azure_openai,omitempty"`
	// CPUHosts are machines measured by `gpuplan probe` (CPU targets that
	// are not Azure sizes; --vm NAME selects one).
	CPUHosts []hardware.CPUHost `json:"cpu_hosts,omitempty"`
	// dir is the overlay file's directory, for relative config paths.
	dir string
}

// Model is a model entry: the catalog index fields (docs/catalog-models.md)
// plus the config itself, inline or as a path relative to the overlay file.
// An entry whose id the catalog knows overrides it field by field; a config
// is required for a new architecture (not for a quantized variant naming a
// base).
type Model struct {
	model.CatalogEntry
	// ConfigJSON is the model's config.json inline.
	ConfigJSON json.RawMessage `json:"config_json,omitempty"`
	// ConfigPath is a config.json file, relative to the overlay file.
	ConfigPath string `json:"config_path,omitempty"`
}

// Load reads an overlay file (JSON, or YAML when the name ends in .yaml or
// .yml or the content is not JSON).
func Load(path string) (File, error) {
	f, err := os.Open(path)
	if err != nil {
		return File{}, fmt.Errorf("read catalog overlay: %w", err)
	}
	defer f.Close()
	file, err := Parse(f, path)
	if err != nil {
		return File{}, err
	}
	file.dir = filepath.Dir(path)
	return file, nil
}

// Parse reads an overlay from r; name appears in errors. Unknown top-level
// keys are errors, so a typo does not silently drop an override.
func Parse(r io.Reader, name string) (File, error) {
	b, err := io.ReadAll(io.LimitReader(r, maxOverlayBytes+1))
	if err != nil {
		return File{}, fmt.Errorf("read catalog overlay %s: %w", name, err)
	}
	if len(b) > maxOverlayBytes {
		return File{}, fmt.Errorf("catalog overlay %s is larger than %d MiB", name, maxOverlayBytes>>20)
	}
	trimmed := bytes.TrimSpace(b)
	if len(trimmed) == 0 {
		return File{}, fmt.Errorf("catalog overlay %s is empty", name)
	}
	if trimmed[0] != '{' {
		j, err := yaml.YAMLToJSON(b)
		if err != nil {
			return File{}, fmt.Errorf("parse catalog overlay %s as YAML: %w", name, err)
		}
		b = j
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(b, &top); err != nil {
		return File{}, fmt.Errorf("parse catalog overlay %s: %w", name, err)
	}
	known := map[string]bool{"schema_version": true, "models": true, "gpus": true, "vm_sizes": true, "container_apps_profiles": true, "prices": true, "azure_openai": true, "cpu_hosts": true}
	for k := range top {
		if !known[k] {
			return File{}, fmt.Errorf("catalog overlay %s: unknown key %q (known: schema_version, models, gpus, vm_sizes, container_apps_profiles, prices, azure_openai, cpu_hosts)", name, k)
		}
	}
	var f File
	if err := json.Unmarshal(b, &f); err != nil {
		return File{}, fmt.Errorf("parse catalog overlay %s: %w", name, err)
	}
	if f.SchemaVersion != SchemaVersion {
		return File{}, fmt.Errorf("catalog overlay %s: schema_version must be %d (got %d); see docs/catalog.md", name, SchemaVersion, f.SchemaVersion)
	}
	for _, h := range f.CPUHosts {
		if err := h.Validate(); err != nil {
			return File{}, fmt.Errorf("catalog overlay %s: %w", name, err)
		}
	}
	for i, m := range f.Models {
		if strings.TrimSpace(m.ID) == "" {
			return File{}, fmt.Errorf("catalog overlay %s: models[%d] has no id", name, i)
		}
		if len(m.ConfigJSON) > 0 && m.ConfigPath != "" {
			return File{}, fmt.Errorf("catalog overlay %s: model %s gives both config_json and config_path; keep one", name, m.ID)
		}
	}
	return f, nil
}

// Catalogs are the three data sets an overlay can change.
type Catalogs struct {
	Models   *model.Catalog
	Hardware *hardware.Catalog
	Costs    *cost.Book
}

// Apply adds the overlay to the catalogs and returns the result. The
// hardware and cost catalogs are cloned (their defaults are shared); the
// model catalog is modified in place, so pass a fresh
// model.EmbeddedCatalog() (each call returns an independent copy). On
// error the caller must not use the result.
func (f File) Apply(c Catalogs, now time.Time) (Catalogs, error) {
	var errs []error
	next := Catalogs{Models: c.Models, Hardware: c.Hardware.Clone(), Costs: c.Costs}
	if !f.Overlay.Empty() {
		if err := next.Hardware.Merge(f.Overlay, now); err != nil {
			errs = append(errs, err)
		}
	}
	if len(f.AzureOpenAI) > 0 {
		o, err := cost.ParseOverlay(f.AzureOpenAI)
		if err != nil {
			errs = append(errs, fmt.Errorf("catalog overlay: %w", err))
		} else {
			book := c.Costs.Clone()
			if err := book.Merge(o, now); err != nil {
				errs = append(errs, err)
			}
			next.Costs = book
		}
	}
	for _, m := range f.Models {
		cfg, err := f.config(m)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if err := checkDate(m.AsOf, now); err != nil {
			errs = append(errs, fmt.Errorf("catalog overlay model %s: %w", m.ID, err))
			continue
		}
		if err := next.Models.Add(m.CatalogEntry, cfg); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return Catalogs{}, err
	}
	return next, nil
}

func (f File) config(m Model) ([]byte, error) {
	switch {
	case len(m.ConfigJSON) > 0:
		return []byte(m.ConfigJSON), nil
	case m.ConfigPath != "":
		p := m.ConfigPath
		if !filepath.IsAbs(p) {
			p = filepath.Join(f.dir, p)
		}
		b, err := boundedfile.ReadFile(p, maxOverlayBytes)
		switch {
		case errors.Is(err, boundedfile.ErrTooLarge):
			return nil, fmt.Errorf("catalog overlay model %s: %s is too large to be a config.json", m.ID, p)
		case err != nil:
			return nil, fmt.Errorf("catalog overlay model %s: config_path: %w", m.ID, err)
		}
		return b, nil
	}
	return nil, nil
}

// checkDate refuses dates in the future: an as_of is when a fact was
// observed.
func checkDate(asOf string, now time.Time) error {
	d, err := time.Parse("2006-01-02", asOf)
	if err != nil {
		return fmt.Errorf("as_of %q must be a YYYY-MM-DD date", asOf)
	}
	if !now.IsZero() && d.After(now) {
		return fmt.Errorf("as_of %s is in the future", asOf)
	}
	return nil
}
