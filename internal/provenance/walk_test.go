package provenance

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

// dataFile is one embedded data file: a YAML, JSON or CSV file in a data/
// directory of a package.
type dataFile struct {
	rel string // slash path from the repository root
	pkg string // the package directory that embeds it ("hardware", "cost/guide")
	doc any    // decoded content; CSV files become a list of header-keyed maps
}

// dataFiles returns every embedded data file. Hugging Face config copies
// (model/data/configs) are third-party bytes kept verbatim, not the
// project's citations, and are left out.
func dataFiles(t *testing.T) []dataFile {
	t.Helper()
	var out []dataFile
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			switch d.Name() {
			case ".git", "node_modules", "testdata":
				return filepath.SkipDir
			}
			if rel == "model/data/configs" {
				return filepath.SkipDir
			}
			return nil
		}
		pkg, _, ok := strings.Cut(rel, "/data/")
		if !ok {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		var doc any
		switch filepath.Ext(rel) {
		case ".yaml", ".yml":
			j, err := yaml.YAMLToJSON(b)
			if err != nil {
				return fmt.Errorf("%s: %w", rel, err)
			}
			err = json.Unmarshal(j, &doc)
			if err != nil {
				return fmt.Errorf("%s: %w", rel, err)
			}
		case ".json":
			if err := json.Unmarshal(b, &doc); err != nil {
				return fmt.Errorf("%s: %w", rel, err)
			}
		case ".csv":
			recs, err := csv.NewReader(strings.NewReader(string(b))).ReadAll()
			if err != nil || len(recs) < 2 {
				return fmt.Errorf("%s: %v (need a header and rows)", rel, err)
			}
			var rows []any
			for _, r := range recs[1:] {
				m := map[string]any{}
				for i, h := range recs[0] {
					if i < len(r) {
						m[h] = r[i]
					}
				}
				rows = append(rows, m)
			}
			doc = rows
		default:
			return nil // prose (NOT_FOUND.md) is read by people, not cited
		}
		out = append(out, dataFile{rel: rel, pkg: pkg, doc: doc})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// isSourceField reports whether a field holds citations: source, sources,
// url, ref, and any *_source, *_sources or *_url.
func isSourceField(name string) bool {
	switch name {
	case "source", "sources", "url", "ref":
		return true
	}
	return strings.HasSuffix(name, "_source") || strings.HasSuffix(name, "_sources") || strings.HasSuffix(name, "_url")
}

// walk visits every citation in v: the values of source fields, split on
// "; ", with the JSON path where each was found. A source list's entries
// are registry rows ({key, url|ref, ...}); walk descends into them, so
// their url and ref are checked like any other citation.
func walk(v any, path string, visit func(path, ref string)) {
	switch x := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			p := path + "." + k
			if isSourceField(k) {
				citeValue(x[k], p, visit)
				continue
			}
			walk(x[k], p, visit)
		}
	case []any:
		for i, e := range x {
			walk(e, fmt.Sprintf("%s[%d]", path, i), visit)
		}
	}
}

// citeValue visits the citations a source field holds: a string (several
// joined with "; "), a list of strings, a map from field name to string
// (a GPU's per-field sources), or a list of registry rows.
func citeValue(v any, path string, visit func(path, ref string)) {
	switch x := v.(type) {
	case string:
		for _, r := range strings.Split(x, "; ") {
			visit(path, r)
		}
	case []any:
		for i, e := range x {
			p := fmt.Sprintf("%s[%d]", path, i)
			if s, ok := e.(string); ok {
				citeValue(s, p, visit)
				continue
			}
			walk(e, p, visit)
		}
	case map[string]any:
		walk(x, path, visit)
		for k, e := range x {
			if s, ok := e.(string); ok && !isSourceField(k) {
				citeValue(s, path+"."+k, visit)
			}
		}
	default:
		visit(path, fmt.Sprint(v))
	}
}

// registryKeys collects the source keys a package's data files define: any
// object with a "key" and a "url" or "ref" (the rows of a `sources:` list).
func registryKeys(files []dataFile) map[string]map[string]bool {
	keys := map[string]map[string]bool{}
	var find func(pkg string, v any)
	find = func(pkg string, v any) {
		switch x := v.(type) {
		case map[string]any:
			k, _ := x["key"].(string)
			_, url := x["url"]
			_, ref := x["ref"]
			if k != "" && (url || ref) {
				if keys[pkg] == nil {
					keys[pkg] = map[string]bool{}
				}
				keys[pkg][k] = true
			}
			for _, e := range x {
				find(pkg, e)
			}
		case []any:
			for _, e := range x {
				find(pkg, e)
			}
		}
	}
	for _, f := range files {
		find(f.pkg, f.doc)
	}
	return keys
}

// TestEveryDataFileCitesResolvableSources walks every embedded data file
// and checks every source field: each citation is a public URL, a pinned
// file of a public repository, a file (and section) of this repository, or
// a key that a `sources` list of the same package defines (whose url or
// ref is checked in turn). A data file with no source field at all fails
// too: its rows would carry figures without a source.
func TestEveryDataFileCitesResolvableSources(t *testing.T) {
	files := dataFiles(t)
	if len(files) < 15 {
		t.Fatalf("found only %d data files; the walk lost its way", len(files))
	}
	keys := registryKeys(files)
	total := 0
	for _, f := range files {
		n := 0
		walk(f.doc, "", func(path, ref string) {
			n++
			ref = strings.TrimSpace(ref)
			if keys[f.pkg][ref] {
				return
			}
			if why := resolve(ref); why != "" {
				t.Errorf("%s%s: %q: %s (and not a key of a sources list in %s/data)", f.rel, path, ref, why, f.pkg)
			}
		})
		if n == 0 {
			t.Errorf("%s has no source field (source, sources, url, ref, *_source, *_url); cite where its figures come from", f.rel)
		}
		total += n
	}
	if total < 3000 {
		t.Errorf("only %d citations in %d data files; a field was renamed away from the walk", total, len(files))
	}
}

func TestWalkFindsEverySourceShape(t *testing.T) {
	doc := map[string]any{
		"sources": []any{map[string]any{"key": "k", "url": "https://a", "title": "t"}},
		"rows": []any{
			map[string]any{"source": "k; https://b", "value": 1},
			map[string]any{"sources": map[string]any{"memory": "docs/sources.md#seed"}},
			map[string]any{"profiles_source": "https://c", "page_url": "https://d", "note": "https://not-a-citation"},
		},
	}
	var got []string
	walk(doc, "", func(path, ref string) { got = append(got, path+"="+ref) })
	sort.Strings(got)
	want := []string{
		".rows[0].source=https://b",
		".rows[0].source=k",
		".rows[1].sources.memory=docs/sources.md#seed",
		".rows[2].page_url=https://d",
		".rows[2].profiles_source=https://c",
		".sources[0].url=https://a",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("walk found\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if k := registryKeys([]dataFile{{pkg: "p", doc: doc}}); !k["p"]["k"] || len(k["p"]) != 1 {
		t.Errorf("registryKeys = %v, want p: {k}", k)
	}
}
