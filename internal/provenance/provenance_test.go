package provenance

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// root is the repository root, relative to this package's directory.
const root = "../.."

// gitRef is a file of a public GitHub repository pinned to a commit
// ("owner/repo · path · commit").
var gitRef = regexp.MustCompile(`^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+ · [^ ]+ · [0-9a-f]{40}$`)

// resolve reports why ref does not resolve, or "" when it does. A ref is
// one citation: a URL (possibly followed by words), a pinned repository
// file, or a file of this repository with an optional #section; callers
// split "; "-joined lists first.
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

// bareDoc is a hyphenated Markdown file name with no path, as a printed
// note would cite a Microsoft Learn source file ("(use-nvidia-gpu.md)").
var bareDoc = regexp.MustCompile(`[ (][a-z0-9]+(-[a-z0-9]+)+\.md\b`)

// TestNoUnshippedPaths checks that no embedded data file, no non-test Go
// file, no golden output (what the tool prints) and no document (docs/,
// README.md) names the project's unshipped reference notes: a user of
// gpuplan does not have them.
func TestNoUnshippedPaths(t *testing.T) {
	// The notes' own file names count too: "see prior-art.md" sends a
	// reader to a file they cannot open.
	bad := regexp.MustCompile(`shared/reference|\.\./shared/|\b(azure-facts|prior-art|go-dependencies|azure-gpu-prices|azure-cpu-vms)\.md\b|\b(measurements-dev|cpu-llm-measurements-dev|h200-groundtruth|h200-moe-decode)\.(json|py)\b`)
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
		doc := strings.HasSuffix(rel, ".md") && (strings.HasPrefix(rel, "docs/") || !strings.Contains(rel, "/"))
		if (isGo && strings.HasSuffix(rel, "_test.go")) || (!isGo && !data && !doc) {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		// Goldens are what the tool prints: a bare documentation file name
		// there ("(use-amd-gpus.md)") is a page the reader cannot open;
		// print its public URL.
		if strings.Contains(rel, "/testdata/") {
			if loc := bareDoc.FindIndex(b); loc != nil {
				line := 1 + strings.Count(string(b[:loc[0]]), "\n")
				t.Errorf("%s:%d prints a bare document name (%s); print the page's public URL", rel, line, b[loc[0]:loc[1]])
			}
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
