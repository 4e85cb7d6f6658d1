package main

import (
	"bytes"
	"fmt"
	"os"
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
	for _, k := range []dtype.KVDType{dtype.KVAuto, dtype.KVBF16, dtype.KVFP16, dtype.KVFP8} {
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
