package model

import (
	"errors"
	"fmt"
	"strings"
	"sync"
)

// This file declares the catalog's schema: the entry types decoded from
// data/catalog.json and the errors Lookup returns. Loading and validation
// are in catalog_load.go, lookups and search in catalog_lookup.go, user
// overlays in catalog_overlay.go, and suggestions and published counts in
// catalog_suggest.go.

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
	// NoPublicCopy says, for a verbatim config whose copy has no public
	// repository to cite, what the bytes are and what they were checked
	// against; Repo and Commit are then empty.
	NoPublicCopy string `json:"no_public_copy,omitempty"`
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
