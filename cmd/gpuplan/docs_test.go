package main

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/gpuplan/gpuplan/dtype"
	"github.com/gpuplan/gpuplan/engine"
	"github.com/gpuplan/gpuplan/hardware"
	"github.com/gpuplan/gpuplan/internal/golden"
)

// TestCLIDocListsEverything keeps docs/cli.md's enumerations equal to what
// the code knows: every precision and alias, engine, KV dtype and GPU id,
// and the generated GPU table (rewritten with -update).
func TestCLIDocListsEverything(t *testing.T) {
	const path = "../../docs/cli.md"
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	for _, p := range dtype.PrecisionNames() {
		if !strings.Contains(doc, "`"+p+"`") {
			t.Errorf("docs/cli.md does not list precision %q", p)
		}
	}
	for _, a := range dtype.PrecisionAliases() {
		if !strings.Contains(doc, "`"+a[0]+"`") {
			t.Errorf("docs/cli.md does not list precision alias %q", a[0])
		}
	}
	for _, e := range engine.All() {
		if !strings.Contains(doc, "`"+e.Info().EngineName) {
			t.Errorf("docs/cli.md does not list engine %q", e.Info().EngineName)
		}
	}
	for _, k := range dtype.KVDTypes() {
		if !strings.Contains(doc, "`"+string(k)+"`") {
			t.Errorf("docs/cli.md does not list KV dtype %q", k)
		}
	}
	var tbl bytes.Buffer
	tbl.WriteString("| `--gpu` id | chip | datasheet memory | CUDA-visible memory | aliases |\n|---|---|---|---|---|\n")
	for _, g := range hardware.GPUs() {
		cuda := "unknown"
		if g.CUDAMemory > 0 {
			cuda = fmt.Sprintf("%.2f GiB", g.CUDAMemory.GiB())
			if g.CUDAMemoryEstimated {
				cuda += " (estimated)"
			} else {
				cuda += " (measured)"
			}
		}
		fmt.Fprintf(&tbl, "| `%s` | %s | %.0f GB | %s | %s |\n", g.ID, g.Name, g.DatasheetMemory.GB(), cuda, strings.Join(g.Aliases, ", "))
	}
	golden.Section(t, path, "gpus", tbl.String(), *update)
}

// TestSecurityDocNamesRealTests: every test docs/security.md cites as the
// proof of a rule exists, so the page cannot point at a test that was
// renamed or removed.
func TestSecurityDocNamesRealTests(t *testing.T) {
	doc, err := os.ReadFile("../../docs/security.md")
	if err != nil {
		t.Fatal(err)
	}
	var sources strings.Builder
	err = filepath.WalkDir("../..", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && strings.HasPrefix(d.Name(), ".") && p != "../.." {
			return filepath.SkipDir
		}
		if strings.HasSuffix(p, "_test.go") {
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			sources.Write(b)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	all := sources.String()
	names := regexp.MustCompile("`((?:Test|Fuzz)[A-Za-z0-9_]+)`").FindAllStringSubmatch(string(doc), -1)
	if len(names) < 20 {
		t.Fatalf("docs/security.md cites %d tests; expected its rules to name their tests", len(names))
	}
	for _, m := range names {
		if !strings.Contains(all, "func "+m[1]+"(") {
			t.Errorf("docs/security.md cites %s, which no test file defines", m[1])
		}
	}
}
