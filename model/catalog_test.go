package model

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/gpuplan/gpuplan/dtype"
)

func mustCatalog(t testing.TB) *Catalog {
	t.Helper()
	c, err := EmbeddedCatalog()
	if err != nil {
		t.Fatalf("EmbeddedCatalog: %v", err)
	}
	return c
}

var sha1Re = regexp.MustCompile(`^[0-9a-f]{40}$`)

func TestEmbeddedCatalogSize(t *testing.T) {
	c := mustCatalog(t)
	arch, variants := 0, 0
	for _, e := range c.Entries() {
		if e.Base != "" {
			variants++
		} else {
			arch++
		}
	}
	// The catalog promises at least 40 widely served architectures.
	if arch < 40 {
		t.Errorf("%d architecture entries, want at least 40", arch)
	}
	if variants < 8 {
		t.Errorf("%d quantized variants, want at least 8", variants)
	}
}

func TestCatalogProvenance(t *testing.T) {
	c := mustCatalog(t)
	today := time.Now().UTC().Format(catalogDateLayout)
	for _, e := range c.Entries() {
		t.Run(e.ID, func(t *testing.T) {
			if !strings.HasPrefix(e.Source, "https://") {
				t.Errorf("source %q is not an https URL", e.Source)
			}
			if _, err := time.Parse(catalogDateLayout, e.AsOf); err != nil {
				t.Errorf("as_of %q: %v", e.AsOf, err)
			} else if e.AsOf > today {
				t.Errorf("as_of %s is in the future (today %s)", e.AsOf, today)
			}
			if e.Family == "" {
				t.Error("family is empty")
			}
			if len(e.Aliases) == 0 {
				t.Error("no aliases")
			}
			if e.Base == "" {
				checkConfigProvenance(t, e)
				if e.ConfigCopy != nil && e.ConfigCopy.Date != "" && e.ConfigCopy.Date > e.AsOf {
					t.Errorf("as_of %s is before the copy's commit date %s", e.AsOf, e.ConfigCopy.Date)
				}
				if !sha1Re.MatchString(e.ConfigSHA1) {
					t.Errorf("config_sha1 %q is not a 40-digit git blob id", e.ConfigSHA1)
				}
				// Every architecture needs a figure its computed count is
				// checked against: the card's headline size or a published
				// count.
				if e.CardParams == "" && e.PublishedCount == nil && e.ConfigKind == ConfigReconstructed {
					t.Error("a reconstructed config needs a published_count")
				}
				if e.CardParams != "" && !strings.HasPrefix(e.CardSource, "https://") {
					t.Errorf("card_params %q needs an https card_source, got %q", e.CardParams, e.CardSource)
				}
				switch e.CardStatus {
				case CardVerified:
					if e.CardParams == "" {
						t.Error("card_status verified without card_params")
					}
				case CardUnverified:
				default:
					t.Errorf("card_status %q, want %q or %q", e.CardStatus, CardVerified, CardUnverified)
				}
			} else {
				q := e.Quantization
				if q == nil || !strings.HasPrefix(q.Source, "https://") || q.Evidence == "" {
					t.Errorf("quantized variant needs quantization.source (URL) and evidence, got %+v", q)
				}
			}
		})
	}
}

// checkConfigProvenance checks that an architecture entry says where its
// config bytes came from, in the form its config_kind requires.
func checkConfigProvenance(t *testing.T, e CatalogEntry) {
	t.Helper()
	cc := e.ConfigCopy
	switch e.ConfigKind {
	case ConfigVerbatim:
		// A git copy names repository, path and commit; a copy with no
		// public repository says so in no_public_copy instead.
		if cc == nil || cc.Path == "" || (cc.NoPublicCopy == "") == (cc.Repo == "" || cc.Commit == "") {
			t.Errorf("verbatim config_copy %+v must name repository, path and commit, or (only) say in no_public_copy why none is cited", cc)
		}
	case ConfigTranscribed:
		if cc == nil || !strings.HasPrefix(cc.Repo, "huggingface.co/") || !strings.HasPrefix(cc.PageURL, "https://huggingface.co/") || cc.PageSize == "" || cc.Commit == "" {
			t.Errorf("transcribed config_copy %+v must name the Hugging Face repository, page URL, commit and the size the page states", cc)
		}
	case ConfigReconstructed:
		if len(e.ConfigFieldsSource) == 0 {
			t.Error("reconstructed config without config_fields_source")
		}
		for _, fs := range e.ConfigFieldsSource {
			if fs.Source == "" || (fs.Kind != "stated" && fs.Kind != "class_default") {
				t.Errorf("config_fields_source entry %+v needs a source and kind stated or class_default", fs)
			}
		}
	default:
		t.Errorf("config_kind %q, want %q, %q or %q", e.ConfigKind, ConfigVerbatim, ConfigTranscribed, ConfigReconstructed)
	}
}

// configKeyPaths returns the dotted paths of every leaf key of a JSON
// object ("text_config.hidden_size"); arrays are leaves.
func configKeyPaths(prefix string, v any, out *[]string) {
	m, ok := v.(map[string]any)
	if !ok || (len(m) == 0 && prefix != "") {
		*out = append(*out, prefix)
		return
	}
	for k, sub := range m {
		p := k
		if prefix != "" {
			p = prefix + "." + k
		}
		configKeyPaths(p, sub, out)
	}
}

// TestCatalogReconstructedFieldsSourced checks that every key written in a
// reconstructed config is covered by a config_fields_source entry (a listed
// key covers everything nested under it), and that no listed key is absent
// from the file, so the source table and the bytes cannot drift apart.
func TestCatalogReconstructedFieldsSourced(t *testing.T) {
	c := mustCatalog(t)
	n := 0
	for _, e := range c.Entries() {
		if e.ConfigKind != ConfigReconstructed {
			continue
		}
		n++
		t.Run(e.ID, func(t *testing.T) {
			var doc map[string]any
			if err := json.Unmarshal(c.configs[e.Config], &doc); err != nil {
				t.Fatal(err)
			}
			var paths []string
			configKeyPaths("", doc, &paths)
			listed := map[string]bool{}
			for _, fs := range e.ConfigFieldsSource {
				for _, k := range fs.Keys {
					if listed[k] {
						t.Errorf("key %s is listed twice", k)
					}
					listed[k] = true
				}
			}
			covered := func(p string) bool {
				for k := range listed {
					if p == k || strings.HasPrefix(p, k+".") {
						return true
					}
				}
				return false
			}
			for _, p := range paths {
				if !covered(p) {
					t.Errorf("key %s is in the config but has no source in config_fields_source", p)
				}
			}
			for k := range listed {
				found := false
				for _, p := range paths {
					if p == k || strings.HasPrefix(p, k+".") {
						found = true
						break
					}
				}
				if !found {
					t.Errorf("config_fields_source lists %s, which the config does not contain", k)
				}
			}
		})
	}
	if n == 0 {
		t.Fatal("no reconstructed entries")
	}
}

// pageSizeBytes parses the size a Hugging Face page states for a file and
// returns the range of byte counts it allows: "589 Bytes" is exact, "1.05
// kB" (decimal kilobytes rounded to 3 digits) allows ±5 bytes.
func pageSizeBytes(s string) (lo, hi int, err error) {
	var v float64
	var unit string
	if _, err := fmt.Sscanf(s, "%g %s", &v, &unit); err != nil {
		return 0, 0, fmt.Errorf("page_size %q: %w", s, err)
	}
	switch unit {
	case "Bytes":
		return int(v), int(v), nil
	case "kB":
		return int(math.Round(v*1000)) - 5, int(math.Round(v*1000)) + 5, nil
	}
	return 0, 0, fmt.Errorf("page_size %q: unknown unit %q", s, unit)
}

// TestCatalogTranscribedSize checks each transcription's length against the
// size the Hugging Face page states, the evidence that the restored
// whitespace matches the vendor's file.
func TestCatalogTranscribedSize(t *testing.T) {
	c := mustCatalog(t)
	n := 0
	for _, e := range c.Entries() {
		if e.ConfigKind != ConfigTranscribed {
			continue
		}
		n++
		lo, hi, err := pageSizeBytes(e.ConfigCopy.PageSize)
		if err != nil {
			t.Errorf("%s: %v", e.ID, err)
			continue
		}
		if got := len(c.configs[e.Config]); got < lo || got > hi {
			t.Errorf("%s: %d bytes, the page states %s", e.ID, got, e.ConfigCopy.PageSize)
		}
	}
	if n == 0 {
		t.Fatal("no transcribed entries")
	}
}

// TestCatalogPublishedCounts compares the count computed from each config
// with the count a source publishes: exactly for integer figures, with the
// card-figure rounding window otherwise.
func TestCatalogPublishedCounts(t *testing.T) {
	c := mustCatalog(t)
	n := 0
	for _, e := range c.Entries() {
		pc := e.PublishedCount
		if pc == nil {
			continue
		}
		n++
		t.Run(e.ID, func(t *testing.T) {
			spec, _, err := c.Lookup(e.ID)
			if err != nil {
				t.Fatal(err)
			}
			p := spec.Params()
			var got int64
			switch pc.What {
			case "total", "total_and_active":
				got = p.Total
			case "non_embedding":
				got = p.Total - p.Groups[GroupEmbed] - p.Groups[GroupLMHead] - p.Groups[GroupVision]
			case "language_model":
				got = p.Total - p.Groups[GroupVision]
			}
			total, active, exact, err := pc.figures()
			if err != nil {
				t.Fatal(err)
			}
			if exact {
				if float64(got) != total {
					t.Errorf("computed %s %d, %s publishes %s", pc.What, got, pc.Source, pc.Value)
				}
				return
			}
			figures := cardFigureRe.FindAllString(pc.Value, -1)
			noTol := e
			noTol.ParamsTolerance = ""
			lo, hi := cardTolerance(t, noTol, figures[0], total)
			if f := float64(got); f < lo || f >= hi {
				t.Errorf("computed %s %.4gB, published %s (accepted [%.4gB, %.4gB))", pc.What, f/1e9, pc.Value, lo/1e9, hi/1e9)
			}
			if active > 0 {
				lo, hi = cardTolerance(t, noTol, figures[1], active)
				if f := float64(p.Active); f < lo || f >= hi {
					t.Errorf("computed active %.4gB, published %s", f/1e9, pc.Value)
				}
			}
		})
	}
	if n == 0 {
		t.Fatal("no published counts")
	}
}

func TestPageSizeBytes(t *testing.T) {
	tests := []struct {
		in     string
		lo, hi int
		ok     bool
	}{
		{"589 Bytes", 589, 589, true},
		{"1.05 kB", 1045, 1055, true},
		{"1.18 kB", 1175, 1185, true},
		{"5 GB", 0, 0, false},
		{"", 0, 0, false},
	}
	for _, tt := range tests {
		lo, hi, err := pageSizeBytes(tt.in)
		if (err == nil) != tt.ok || lo != tt.lo || hi != tt.hi {
			t.Errorf("pageSizeBytes(%q) = %d, %d, %v; want %d, %d, ok=%v", tt.in, lo, hi, err, tt.lo, tt.hi, tt.ok)
		}
	}
}

func TestPublishedCountFigures(t *testing.T) {
	tests := []struct {
		pc            PublishedCount
		total, active float64
		exact, ok     bool
	}{
		{PublishedCount{What: "non_embedding", Value: "2024517888", Source: "x"}, 2024517888, 0, true, true},
		{PublishedCount{What: "total_and_active", Value: "14.3B total / 2.7B active", Source: "x"}, 14.3e9, 2.7e9, false, true},
		{PublishedCount{What: "total", Value: "14.3B total / 2.7B active", Source: "x"}, 0, 0, false, false},
		{PublishedCount{What: "total_and_active", Value: "123", Source: "x"}, 0, 0, false, false},
		{PublishedCount{What: "everything", Value: "1B", Source: "x"}, 0, 0, false, false},
		{PublishedCount{What: "total", Value: "1B"}, 0, 0, false, false},
		{PublishedCount{What: "total", Value: "-5", Source: "x"}, 0, 0, false, false},
	}
	for _, tt := range tests {
		total, active, exact, err := tt.pc.figures()
		if (err == nil) != tt.ok || (tt.ok && (math.Abs(total-tt.total) > 1 || math.Abs(active-tt.active) > 1 || exact != tt.exact)) {
			t.Errorf("%+v.figures() = %g, %g, %v, %v; want %g, %g, %v, ok=%v", tt.pc, total, active, exact, err, tt.total, tt.active, tt.exact, tt.ok)
		}
	}
}

// TestCatalogConfigBytes checks every embedded config against the git blob
// id recorded in the index, and that no file is embedded without an entry.
func TestCatalogConfigBytes(t *testing.T) {
	c := mustCatalog(t)
	used := map[string]bool{}
	check := func(id, name, want string) {
		used[name] = true
		got := gitBlobSHA1(c.configs[name])
		if got != want {
			t.Errorf("%s: %s hashes to %s, the index records %s (the bytes were changed)", id, name, got, want)
		}
	}
	for _, e := range c.Entries() {
		if e.Config != "" {
			check(e.ID, e.Config, e.ConfigSHA1)
		}
		if q := e.Quantization; q != nil && q.Config != "" {
			check(e.ID, q.Config, q.ConfigSHA1)
		}
	}
	for name := range c.configs {
		if !used[name] {
			t.Errorf("data/configs/%s is embedded but no entry uses it", name)
		}
	}
}

// referenceBlobPrefixes are the blob ids that the reference index
// compiled with the configs ("blob" column, 12 hex digits; not shipped) gives
// for the 39 verified copies. The embedded files must be those bytes.
var referenceBlobPrefixes = map[string]string{
	"meta-llama__Llama-3.1-8B.json":                   "9b3ff8de3fa0",
	"meta-llama__Llama-3.1-8B-Instruct.json":          "eb1c60af2f9e",
	"meta-llama__Llama-3.1-70B.json":                  "615cda07214b",
	"meta-llama__Llama-3.1-70B-Instruct.json":         "b54aa7f95698",
	"meta-llama__Llama-3.1-405B.json":                 "255cf4284a1a",
	"meta-llama__Llama-3.2-1B.json":                   "bd8e0d98f57d",
	"meta-llama__Llama-3.2-3B.json":                   "9d2918e49375",
	"meta-llama__Llama-3.2-3B-Instruct.json":          "a5a40fa6da56",
	"meta-llama__Llama-3.3-70B-Instruct.json":         "48b5038e18cf",
	"meta-llama__Llama-4-Scout-17B-16E-Instruct.json": "804f06c293e0",
	"Qwen__Qwen2.5-0.5B.json":                         "141506237b90",
	"Qwen__Qwen2.5-1.5B.json":                         "461682164a11",
	"Qwen__Qwen2.5-1.5B-Instruct.json":                "f81ead14ab07",
	"Qwen__Qwen2.5-3B.json":                           "1a71c5d8c4ed",
	"Qwen__Qwen2.5-3B-Instruct.json":                  "51b83fbd4e2d",
	"Qwen__Qwen2.5-7B.json":                           "458b5915ae45",
	"Qwen__Qwen2.5-7B-Instruct.json":                  "0178295f88af",
	"Qwen__Qwen2.5-14B.json":                          "a6c0bcff89bd",
	"Qwen__Qwen2.5-32B.json":                          "d69838a0da23",
	"Qwen__Qwen2.5-72B.json":                          "250dfc9d726b",
	"Qwen__Qwen3-8B.json":                             "d46195ac87f8",
	"Qwen__Qwen3-14B.json":                            "37e749108257",
	"Qwen__Qwen3-32B.json":                            "d66d65fbc796",
	"Qwen__Qwen3-30B-A3B.json":                        "2703739b9cfc",
	"Qwen__Qwen3-235B-A22B.json":                      "5366b39a2fad",
	"mistralai__Mistral-7B-v0.1.json":                 "f4989f072a7f",
	"mistralai__Mixtral-8x7B-v0.1.json":               "a386e99e9278",
	"mistralai__Mixtral-8x22B-v0.1.json":              "cb5434a64c61",
	"google__gemma-2-9b-it.json":                      "24962f60024f",
	"google__gemma-3-4b-it.json":                      "fcdc8a6cd637",
	"google__gemma-3-27b-it.json":                     "11752a47dd94",
	"microsoft__phi-2.json":                           "a550a3139a76",
	"microsoft__phi-4.json":                           "1cff10e36fa8",
	"deepseek-ai__DeepSeek-V2-Lite.json":              "a1aa8126bbf4",
	"deepseek-ai__DeepSeek-V3.json":                   "330b9de73e19",
	"deepseek-ai__DeepSeek-R1.json":                   "c482e777cbac",
	"deepseek-ai__DeepSeek-R1-Distill-Qwen-32B.json":  "b85e551961bc",
	"openai__gpt-oss-20b.json":                        "2318561c6fcd",
	"openai__gpt-oss-120b.json":                       "2dbc99f5a0ec",
}

func TestCatalogReferenceCopies(t *testing.T) {
	c := mustCatalog(t)
	if len(referenceBlobPrefixes) != 39 {
		t.Fatalf("reference table has %d files, the reference index lists 39", len(referenceBlobPrefixes))
	}
	for name, prefix := range referenceBlobPrefixes {
		b, ok := c.configs[name]
		if !ok {
			t.Errorf("%s from the reference set is not embedded", name)
			continue
		}
		if got := gitBlobSHA1(b); !strings.HasPrefix(got, prefix) {
			t.Errorf("%s: git blob %s, reference index says %s…", name, got, prefix)
		}
	}
}

func TestCatalogEveryEntryResolves(t *testing.T) {
	c := mustCatalog(t)
	for _, e := range c.Entries() {
		t.Run(e.ID, func(t *testing.T) {
			for _, ref := range []string{e.ID, strings.ToLower(e.ID), strings.ToUpper(e.ID), " " + e.ID + " ", "https://huggingface.co/" + e.ID} {
				spec, got, err := c.Lookup(ref)
				if err != nil {
					t.Fatalf("Lookup(%q): %v", ref, err)
				}
				if got.ID != e.ID || spec.ID != e.ID {
					t.Fatalf("Lookup(%q) = entry %s, spec %s; want %s", ref, got.ID, spec.ID, e.ID)
				}
				if spec.Source != e.Source || spec.Revision != e.Revision {
					t.Errorf("Lookup(%q): spec source/revision %q/%q, entry has %q/%q", ref, spec.Source, spec.Revision, e.Source, e.Revision)
				}
				if err := spec.Validate(); err != nil {
					t.Errorf("Lookup(%q): spec does not validate: %v", ref, err)
				}
			}
			for _, a := range e.Aliases {
				_, got, err := c.Lookup(a)
				if err != nil || got.ID != e.ID {
					t.Errorf("alias %q resolves to %v, %v; want %s", a, got, err, e.ID)
				}
			}
		})
	}
}

func TestCatalogAliasesUnique(t *testing.T) {
	c := mustCatalog(t)
	owner := map[string]string{}
	for _, e := range c.Entries() {
		owner[strings.ToLower(e.ID)] = e.ID
	}
	for _, e := range c.Entries() {
		for _, a := range e.Aliases {
			if prev, ok := owner[a]; ok {
				t.Errorf("alias %q of %s is also %s", a, e.ID, prev)
			}
			owner[a] = e.ID
		}
	}
}

// TestCatalogVariants checks that every quantized variant resolves to its
// base architecture with its own quantization, and that the recorded method
// is one its precision can be deployed as.
func TestCatalogVariants(t *testing.T) {
	c := mustCatalog(t)
	n := 0
	for _, e := range c.Entries() {
		if e.Base == "" {
			continue
		}
		n++
		t.Run(e.ID, func(t *testing.T) {
			base, baseEntry, err := c.Lookup(e.Base)
			if err != nil {
				t.Fatalf("base %s: %v", e.Base, err)
			}
			if baseEntry.Base != "" {
				t.Fatalf("base %s is itself a variant", e.Base)
			}
			spec, _, err := c.Lookup(e.ID)
			if err != nil {
				t.Fatal(err)
			}
			if spec.Layers != base.Layers || spec.Hidden != base.Hidden || spec.Heads != base.Heads || spec.KVHeads != base.KVHeads || spec.Vocab != base.Vocab {
				t.Errorf("architecture differs from base %s", e.Base)
			}
			if spec.Params().Total != base.Params().Total {
				t.Errorf("parameter count %d differs from base's %d", spec.Params().Total, base.Params().Total)
			}
			q := spec.Quant
			if q == nil {
				t.Fatal("Spec.Quant is nil for a quantized variant")
			}
			if string(q.Method) != e.Quantization.Method {
				t.Errorf("Quant.Method %q, entry says %q", q.Method, e.Quantization.Method)
			}
			p, err := dtype.LookupPrecision(e.Quantization.Precision)
			if err != nil {
				t.Fatal(err)
			}
			if q.Weight != p.Weight || q.Bits != int(p.Weight.Bits()) {
				t.Errorf("Quant weight %s/%d bits, precision %s stores %s", q.Weight, q.Bits, p.Name, p.Weight)
			}
			if !slices.Contains(p.Checkpoints, q.Method) {
				t.Errorf("precision %s is not deployed as %s checkpoints (it lists %v)", p.Name, q.Method, p.Checkpoints)
			}
			if p.WeightOnly && q.Activation != "" || !p.WeightOnly && q.Activation != p.Compute {
				t.Errorf("activation dtype %q does not match precision %s", q.Activation, p.Name)
			}
			if (q.Method == dtype.CheckpointAWQ || q.Method == dtype.CheckpointGPTQ) && q.GroupSize == 0 {
				t.Error("group-wise method without a group size")
			}
		})
	}
	if n == 0 {
		t.Fatal("no quantized variants")
	}
}

// TestCatalogVariantOwnConfig compares a variant's recorded quantization
// with the quantization_config of its own config.json copy, where one was
// found, and its architecture with the base's.
func TestCatalogVariantOwnConfig(t *testing.T) {
	c := mustCatalog(t)
	checked := 0
	for _, e := range c.Entries() {
		q := e.Quantization
		if q == nil || q.Config == "" {
			continue
		}
		checked++
		own, err := ParseConfig(c.configs[q.Config])
		if err != nil {
			t.Errorf("%s: own config: %v", e.ID, err)
			continue
		}
		spec, _, err := c.Lookup(e.ID)
		if err != nil {
			t.Fatal(err)
		}
		if own.Quant == nil {
			t.Errorf("%s: own config has no quantization_config", e.ID)
			continue
		}
		got, want := spec.Quant, own.Quant
		if got.Method != want.Method || got.Weight != want.Weight || got.Activation != want.Activation ||
			got.ActivationDynamic != want.ActivationDynamic || got.Format != want.Format || !slices.Equal(got.NotConverted, want.NotConverted) ||
			got.GroupSize != want.GroupSize {
			t.Errorf("%s: catalog quantization %+v, its config.json says %+v", e.ID, *got, *want)
		}
		if own.Params().Total != spec.Params().Total || own.Layers != spec.Layers || own.Hidden != spec.Hidden {
			t.Errorf("%s: own config's architecture differs from base %s", e.ID, e.Base)
		}
	}
	if checked == 0 {
		t.Fatal("no variant with its own config copy")
	}
}

// cardTolerance is the agreement demanded between a card figure and the
// computed count: the figure may be rounded or truncated at its last digit
// ("70.6B" accepts [70.55B, 70.7B); "8B" accepts [7.5B, 9B)), unless the
// entry sets params_tolerance (± that amount) and explains why.
func cardTolerance(t *testing.T, e CatalogEntry, stated string, figure float64) (lo, hi float64) {
	if e.ParamsTolerance != "" {
		tol, _, err := parseCardParams(e.ParamsTolerance)
		if err != nil {
			t.Fatalf("params_tolerance: %v", err)
		}
		if e.ParamsNote == "" {
			t.Errorf("params_tolerance %s without a params_note explaining it", e.ParamsTolerance)
		}
		return figure - tol, figure + tol
	}
	unit := 1e9
	if strings.HasSuffix(strings.TrimSpace(stated), "M") {
		unit = 1e6
	}
	digits := 0
	if i := strings.IndexByte(stated, '.'); i >= 0 {
		digits = len(strings.TrimRight(stated[i+1:], "BM "))
	}
	step := unit * math.Pow10(-digits)
	return figure - step/2, figure + step
}

var cardFigureRe = regexp.MustCompile(`[0-9]+(?:\.[0-9]+)?\s*[BM]`)

func TestCatalogCardParams(t *testing.T) {
	c := mustCatalog(t)
	for _, e := range c.Entries() {
		if e.CardParams == "" {
			continue
		}
		t.Run(e.ID, func(t *testing.T) {
			total, active, err := parseCardParams(e.CardParams)
			if err != nil {
				t.Fatal(err)
			}
			spec, _, err := c.Lookup(e.ID)
			if err != nil {
				t.Fatal(err)
			}
			p := spec.Params()
			figures := cardFigureRe.FindAllString(e.CardParams, -1)
			lo, hi := cardTolerance(t, e, figures[0], total)
			if f := float64(p.Total); f < lo || f >= hi {
				t.Errorf("computed total %.4gB, card says %s (accepted [%.4gB, %.4gB)); %s", f/1e9, e.CardParams, lo/1e9, hi/1e9, e.ParamsNote)
			}
			if active == 0 {
				if spec.MoE != nil {
					t.Errorf("MoE model without an active count in card_params %q", e.CardParams)
				}
				return
			}
			// Cards differ on whether the embedding lookup is "active"; the
			// entry says which convention its card uses (params_note
			// explains how that was established).
			got := p.Active
			if e.CardActiveExcludesEmbedding {
				got = p.ActiveNonEmbedding
			}
			lo, hi = cardTolerance(t, e, figures[1], active)
			if f := float64(got); f < lo || f >= hi {
				t.Errorf("computed active %.4gB, card says %s (accepted [%.4gB, %.4gB)); %s", f/1e9, e.CardParams, lo/1e9, hi/1e9, e.ParamsNote)
			}
		})
	}
}

// fitSetModels are the models of the vLLM 0.19.0 memory records in the
// reference measurements (llm-d-planner accuracy sweep) that the catalog
// covers. Kimi-Dev-72B and Kimi-VL-A3B-Instruct could not be sourced; see
// data/NOT_FOUND.md.
var fitSetModels = []string{
	"meta-llama/Llama-3.1-8B-Instruct",
	"meta-llama/Llama-4-Scout-17B-16E-Instruct",
	"microsoft/phi-4",
	"mistralai/Mixtral-8x7B-Instruct-v0.1",
	"Qwen/Qwen2.5-7B-Instruct",
	"Qwen/Qwen3-8B",
	"google/gemma-3-4b-it",
	"ibm-granite/granite-3.3-8b-instruct",
	"RedHatAI/Llama-3.3-70B-Instruct-fp8-dynamic",
	"RedHatAI/Qwen2.5-7B-Instruct-fp8-dynamic",
	"RedHatAI/Meta-Llama-3.1-8B-Instruct-quantized.w4a16",
	"RedHatAI/Qwen2.5-7B-Instruct-quantized.w8a8",
	"codellama/CodeLlama-7b-hf",
	"Qwen/Qwen1.5-MoE-A2.7B",
	"google/gemma-2-2b-it",
	"google/gemma-3-12b-it",
	"ibm-granite/granite-3.1-2b-instruct",
	"Qwen/Qwen2.5-72B-Instruct",
	"RedHatAI/Mistral-Small-3.1-24B-Instruct-2503-quantized.w8a8",
}

func TestCatalogCoversFitSet(t *testing.T) {
	c := mustCatalog(t)
	for _, id := range fitSetModels {
		if _, _, err := c.Lookup(id); err != nil {
			t.Errorf("%s: %v", id, err)
		}
	}
}

func TestCatalogLookupNotFound(t *testing.T) {
	c := mustCatalog(t)
	tests := []struct {
		ref     string
		suggest string // an id that must be among the suggestions; "" for none
	}{
		{"llama-3.1-8bb", "meta-llama/Llama-3.1-8B"},
		{"meta-llama/Llama-3.1-8B-Instrcut", "meta-llama/Llama-3.1-8B-Instruct"},
		{"qwen3-30b", "Qwen/Qwen3-30B-A3B"},
		{"Mixtral-8x7b-instruct-v0.2", "mistralai/Mixtral-8x7B-Instruct-v0.1"},
		{"totally-unknown-model-xyz", ""},
		{"", ""},
		{strings.Repeat("a", 5000), ""},
	}
	for _, tt := range tests {
		name := tt.ref
		if len(name) > 40 {
			name = name[:40]
		}
		t.Run(name, func(t *testing.T) {
			spec, e, err := c.Lookup(tt.ref)
			if err == nil {
				t.Fatalf("Lookup(%q) = %v, %v; want an error", tt.ref, spec, e)
			}
			if !errors.Is(err, ErrNotInCatalog) {
				t.Errorf("error %v does not wrap ErrNotInCatalog", err)
			}
			var nf *NotFoundError
			if !errors.As(err, &nf) {
				t.Fatalf("error %T is not a *NotFoundError", err)
			}
			if !strings.Contains(err.Error(), "Hugging Face id") || !strings.Contains(err.Error(), "local path") {
				t.Errorf("error %q does not say that a Hugging Face id or local path works", err)
			}
			if tt.suggest == "" {
				if len(nf.Suggestions) != 0 {
					t.Errorf("suggestions %v for %q, want none", nf.Suggestions, tt.ref)
				}
				return
			}
			if !slices.Contains(nf.Suggestions, tt.suggest) {
				t.Errorf("suggestions %v for %q do not include %s", nf.Suggestions, tt.ref, tt.suggest)
			}
			if len(nf.Suggestions) > catalogMaxSuggestions {
				t.Errorf("%d suggestions, at most %d", len(nf.Suggestions), catalogMaxSuggestions)
			}
		})
	}
}

func TestCatalogSearch(t *testing.T) {
	c := mustCatalog(t)
	all := c.Search("")
	if len(all) != len(c.entries) || len(c.Entries()) != len(all) {
		t.Fatalf("Search(\"\") = %d entries, Entries() = %d, catalog has %d", len(all), len(c.Entries()), len(c.entries))
	}
	if !sort.SliceIsSorted(all, func(i, j int) bool { return all[i].Family < all[j].Family }) {
		t.Error("Search(\"\") is not sorted by family")
	}
	ids := func(es []CatalogEntry) []string {
		var out []string
		for _, e := range es {
			out = append(out, e.ID)
		}
		return out
	}
	tests := []struct {
		query string
		want  []string // exactly these ids, in this order; nil means "check contains"
		has   []string
	}{
		{query: "QWEN2.5-7B-INSTRUCT", has: []string{"Qwen/Qwen2.5-7B-Instruct", "Qwen/Qwen2.5-7B-Instruct-AWQ", "RedHatAI/Qwen2.5-7B-Instruct-FP8-dynamic", "RedHatAI/Qwen2.5-7B-Instruct-quantized.w8a8"}},
		{query: "gpt-oss", want: []string{"openai/gpt-oss-20b", "openai/gpt-oss-120b"}},
		{query: "mixtral", want: []string{"mistralai/Mixtral-8x7B-Instruct-v0.1", "mistralai/Mixtral-8x7B-v0.1", "mistralai/Mixtral-8x22B-v0.1"}},
		{query: "llama-3.2", want: []string{"meta-llama/Llama-3.2-1B", "meta-llama/Llama-3.2-1B-Instruct", "meta-llama/Llama-3.2-3B", "meta-llama/Llama-3.2-3B-Instruct"}},
		{query: "no-such-model", want: []string{}},
	}
	for _, tt := range tests {
		got := ids(c.Search(tt.query))
		if tt.want != nil && !slices.Equal(got, tt.want) && !(len(got) == 0 && len(tt.want) == 0) {
			t.Errorf("Search(%q) = %v, want %v", tt.query, got, tt.want)
		}
		for _, h := range tt.has {
			if !slices.Contains(got, h) {
				t.Errorf("Search(%q) = %v, missing %s", tt.query, got, h)
			}
		}
	}
	// Within a family, smaller models come first.
	var qwen []string
	for _, e := range c.Search("qwen2.5") {
		if e.Family == "qwen2.5" && e.Base == "" && !strings.Contains(e.ID, "Instruct") {
			qwen = append(qwen, e.ID)
		}
	}
	want := []string{"Qwen/Qwen2.5-0.5B", "Qwen/Qwen2.5-1.5B", "Qwen/Qwen2.5-3B", "Qwen/Qwen2.5-7B", "Qwen/Qwen2.5-14B", "Qwen/Qwen2.5-32B", "Qwen/Qwen2.5-72B"}
	if !slices.Equal(qwen, want) {
		t.Errorf("qwen2.5 base models in order %v, want %v", qwen, want)
	}
}

func TestCatalogAdd(t *testing.T) {
	qwenCfg := func(t *testing.T, c *Catalog) []byte {
		b, err := c.ConfigBytes("qwen3-8b")
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	t.Run("new entry with config", func(t *testing.T) {
		c := mustCatalog(t)
		cfg := qwenCfg(t, c)
		e := CatalogEntry{ID: "example-org/My-Model-8B", Aliases: []string{"my-model-8b"}, Family: "example", Source: "https://example.com/config.json", AsOf: "2026-01-02"}
		if err := c.Add(e, cfg); err != nil {
			t.Fatal(err)
		}
		spec, got, err := c.Lookup("MY-MODEL-8B")
		if err != nil {
			t.Fatal(err)
		}
		if spec.ID != e.ID || got.ConfigSHA1 != gitBlobSHA1(cfg) || spec.Layers != 36 {
			t.Errorf("overlay resolved to %s (%d layers), sha %s", spec.ID, spec.Layers, got.ConfigSHA1)
		}
		// Another copy of the embedded catalog is not affected.
		if _, _, err := mustCatalog(t).Lookup("my-model-8b"); err == nil {
			t.Error("overlay leaked into another EmbeddedCatalog copy")
		}
	})
	t.Run("override fields of an embedded entry", func(t *testing.T) {
		c := mustCatalog(t)
		_, before, _ := c.Lookup("Qwen/Qwen3-8B")
		e := CatalogEntry{ID: "qwen/qwen3-8b", Source: "https://example.com/qwen3-8b/config.json", AsOf: "2026-02-03", Notes: "pinned by us", Aliases: []string{"our-qwen"}}
		if err := c.Add(e, nil); err != nil {
			t.Fatal(err)
		}
		spec, after, err := c.Lookup("our-qwen")
		if err != nil {
			t.Fatal(err)
		}
		if after.Source != e.Source || after.AsOf != e.AsOf || after.Notes != e.Notes || spec.Source != e.Source {
			t.Errorf("overlay fields not applied: %+v", after)
		}
		if after.ID != before.ID || after.Config != before.Config || after.CardParams != before.CardParams || after.Family != before.Family {
			t.Errorf("fields the overlay left empty changed: before %+v after %+v", before, after)
		}
		if _, _, err := c.Lookup("qwen3-8b"); err == nil {
			t.Error("the replaced alias list still resolves the old alias")
		}
	})
	t.Run("variant overlay", func(t *testing.T) {
		c := mustCatalog(t)
		e := CatalogEntry{ID: "example-org/Qwen3-8B-AWQ", Aliases: []string{"qwen3-8b-awq-example"}, Family: "qwen3", Source: "https://example.com/card", AsOf: "2026-01-02",
			Base: "Qwen/Qwen3-8B", Quantization: &CatalogQuant{Method: "awq", Precision: "int4", GroupSize: 64, Source: "https://example.com/card", Evidence: "test"}}
		if err := c.Add(e, nil); err != nil {
			t.Fatal(err)
		}
		spec, _, err := c.Lookup("qwen3-8b-awq-example")
		if err != nil {
			t.Fatal(err)
		}
		if spec.Quant == nil || spec.Quant.Method != dtype.CheckpointAWQ || spec.Quant.GroupSize != 64 || spec.Quant.Weight != dtype.INT4 {
			t.Errorf("variant overlay quantization %+v", spec.Quant)
		}
	})
	bad := []struct {
		name   string
		entry  CatalogEntry
		config []byte
		want   string
	}{
		{"no source", CatalogEntry{ID: "x/y", AsOf: "2026-01-01", Config: "Qwen__Qwen3-8B.json"}, nil, "source is required"},
		{"bad date", CatalogEntry{ID: "x/y", Source: "https://x", AsOf: "01/02/2026", Config: "Qwen__Qwen3-8B.json"}, nil, "YYYY-MM-DD"},
		{"no config", CatalogEntry{ID: "x/y", Source: "https://x", AsOf: "2026-01-01"}, nil, "needs a config"},
		{"missing config file", CatalogEntry{ID: "x/y", Source: "https://x", AsOf: "2026-01-01", Config: "nope.json"}, nil, "missing"},
		{"alias taken", CatalogEntry{ID: "x/y", Source: "https://x", AsOf: "2026-01-01", Config: "Qwen__Qwen3-8B.json", Aliases: []string{"qwen3-14b"}}, nil, "already an alias"},
		{"alias not lowercase", CatalogEntry{ID: "x/y", Source: "https://x", AsOf: "2026-01-01", Config: "Qwen__Qwen3-8B.json", Aliases: []string{"My-Model"}}, nil, "lowercase"},
		{"unknown base", CatalogEntry{ID: "x/y", Source: "https://x", AsOf: "2026-01-01", Base: "x/none", Quantization: &CatalogQuant{Method: "awq", Precision: "int4", Source: "https://x"}}, nil, "not in the catalog"},
		{"unknown precision", CatalogEntry{ID: "x/y", Source: "https://x", AsOf: "2026-01-01", Base: "Qwen/Qwen3-8B", Quantization: &CatalogQuant{Method: "awq", Precision: "int3", Source: "https://x"}}, nil, "unknown precision"},
		{"unparseable config", CatalogEntry{ID: "x/y", Source: "https://x", AsOf: "2026-01-01"}, []byte(`{"model_type": `), "config"},
		{"sha mismatch", CatalogEntry{ID: "x/y", Source: "https://x", AsOf: "2026-01-01", ConfigSHA1: strings.Repeat("0", 40)}, nil, "does not match"},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			c := mustCatalog(t)
			cfg := tt.config
			if tt.name == "sha mismatch" {
				cfg = qwenCfg(t, c)
			}
			n := len(c.Entries())
			err := c.Add(tt.entry, cfg)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Add = %v, want an error containing %q", err, tt.want)
			}
			if len(c.Entries()) != n {
				t.Error("a failed Add changed the catalog")
			}
			if _, _, err := c.Lookup("x/y"); err == nil {
				t.Error("a failed Add left the entry resolvable")
			}
		})
	}
}

func TestParseCardParams(t *testing.T) {
	tests := []struct {
		in            string
		total, active float64
		ok            bool
	}{
		{"8B", 8e9, 0, true},
		{"0.49B", 0.49e9, 0, true},
		{"109B total / 17B active", 109e9, 17e9, true},
		{"560M", 560e6, 0, true},
		{"30.5B total / 3.3B active", 30.5e9, 3.3e9, true},
		{"", 0, 0, false},
		{"8 billion", 0, 0, false},
		{"8B / 1B", 0, 0, false},
	}
	for _, tt := range tests {
		total, active, err := parseCardParams(tt.in)
		if (err == nil) != tt.ok || math.Abs(total-tt.total) > 1 || math.Abs(active-tt.active) > 1 {
			t.Errorf("parseCardParams(%q) = %g, %g, %v; want %g, %g, ok=%v", tt.in, total, active, err, tt.total, tt.active, tt.ok)
		}
	}
}

func TestGitBlobSHA1(t *testing.T) {
	// Known values of `git hash-object`: the empty blob and "hello\n".
	for in, want := range map[string]string{
		"":        "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391",
		"hello\n": "ce013625030ba8dba906f756967f9e9ca394464a",
	} {
		if got := gitBlobSHA1([]byte(in)); got != want {
			t.Errorf("gitBlobSHA1(%q) = %s, want %s", in, got, want)
		}
	}
}

func FuzzCatalogLookup(f *testing.F) {
	for _, s := range []string{"llama-3.1-8b", "Qwen/Qwen3-8B", "https://huggingface.co/openai/gpt-oss-20b/", "", "/", "qwen3-30b", "ÿ\x00", "a/b/c"} {
		f.Add(s)
	}
	c := mustCatalog(f)
	f.Fuzz(func(t *testing.T, ref string) {
		spec, e, err := c.Lookup(ref)
		if err != nil {
			if !errors.Is(err, ErrNotInCatalog) {
				t.Fatalf("Lookup(%q): unexpected error kind %v", ref, err)
			}
			return
		}
		if spec == nil || e == nil || spec.ID != e.ID {
			t.Fatalf("Lookup(%q) = %v, %v", ref, spec, e)
		}
	})
}

func ExampleCatalog_Lookup() {
	c, err := EmbeddedCatalog()
	if err != nil {
		panic(err)
	}
	spec, entry, err := c.Lookup("llama-3.1-8b-instruct-awq")
	if err != nil {
		panic(err)
	}
	fmt.Println(spec.ID)
	fmt.Println("base:", entry.Base, "layers:", spec.Layers)
	fmt.Println("quantization:", spec.Quant.Method, spec.Quant.Weight, "group", spec.Quant.GroupSize)
	// Output:
	// hugging-quants/Meta-Llama-3.1-8B-Instruct-AWQ-INT4
	// base: meta-llama/Llama-3.1-8B-Instruct layers: 32
	// quantization: awq int4 group 128
}

func ExampleCatalog_Search() {
	c, err := EmbeddedCatalog()
	if err != nil {
		panic(err)
	}
	for _, e := range c.Search("gpt-oss") {
		fmt.Println(e.ID, e.CardParams)
	}
	// Output:
	// openai/gpt-oss-20b 21B total / 3.6B active
	// openai/gpt-oss-120b 117B total / 5.1B active
}
