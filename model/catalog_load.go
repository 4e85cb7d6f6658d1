package model

import (
	"bytes"
	"crypto/sha1"
	"embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"strings"
	"sync"
	"time"
)

// The embedded catalog: an index (data/catalog.json, schema in
// docs/catalog-models.md) and the config.json files it points at
// (data/configs/). Each entry says what kind of file it is (ConfigKind):
// a verbatim copy of the vendor's bytes, a transcription of the vendor's
// file from a Hugging Face page, or a reconstruction from cited values.
// Where each came from is recorded per entry; verbatim bytes are never
// edited.
//
//go:embed data/catalog.json data/configs/*.json
var catalogFS embed.FS

const (
	catalogIndexPath = "data/catalog.json"
	catalogConfigDir = "data/configs"
	// catalogSchemaVersion is the index format this code reads.
	catalogSchemaVersion = 1
	// catalogDateLayout is the format of as_of dates (ISO 8601 calendar
	// date).
	catalogDateLayout = "2006-01-02"
	// catalogMaxRef bounds the reference strings Lookup compares by edit
	// distance, so a hostile argument cannot cost quadratic time.
	catalogMaxRef = 200
	// catalogMaxSuggestions is how many close ids a not-found error names.
	catalogMaxSuggestions = 5
)

var (
	embeddedOnce    sync.Once
	embeddedCatalog *Catalog
	embeddedErr     error
)

// EmbeddedCatalog returns the catalog built into the binary. The index is
// parsed once; each call returns an independent copy, so Add on one does not
// affect others. An error means the embedded data is broken (a build
// defect, caught by the package tests).
func EmbeddedCatalog() (*Catalog, error) {
	embeddedOnce.Do(func() {
		embeddedCatalog, embeddedErr = loadEmbeddedCatalog()
	})
	if embeddedErr != nil {
		return nil, embeddedErr
	}
	return embeddedCatalog.clone(), nil
}

func loadEmbeddedCatalog() (*Catalog, error) {
	raw, err := catalogFS.ReadFile(catalogIndexPath)
	if err != nil {
		return nil, fmt.Errorf("embedded model catalog: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	var idx catalogIndex
	if err := dec.Decode(&idx); err != nil {
		return nil, fmt.Errorf("embedded model catalog %s: %w", catalogIndexPath, err)
	}
	if idx.SchemaVersion != catalogSchemaVersion {
		return nil, fmt.Errorf("embedded model catalog %s: schema_version %d, want %d", catalogIndexPath, idx.SchemaVersion, catalogSchemaVersion)
	}
	c := &Catalog{byID: map[string]int{}, byAlias: map[string]int{}, configs: map[string][]byte{}}
	files, err := catalogFS.ReadDir(catalogConfigDir)
	if err != nil {
		return nil, fmt.Errorf("embedded model catalog: %w", err)
	}
	for _, f := range files {
		b, err := catalogFS.ReadFile(path.Join(catalogConfigDir, f.Name()))
		if err != nil {
			return nil, fmt.Errorf("embedded model catalog: %w", err)
		}
		c.configs[f.Name()] = b
	}
	for _, e := range idx.Models {
		if err := c.insert(e); err != nil {
			return nil, fmt.Errorf("embedded model catalog: %w", err)
		}
	}
	// Bases are checked after every entry is in, so order does not matter.
	for i := range c.entries {
		if err := c.checkRefs(&c.entries[i]); err != nil {
			return nil, fmt.Errorf("embedded model catalog: %w", err)
		}
	}
	return c, nil
}

func (c *Catalog) clone() *Catalog {
	c.mu.RLock()
	defer c.mu.RUnlock()
	n := &Catalog{
		entries: make([]CatalogEntry, len(c.entries)),
		byID:    make(map[string]int, len(c.byID)),
		byAlias: make(map[string]int, len(c.byAlias)),
		configs: make(map[string][]byte, len(c.configs)),
	}
	for i, e := range c.entries {
		n.entries[i] = e.clone()
	}
	for k, v := range c.byID {
		n.byID[k] = v
	}
	for k, v := range c.byAlias {
		n.byAlias[k] = v
	}
	for k, v := range c.configs {
		n.configs[k] = v // config bytes are never modified in place
	}
	return n
}

// clone deep-copies the entry's slices and pointers.
func (e CatalogEntry) clone() CatalogEntry {
	e.Aliases = append([]string(nil), e.Aliases...)
	if e.ConfigCopy != nil {
		cc := *e.ConfigCopy
		e.ConfigCopy = &cc
	}
	if e.ConfigFieldsSource != nil {
		fs := make([]FieldSource, len(e.ConfigFieldsSource))
		for i, f := range e.ConfigFieldsSource {
			f.Keys = append([]string(nil), f.Keys...)
			fs[i] = f
		}
		e.ConfigFieldsSource = fs
	}
	if e.PublishedCount != nil {
		pc := *e.PublishedCount
		e.PublishedCount = &pc
	}
	if e.Quantization != nil {
		q := *e.Quantization
		q.BlockSize = append([]int(nil), q.BlockSize...)
		q.NotConverted = append([]string(nil), q.NotConverted...)
		if q.ConfigCopy != nil {
			cc := *q.ConfigCopy
			q.ConfigCopy = &cc
		}
		e.Quantization = &q
	}
	return e
}

// validateEntry checks one entry on its own: required fields, date format,
// alias spelling, quantization names.
func validateEntry(e *CatalogEntry) error {
	if strings.TrimSpace(e.ID) == "" {
		return errors.New("an entry has no id")
	}
	if strings.TrimSpace(e.ID) != e.ID || strings.ContainsAny(e.ID, " \t\n") {
		return fmt.Errorf("entry %q: the id contains spaces", e.ID)
	}
	if e.Source == "" {
		return fmt.Errorf("entry %s: source is required (the URL of its config.json or model card)", e.ID)
	}
	if _, err := time.Parse(catalogDateLayout, e.AsOf); err != nil {
		return fmt.Errorf("entry %s: as_of %q is not a YYYY-MM-DD date", e.ID, e.AsOf)
	}
	for _, a := range e.Aliases {
		if a == "" || a != strings.ToLower(strings.TrimSpace(a)) {
			return fmt.Errorf("entry %s: alias %q must be non-empty lowercase without surrounding spaces", e.ID, a)
		}
	}
	switch e.ConfigKind {
	case "", ConfigVerbatim, ConfigTranscribed, ConfigReconstructed:
	default:
		return fmt.Errorf("entry %s: config_kind %q must be %q, %q or %q", e.ID, e.ConfigKind, ConfigVerbatim, ConfigTranscribed, ConfigReconstructed)
	}
	switch e.CardStatus {
	case "", CardVerified, CardUnverified:
	default:
		return fmt.Errorf("entry %s: card_status %q must be %q or %q", e.ID, e.CardStatus, CardVerified, CardUnverified)
	}
	if e.ConfigKind == ConfigReconstructed && (len(e.ConfigFieldsSource) == 0 || e.PublishedCount == nil) {
		return fmt.Errorf("entry %s: a reconstructed config needs config_fields_source and published_count", e.ID)
	}
	if pc := e.PublishedCount; pc != nil {
		if _, _, _, err := pc.figures(); err != nil {
			return fmt.Errorf("entry %s: %w", e.ID, err)
		}
	}
	switch {
	case e.Base != "" && e.Quantization == nil:
		return fmt.Errorf("entry %s: base %s is set without quantization", e.ID, e.Base)
	case e.Base == "" && e.Quantization != nil:
		return fmt.Errorf("entry %s: quantization is set without a base entry", e.ID)
	case e.Base == "" && e.Config == "":
		return fmt.Errorf("entry %s: needs a config (architecture) or a base and quantization (variant)", e.ID)
	case e.Base != "" && e.Config != "":
		return fmt.Errorf("entry %s: a quantized variant takes its architecture from base %s and must not name a config", e.ID, e.Base)
	}
	if q := e.Quantization; q != nil {
		if _, err := q.precision(); err != nil {
			return fmt.Errorf("entry %s: %w", e.ID, err)
		}
		if q.Method == "" {
			return fmt.Errorf("entry %s: quantization.method is required", e.ID)
		}
		if q.Source == "" {
			return fmt.Errorf("entry %s: quantization.source is required", e.ID)
		}
		if q.GroupSize < 0 {
			return fmt.Errorf("entry %s: quantization.group_size %d is negative", e.ID, q.GroupSize)
		}
	}
	return nil
}

// insert adds a new entry, checking id and alias uniqueness and that its
// config files exist. Caller holds the lock (or owns c exclusively).
func (c *Catalog) insert(e CatalogEntry) error {
	if err := validateEntry(&e); err != nil {
		return err
	}
	key := strings.ToLower(e.ID)
	if _, dup := c.byID[key]; dup {
		return fmt.Errorf("entry %s appears twice", e.ID)
	}
	if _, clash := c.byAlias[key]; clash {
		return fmt.Errorf("entry %s: its id is already another entry's alias", e.ID)
	}
	i := len(c.entries)
	if err := c.checkAliases(e, i); err != nil {
		return err
	}
	if err := c.checkFiles(&e); err != nil {
		return err
	}
	c.entries = append(c.entries, e.clone())
	c.byID[key] = i
	for _, a := range e.Aliases {
		c.byAlias[a] = i
	}
	return nil
}

// checkAliases reports aliases of e (to be stored at index self) that are
// taken by another entry's id or alias, or repeated within e.
func (c *Catalog) checkAliases(e CatalogEntry, self int) error {
	seen := map[string]bool{}
	for _, a := range e.Aliases {
		if seen[a] {
			return fmt.Errorf("entry %s lists alias %q twice", e.ID, a)
		}
		seen[a] = true
		if j, ok := c.byAlias[a]; ok && j != self {
			return fmt.Errorf("alias %q of %s is already an alias of %s", a, e.ID, c.entries[j].ID)
		}
		if j, ok := c.byID[a]; ok && j != self {
			return fmt.Errorf("alias %q of %s is the id of another entry", a, e.ID)
		}
	}
	return nil
}

// checkFiles verifies that the config files the entry names are present.
func (c *Catalog) checkFiles(e *CatalogEntry) error {
	if e.Config != "" {
		if _, ok := c.configs[e.Config]; !ok {
			return fmt.Errorf("entry %s: config file %s is missing", e.ID, e.Config)
		}
	}
	if q := e.Quantization; q != nil && q.Config != "" {
		if _, ok := c.configs[q.Config]; !ok {
			return fmt.Errorf("entry %s: quantization config file %s is missing", e.ID, q.Config)
		}
	}
	return nil
}

// checkRefs verifies that a variant's base exists and is an architecture
// entry, and that a shared config names an existing entry.
func (c *Catalog) checkRefs(e *CatalogEntry) error {
	if e.Base != "" {
		j, ok := c.byID[strings.ToLower(e.Base)]
		if !ok {
			return fmt.Errorf("entry %s: base %s is not in the catalog", e.ID, e.Base)
		}
		if c.entries[j].Base != "" {
			return fmt.Errorf("entry %s: base %s is itself a quantized variant", e.ID, e.Base)
		}
	}
	if e.ConfigSharedWith != "" {
		if _, ok := c.byID[strings.ToLower(e.ConfigSharedWith)]; !ok {
			return fmt.Errorf("entry %s: config_shared_with %s is not in the catalog", e.ID, e.ConfigSharedWith)
		}
	}
	return nil
}

// gitBlobSHA1 is the id git gives a file's content (git hash-object): SHA-1
// over "blob <size>\x00" followed by the bytes.
func gitBlobSHA1(b []byte) string {
	h := sha1.New()
	fmt.Fprintf(h, "blob %d\x00", len(b))
	h.Write(b)
	return hex.EncodeToString(h.Sum(nil))
}
