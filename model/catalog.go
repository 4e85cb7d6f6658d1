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
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gpuplan/gpuplan/dtype"
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

// Values of CatalogEntry.ConfigKind: how the entry's config.json bytes were
// obtained. The kind decides what the package tests check (see
// docs/catalog-models.md).
const (
	// ConfigVerbatim: the vendor's config.json bytes, copied unchanged from a
	// public repository (git blob id recorded in ConfigSHA1).
	ConfigVerbatim = "verbatim"
	// ConfigTranscribed: every key and value read from a Hugging Face page
	// that shows the vendor's config.json (the vendor repository or an exact
	// duplicate of it); whitespace restored in transformers' own format
	// (2-space indent) and the length checked against the size the page
	// states.
	ConfigTranscribed = "transcribed"
	// ConfigReconstructed: assembled from values that cited public sources
	// state, with the rest left to the transformers config class's
	// defaults; ConfigFieldsSource says where every key came from and
	// PublishedCount ties the result to a published parameter count.
	ConfigReconstructed = "reconstructed"
)

// Values of CatalogEntry.CardStatus.
const (
	// CardVerified: CardParams was read at CardSource while building the
	// catalog.
	CardVerified = "verified"
	// CardUnverified: CardParams was not re-read from a page; the parameter
	// test (computed count vs. card figure) is its only check.
	CardUnverified = "unverified"
)

// CatalogEntry is one model of the catalog: either an architecture with its
// own config.json copy (Config set), or a quantized variant that resolves to
// a base entry's architecture plus its real quantization (Base and
// Quantization set). Field names match data/catalog.json.
type CatalogEntry struct {
	// ID is the Hugging Face repository id in its canonical case
	// ("meta-llama/Llama-3.1-8B").
	ID string `json:"id"`
	// Aliases are short lowercase names that also resolve to the entry
	// ("llama-3.1-8b"); each is unique across the catalog.
	Aliases []string `json:"aliases,omitempty"`
	// Family groups related models ("llama-3.1", "qwen3"); Search matches
	// it and sorts by it.
	Family string `json:"family,omitempty"`

	// Config is the file name of the config.json in data/configs (or the
	// name an overlay gave its config).
	Config string `json:"config,omitempty"`
	// ConfigKind says how the config bytes were obtained: ConfigVerbatim,
	// ConfigTranscribed or ConfigReconstructed. Empty for quantized
	// variants and for overlays that do not say.
	ConfigKind string `json:"config_kind,omitempty"`
	// ConfigFieldsSource lists, for a reconstructed config, which keys came
	// from which source; every key of the file is covered.
	ConfigFieldsSource []FieldSource `json:"config_fields_source,omitempty"`
	// PublishedCount is a parameter count a source publishes for the model,
	// which the count computed from the config must match (required for
	// reconstructed configs, optional otherwise).
	PublishedCount *PublishedCount `json:"published_count,omitempty"`
	// ConfigSHA1 is the git blob SHA-1 of the config bytes (git
	// hash-object), which equals the blob id in the repository the copy was
	// taken from; tests check the embedded bytes against it.
	ConfigSHA1 string `json:"config_sha1,omitempty"`
	// ConfigSharedWith names the entry whose config this entry reuses,
	// when no copy of the model's own config.json was found but a source
	// says the architecture is the same (Notes says which source).
	ConfigSharedWith string `json:"config_shared_with,omitempty"`

	// Source is the URL of the model's config.json on Hugging Face (or,
	// for variants without a config copy, of the model card).
	Source string `json:"source"`
	// ConfigCopy says where the embedded bytes were found.
	ConfigCopy *ConfigCopy `json:"config_copy,omitempty"`
	// CrossChecks lists independent copies that agree with the bytes.
	CrossChecks string `json:"cross_checks,omitempty"`
	// Revision is the Hugging Face commit the config corresponds to, when
	// known.
	Revision string `json:"revision,omitempty"`
	// AsOf is the date (YYYY-MM-DD) the data was observed: the commit date
	// of the copy when known, otherwise the date it was read.
	AsOf string `json:"as_of"`

	// CardParams is the headline size as the model card states it ("8B",
	// "72.7B", "109B total / 17B active").
	CardParams string `json:"card_params,omitempty"`
	// CardSource is the URL of the page that states CardParams.
	CardSource string `json:"card_source,omitempty"`
	// CardStatus is CardVerified when CardParams was read at CardSource
	// for this catalog, CardUnverified when it was not.
	CardStatus string `json:"card_status,omitempty"`
	// ParamsNote says what the card counts (vision tower included, MTP
	// module excluded, rounded down, ...).
	ParamsNote string `json:"params_note,omitempty"`
	// ParamsTolerance widens the agreement the tests demand between
	// CardParams and the count computed from the config ("0.3B"), for cards
	// whose figure is known to be off; ParamsNote explains why.
	ParamsTolerance string `json:"params_tolerance,omitempty"`
	// CardActiveExcludesEmbedding is true when the card's active count
	// leaves out the input embedding (gpt-oss, DeepSeek-V2-Lite, Llama 4
	// Scout); it then corresponds to Params.ActiveNonEmbedding.
	CardActiveExcludesEmbedding bool `json:"card_active_excludes_embedding,omitempty"`

	// License is the model's license identifier as Hugging Face tags it,
	// when known.
	License string `json:"license,omitempty"`
	// Notes holds caveats about the copy or the entry.
	Notes string `json:"notes,omitempty"`

	// Base is the catalog id of the architecture a quantized variant uses.
	Base string `json:"base,omitempty"`
	// Quantization is the variant's real quantization.
	Quantization *CatalogQuant `json:"quantization,omitempty"`
}

// ConfigCopy locates the bytes of a config copy: a file in a public git
// repository (verbatim), or a Hugging Face file page (transcribed; Repo is
// then "huggingface.co/<owner>/<name>" and PageURL the page read).
type ConfigCopy struct {
	Repo   string `json:"repo,omitempty"`
	Path   string `json:"path"`
	Commit string `json:"commit,omitempty"`
	// Date is the commit date (YYYY-MM-DD), when known.
	Date string `json:"date,omitempty"`
	// IndexID is the stored-file id under which the search index returned
	// the copy when it did not disclose the repository.
	IndexID string `json:"index_id,omitempty"`
	// PageURL is the Hugging Face page a transcription was read from.
	PageURL string `json:"page_url,omitempty"`
	// PageSize is the file size as that page states it ("589 Bytes",
	// "1.05 kB"); tests compare it with the transcribed bytes.
	PageSize string `json:"page_size,omitempty"`
}

// FieldSource says where some keys of a reconstructed config come from.
type FieldSource struct {
	// Keys are the config keys, dotted for nested ones
	// ("text_config.hidden_size"); a key also covers everything nested
	// under it ("vision_config").
	Keys []string `json:"keys"`
	// Kind is "stated" (the source gives the value explicitly) or
	// "class_default" (the key is written with the transformers config
	// class's default, which the source file defines).
	Kind string `json:"kind"`
	// Source is the URL (or repository · path · commit) of the source.
	Source string `json:"source"`
	// Note explains the choice when it is not obvious.
	Note string `json:"note,omitempty"`
}

// PublishedCount is a parameter count published for a model.
type PublishedCount struct {
	// What the figure counts: "total", "non_embedding" (total minus input
	// embedding, untied output head and vision tower), "language_model"
	// (total minus vision tower) or "total_and_active".
	What string `json:"what"`
	// Value is an exact integer ("2024517888", compared exactly) or a
	// rounded figure in card_params form ("14.3B total / 2.7B active",
	// compared with rounding tolerance).
	Value string `json:"value"`
	// Source is the URL or reference that states it.
	Source string `json:"source"`
	// Note says how the figure was obtained when it is not a plain quote.
	Note string `json:"note,omitempty"`
}

// CatalogQuant is a quantized variant's quantization as the catalog records
// it. Lookup turns it into a Spec.Quant.
type CatalogQuant struct {
	// Method is the checkpoint kind (a dtype.Checkpoint value:
	// "compressed-tensors", "awq", "gptq", "fp8").
	Method string `json:"method"`
	// Precision is a dtype.LookupPrecision name ("fp8", "int8", "int4").
	Precision string `json:"precision"`
	// GroupSize is the number of weights per scale when the source states
	// it; 0 means not stated, and the precision's default applies to
	// group-wise methods (AWQ, GPTQ).
	GroupSize int `json:"group_size,omitempty"`
	// BlockSize is the 2-D scale block when the source states one.
	BlockSize []int `json:"block_size,omitempty"`
	// ActivationDynamic is true when activation scales are computed at run
	// time.
	ActivationDynamic bool `json:"activation_dynamic,omitempty"`
	// Format is the stored-format tag (compressed-tensors "format", AWQ
	// "version").
	Format string `json:"format,omitempty"`
	// NotConverted lists the modules kept unquantized, as the checkpoint
	// names them ("lm_head"). Embeddings and norms are not linear layers
	// and are never quantized by these methods.
	NotConverted []string `json:"not_converted,omitempty"`
	// Weights and Activations describe the scheme in words.
	Weights     string `json:"weights,omitempty"`
	Activations string `json:"activations,omitempty"`
	// Source is where the quantization facts come from: the variant's
	// config.json or quantize_config.json, or its model card.
	Source string `json:"source"`
	// Evidence says what that source states.
	Evidence string `json:"evidence,omitempty"`
	// Verified is false when the facts were not re-read from the source
	// for this catalog.
	Verified bool `json:"verified"`
	// Config, ConfigSHA1 and ConfigCopy describe the variant's own
	// config.json copy when one was found (kept for reference; the
	// architecture still comes from Base).
	Config     string      `json:"config,omitempty"`
	ConfigSHA1 string      `json:"config_sha1,omitempty"`
	ConfigCopy *ConfigCopy `json:"config_copy,omitempty"`
}

// catalogIndex is the top level of data/catalog.json.
type catalogIndex struct {
	SchemaVersion int            `json:"schema_version"`
	Description   string         `json:"description,omitempty"`
	Models        []CatalogEntry `json:"models"`
}

// Catalog is a set of models that Lookup resolves by Hugging Face id or
// alias: the embedded catalog plus any user overlays added with Add. It is
// safe for concurrent use.
type Catalog struct {
	mu      sync.RWMutex
	entries []CatalogEntry    // index order; overlays appended
	byID    map[string]int    // lowercase id → entries index
	byAlias map[string]int    // alias → entries index
	configs map[string][]byte // config name → bytes
}

// ErrNotInCatalog is wrapped by the error Lookup returns for an unknown
// reference, so callers can fall back to Hugging Face or a local path.
var ErrNotInCatalog = errors.New("not in the model catalog")

// NotFoundError is returned by Lookup for a reference the catalog does not
// know. Suggestions holds the closest catalog ids.
type NotFoundError struct {
	Ref         string
	Suggestions []string
}

func (e *NotFoundError) Error() string {
	return e.Summary() + " A Hugging Face id (org/name) or a local path to a config.json or model directory also works; `gpuplan models` lists the catalog."
}

// Summary is the first sentence of Error: the reference and the closest
// catalog ids, without the hint about other kinds of reference.
func (e *NotFoundError) Summary() string {
	var b strings.Builder
	fmt.Fprintf(&b, "model %q is not in the built-in catalog", e.Ref)
	if len(e.Suggestions) > 0 {
		fmt.Fprintf(&b, "; did you mean %s?", strings.Join(e.Suggestions, ", "))
	} else {
		b.WriteString(".")
	}
	return b.String()
}

// Unwrap makes errors.Is(err, ErrNotInCatalog) true.
func (e *NotFoundError) Unwrap() error { return ErrNotInCatalog }

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

// Add puts a user overlay entry into the catalog (gpuplan --catalog FILE).
// Source and AsOf are required. When an entry with the same id exists, the
// overlay's non-empty fields replace the existing ones field by field
// (Aliases, ConfigCopy and Quantization as a whole); otherwise the entry is
// added and needs a config (config bytes, or the name of a config already in
// the catalog) or a base and quantization. Config bytes must parse with
// ParseConfig; if ConfigSHA1 is given it must match them.
func (c *Catalog) Add(e CatalogEntry, config []byte) error {
	e = e.clone()
	if e.Source == "" {
		return fmt.Errorf("catalog overlay entry %q: source is required (the URL of its config.json or model card)", e.ID)
	}
	if _, err := time.Parse(catalogDateLayout, e.AsOf); err != nil {
		return fmt.Errorf("catalog overlay entry %q: as_of %q must be a YYYY-MM-DD date", e.ID, e.AsOf)
	}
	if config != nil {
		if _, err := ParseConfig(config); err != nil {
			return fmt.Errorf("catalog overlay entry %q: config: %w", e.ID, err)
		}
		sum := gitBlobSHA1(config)
		if e.ConfigSHA1 != "" && !strings.EqualFold(e.ConfigSHA1, sum) {
			return fmt.Errorf("catalog overlay entry %q: config_sha1 %s does not match the config bytes (git blob %s)", e.ID, e.ConfigSHA1, sum)
		}
		e.ConfigSHA1 = sum
		if e.Config == "" {
			e.Config = "overlay/" + strings.ToLower(e.ID) + ".json"
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if config != nil {
		if old, ok := c.configs[e.Config]; ok && !bytes.Equal(old, config) {
			// Do not let an overlay silently replace bytes another entry
			// points at.
			for _, o := range c.entries {
				if o.Config == e.Config && !strings.EqualFold(o.ID, e.ID) {
					return fmt.Errorf("catalog overlay entry %q: config name %s is already used by %s; give the overlay config another name", e.ID, e.Config, o.ID)
				}
			}
		}
	}
	i, exists := c.byID[strings.ToLower(e.ID)]
	if !exists {
		var saved []byte
		hadConfig := false
		if config != nil {
			saved, hadConfig = c.configs[e.Config]
			c.configs[e.Config] = append([]byte(nil), config...)
		}
		if err := c.insert(e); err != nil {
			c.restoreConfig(e.Config, saved, hadConfig, config != nil)
			return fmt.Errorf("catalog overlay: %w", err)
		}
		if err := c.checkRefs(&c.entries[len(c.entries)-1]); err != nil {
			c.removeLast()
			c.restoreConfig(e.Config, saved, hadConfig, config != nil)
			return fmt.Errorf("catalog overlay: %w", err)
		}
		return nil
	}
	merged := mergeEntry(c.entries[i], e)
	if merged.Base != "" && merged.Config != "" {
		// An overlay that turns a variant into an architecture (or the
		// reverse) must say so completely; pick what the overlay set.
		if e.Config != "" {
			merged.Base, merged.Quantization = "", nil
		} else {
			merged.Config = ""
		}
	}
	if err := validateEntry(&merged); err != nil {
		return fmt.Errorf("catalog overlay: %w", err)
	}
	if err := c.checkAliases(merged, i); err != nil {
		return fmt.Errorf("catalog overlay: %w", err)
	}
	var saved []byte
	hadConfig := false
	if config != nil {
		saved, hadConfig = c.configs[merged.Config]
		c.configs[merged.Config] = append([]byte(nil), config...)
	}
	if err := c.checkFiles(&merged); err != nil {
		c.restoreConfig(merged.Config, saved, hadConfig, config != nil)
		return fmt.Errorf("catalog overlay: %w", err)
	}
	if err := c.checkRefs(&merged); err != nil {
		c.restoreConfig(merged.Config, saved, hadConfig, config != nil)
		return fmt.Errorf("catalog overlay: %w", err)
	}
	for _, a := range c.entries[i].Aliases {
		delete(c.byAlias, a)
	}
	for _, a := range merged.Aliases {
		c.byAlias[a] = i
	}
	c.entries[i] = merged
	return nil
}

func (c *Catalog) restoreConfig(name string, saved []byte, had, changed bool) {
	if !changed {
		return
	}
	if had {
		c.configs[name] = saved
	} else {
		delete(c.configs, name)
	}
}

// removeLast undoes the insert of the last entry.
func (c *Catalog) removeLast() {
	n := len(c.entries) - 1
	e := c.entries[n]
	delete(c.byID, strings.ToLower(e.ID))
	for _, a := range e.Aliases {
		if c.byAlias[a] == n {
			delete(c.byAlias, a)
		}
	}
	c.entries = c.entries[:n]
}

// mergeEntry overlays the non-empty fields of o onto e.
func mergeEntry(e, o CatalogEntry) CatalogEntry {
	set := func(dst *string, v string) {
		if v != "" {
			*dst = v
		}
	}
	set(&e.Family, o.Family)
	set(&e.Config, o.Config)
	set(&e.ConfigKind, o.ConfigKind)
	set(&e.CardStatus, o.CardStatus)
	set(&e.ConfigSHA1, o.ConfigSHA1)
	set(&e.ConfigSharedWith, o.ConfigSharedWith)
	set(&e.Source, o.Source)
	set(&e.CrossChecks, o.CrossChecks)
	set(&e.Revision, o.Revision)
	set(&e.AsOf, o.AsOf)
	set(&e.CardParams, o.CardParams)
	set(&e.CardSource, o.CardSource)
	set(&e.ParamsNote, o.ParamsNote)
	set(&e.ParamsTolerance, o.ParamsTolerance)
	set(&e.License, o.License)
	set(&e.Notes, o.Notes)
	set(&e.Base, o.Base)
	if o.Aliases != nil {
		e.Aliases = o.Aliases
	}
	if o.ConfigCopy != nil {
		e.ConfigCopy = o.ConfigCopy
	}
	if o.ConfigFieldsSource != nil {
		e.ConfigFieldsSource = o.ConfigFieldsSource
	}
	if o.PublishedCount != nil {
		e.PublishedCount = o.PublishedCount
	}
	if o.Quantization != nil {
		e.Quantization = o.Quantization
	}
	return e
}

// gitBlobSHA1 is the id git gives a file's content (git hash-object): SHA-1
// over "blob <size>\x00" followed by the bytes.
func gitBlobSHA1(b []byte) string {
	h := sha1.New()
	fmt.Fprintf(h, "blob %d\x00", len(b))
	h.Write(b)
	return hex.EncodeToString(h.Sum(nil))
}

// suggest returns up to catalogMaxSuggestions catalog ids close to ref: ids
// or aliases that contain it (or that it contains), then those within a
// small edit distance. Caller holds the read lock.
func (c *Catalog) suggest(ref string) []string {
	r := normalizeRef(ref)
	if r == "" || len(r) > catalogMaxRef {
		return nil
	}
	name := r
	if k := strings.LastIndexByte(r, '/'); k >= 0 {
		name = r[k+1:]
	}
	best := map[int]int{} // entry index → score (lower is closer)
	consider := func(i int, cand string) {
		score := -1
		switch {
		case len(name) >= 3 && (strings.Contains(cand, name) || strings.Contains(name, cand)):
			score = 0
		default:
			d := editDistance(name, cand, catalogMaxRef)
			if limit := max(2, len(name)/3); d <= limit {
				score = d
			}
		}
		if score < 0 {
			return
		}
		if old, ok := best[i]; !ok || score < old {
			best[i] = score
		}
	}
	for i, e := range c.entries {
		id := strings.ToLower(e.ID)
		consider(i, id[strings.LastIndexByte(id, '/')+1:])
		for _, a := range e.Aliases {
			consider(i, a)
		}
	}
	idx := make([]int, 0, len(best))
	for i := range best {
		idx = append(idx, i)
	}
	sort.Slice(idx, func(a, b int) bool {
		if best[idx[a]] != best[idx[b]] {
			return best[idx[a]] < best[idx[b]]
		}
		return c.entries[idx[a]].ID < c.entries[idx[b]].ID
	})
	if len(idx) > catalogMaxSuggestions {
		idx = idx[:catalogMaxSuggestions]
	}
	out := make([]string, len(idx))
	for k, i := range idx {
		out[k] = c.entries[i].ID
	}
	return out
}

// editDistance is the Levenshtein distance between a and b (bytes), capped
// at limit for inputs longer than limit.
func editDistance(a, b string, limit int) int {
	if len(a) > limit || len(b) > limit {
		return limit + 1
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// cardParamsRe reads the figures of a card_params string: "8B", "0.49B",
// "109B total / 17B active", "560M".
var cardParamsRe = regexp.MustCompile(`^\s*([0-9]+(?:\.[0-9]+)?)\s*([BM])(?:\s+total)?(?:\s*/\s*([0-9]+(?:\.[0-9]+)?)\s*([BM])\s+active)?\s*$`)

// parseCardParams returns the total and active counts a card_params string
// states (active is 0 when it states none).
func parseCardParams(s string) (total, active float64, err error) {
	m := cardParamsRe.FindStringSubmatch(s)
	if m == nil {
		return 0, 0, fmt.Errorf("card_params %q is not of the form \"8B\" or \"109B total / 17B active\"", s)
	}
	total, err = scaledCount(m[1], m[2])
	if err != nil {
		return 0, 0, err
	}
	if m[3] != "" {
		if active, err = scaledCount(m[3], m[4]); err != nil {
			return 0, 0, err
		}
	}
	return total, active, nil
}

func scaledCount(num, unit string) (float64, error) {
	v, err := strconv.ParseFloat(num, 64)
	if err != nil {
		return 0, err
	}
	switch unit {
	case "B":
		return v * 1e9, nil
	case "M":
		return v * 1e6, nil
	}
	return 0, fmt.Errorf("unknown unit %q", unit)
}

// publishedWhat lists the values PublishedCount.What may take.
var publishedWhat = map[string]bool{"total": true, "non_embedding": true, "language_model": true, "total_and_active": true}

// figures parses Value: exact is true for an integer count (total holds it
// exactly); otherwise total and active come from the card_params form.
func (pc *PublishedCount) figures() (total, active float64, exact bool, err error) {
	if !publishedWhat[pc.What] {
		return 0, 0, false, fmt.Errorf("published_count.what %q is not total, non_embedding, language_model or total_and_active", pc.What)
	}
	if strings.TrimSpace(pc.Source) == "" {
		return 0, 0, false, errors.New("published_count.source is required")
	}
	if n, err := strconv.ParseInt(pc.Value, 10, 64); err == nil {
		if n <= 0 {
			return 0, 0, false, fmt.Errorf("published_count.value %q must be positive", pc.Value)
		}
		if pc.What == "total_and_active" {
			return 0, 0, false, errors.New("published_count: an exact value cannot state both total and active")
		}
		return float64(n), 0, true, nil
	}
	total, active, err = parseCardParams(pc.Value)
	if err != nil {
		return 0, 0, false, fmt.Errorf("published_count.value: %w", err)
	}
	if (pc.What == "total_and_active") != (active > 0) {
		return 0, 0, false, fmt.Errorf("published_count.value %q does not match what %q", pc.Value, pc.What)
	}
	return total, active, false, nil
}
