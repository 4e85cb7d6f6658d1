package provenance

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/gpuplan/gpuplan/cost"
	"github.com/gpuplan/gpuplan/cost/guide"
	"github.com/gpuplan/gpuplan/engine"
	"github.com/gpuplan/gpuplan/hardware"
	"github.com/gpuplan/gpuplan/model"
)

// root is the repository root, relative to this package's directory.
const root = "../.."

// gitRef is a file of a public GitHub repository pinned to a commit, the
// form model/data/catalog.json uses in config_fields_source.
var gitRef = regexp.MustCompile(`^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+ · [^ ]+ · [0-9a-f]{40}$`)

// resolve reports why ref does not resolve, or "" when it does. A ref is
// one citation, possibly followed by a description; callers split
// "; "-joined key lists first.
func resolve(ref string) string {
	ref = strings.TrimSpace(ref)
	switch {
	case ref == "":
		return "empty"
	case strings.HasPrefix(ref, "https://"), strings.HasPrefix(ref, "http://"):
		// A URL, possibly followed by a description.
		return ""
	case gitRef.MatchString(ref):
		return ""
	}
	// A file in this repository, optionally followed by a description:
	// "docs/sources.md#seed" or "model/data/configs/x.json (verbatim ...)".
	path, anchor, _ := strings.Cut(strings.Fields(ref)[0], "#")
	if strings.HasPrefix(path, "/") || strings.Contains(path, "..") {
		return "not a path inside the repository"
	}
	b, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(path)))
	if err != nil {
		return "neither a URL nor a file in this repository: " + err.Error()
	}
	if anchor != "" && !hasAnchor(string(b), anchor) {
		return "no heading in " + path + " has the anchor #" + anchor
	}
	return ""
}

// hasAnchor reports whether a Markdown document has a heading whose GitHub
// anchor (lower case, punctuation dropped, spaces to hyphens) is anchor.
func hasAnchor(doc, anchor string) bool {
	for _, line := range strings.Split(doc, "\n") {
		if !strings.HasPrefix(line, "#") {
			continue
		}
		h := strings.ToLower(strings.TrimSpace(strings.TrimLeft(line, "#")))
		var b strings.Builder
		for _, r := range h {
			switch {
			case r == ' ':
				b.WriteRune('-')
			case r == '-' || r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r > 127:
				b.WriteRune(r)
			}
		}
		if b.String() == anchor {
			return true
		}
	}
	return false
}

func TestResolve(t *testing.T) {
	for _, tc := range []struct {
		ref string
		ok  bool
	}{
		{"https://learn.microsoft.com/azure/aks/use-nvidia-gpu", true},
		{"huggingface/transformers · src/x.py · 008e574391258935f3ecc3035c882e73bbcac419", true},
		{"docs/sources.md#seed", true},
		{"docs/sources.md#no-such-section", false},
		{"docs/hardware.md#cuda-visible-memory", true},
		{"shared/reference/azure-facts.md", false},
		{"../shared/reference/azure-facts.md", false},
		{"azure-facts", false},
		{"", false},
		{"owner/repo · path · abc", false},
	} {
		if got := resolve(tc.ref) == ""; got != tc.ok {
			t.Errorf("resolve(%q) = %q, want ok=%v", tc.ref, resolve(tc.ref), tc.ok)
		}
	}
}

// citation is one source reference and where it was found.
type citation struct{ where, ref string }

func citations(t *testing.T) []citation {
	t.Helper()
	var out []citation
	add := func(where, refs string) {
		for _, r := range strings.Split(refs, "; ") {
			out = append(out, citation{where, r})
		}
	}
	// A source key must carry a URL or, failing that, a repository file.
	key := func(where, url, ref string) {
		if url != "" {
			add(where+" url", url)
		}
		if ref != "" || url == "" {
			add(where+" ref", ref)
		}
	}
	for _, s := range hardware.Default().Sources() {
		key("hardware/data/sources.yaml "+s.Key, s.URL, s.Ref)
	}
	for _, s := range cost.Default().Sources() {
		key("cost/data/azure-openai.yaml "+s.Key, s.URL, s.Ref)
	}
	_, seed, err := guide.SeedRows()
	if err != nil {
		t.Fatal(err)
	}
	key("cost/guide/data/seed-guide.yaml "+seed.Key, seed.URL, seed.Ref)
	for _, s := range engine.KernelSources() {
		key("engine/data/kernels.yaml "+s.Key, s.URL, "")
	}
	for _, s := range engine.ImageSources() {
		key("engine/data/images.yaml "+s.Key, s.URL, "")
	}
	c, err := model.EmbeddedCatalog()
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range c.Entries() {
		w := "model/data/catalog.json " + e.ID
		add(w+" source", e.Source)
		if e.CardSource != "" {
			add(w+" card_source", e.CardSource)
		}
		if e.ConfigCopy != nil && e.ConfigCopy.PageURL != "" {
			add(w+" config_copy.page_url", e.ConfigCopy.PageURL)
		}
		if q := e.Quantization; q != nil {
			add(w+" quantization.source", q.Source)
		}
		// Field sources are prose that starts with the citation.
		for _, fs := range e.ConfigFieldsSource {
			out = append(out, citation{w + " config_fields_source", fs.Source})
		}
	}
	return out
}

// TestSourcesResolve checks every source reference of the embedded data.
func TestSourcesResolve(t *testing.T) {
	cs := citations(t)
	if len(cs) < 100 {
		t.Fatalf("only %d citations collected; a loader lost its sources", len(cs))
	}
	for _, c := range cs {
		if why := resolve(c.ref); why != "" {
			t.Errorf("%s: %q: %s", c.where, c.ref, why)
		}
	}
}

// TestNoUnshippedPaths checks that no embedded data file, no non-test Go
// file and no golden output (what the tool prints) names the project's
// unshipped reference notes: a user of gpuplan does not have them.
func TestNoUnshippedPaths(t *testing.T) {
	bad := regexp.MustCompile(`shared/reference|\.\./shared/`)
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			if d.Name() == ".git" || d.Name() == "node_modules" {
				return filepath.SkipDir
			}
			return nil
		}
		isGo := strings.HasSuffix(rel, ".go")
		data := strings.Contains(rel, "/data/") || strings.Contains(rel, "/testdata/")
		if (isGo && strings.HasSuffix(rel, "_test.go")) || (!isGo && !data) {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if loc := bad.FindIndex(b); loc != nil {
			line := 1 + strings.Count(string(b[:loc[0]]), "\n")
			t.Errorf("%s:%d names an unshipped reference path (%s); cite the public page or a file in this repository (docs/sources.md)", rel, line, b[loc[0]:loc[1]])
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
