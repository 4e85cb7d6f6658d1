package deploy

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gpuplan/gpuplan/hardware"
	"github.com/gpuplan/gpuplan/internal/testmodel"
	"github.com/gpuplan/gpuplan/plan"
)

// TestKAITOSKUListsMatchSources: each SKU list in data/kaito.yaml is the
// SKU table of the KAITO tag it starts at (testdata/kaito-skus, read from
// kaito-project/kaito at the commits named there).
func TestKAITOSKUListsMatchSources(t *testing.T) {
	k, err := KAITOPresets()
	if err != nil {
		t.Fatal(err)
	}
	if len(k.SKUs) == 0 {
		t.Fatal("no SKU lists")
	}
	for _, s := range k.SKUs {
		b, err := os.ReadFile(filepath.Join("testdata", "kaito-skus", "v"+s.From+".txt"))
		if err != nil {
			t.Fatal(err)
		}
		want := strings.Fields(string(b))
		got := slices.Clone(s.Sizes)
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Errorf("KAITO %s-%s sizes differ from the source list:\n got %v\nwant %v", s.From, s.To, got, want)
		}
		readme, _ := os.ReadFile(filepath.Join("testdata", "kaito-skus", "README.md"))
		if !strings.Contains(string(readme), s.Commit) {
			t.Errorf("KAITO %s list's commit %s is not in testdata/kaito-skus/README.md", s.From, s.Commit)
		}
	}
}

// TestKAITOSKUsByVersion: a T4 size is in KAITO 0.6.0's list (the AKS
// add-on's version) and not in 0.12.0's; the check follows
// --kaito-version, not today's list.
func TestKAITOSKUsByVersion(t *testing.T) {
	t4 := loadPlan(t, "qwen2.5-3b-t4")
	skuRefusal := func(ver string) string {
		_, err := Generate(t4, Options{Target: TargetKAITO, KAITOVersion: ver})
		var re *RefusedError
		if errors.As(err, &re) {
			for _, r := range re.Reasons {
				if strings.Contains(r, "SKU list") {
					return r
				}
			}
		}
		return ""
	}
	if r := skuRefusal("0.6.0"); r != "" {
		t.Errorf("KAITO 0.6.0 refuses %s: %s (the T4 sizes are in its list)", t4.VM, r)
	}
	if r := skuRefusal("0.9.0"); r != "" {
		t.Errorf("KAITO 0.9.0 refuses %s: %s", t4.VM, r)
	}
	r := skuRefusal("0.12.0")
	if !strings.Contains(r, "KAITO 0.12.0 cannot provision "+t4.VM) || !strings.Contains(r, "0894eb2b567d48cd2d66afe579acb1542b226af4") {
		t.Errorf("KAITO 0.12.0: refusal %q, want the SKU list and its commit", r)
	}
}

// TestCatalogKAITOFlagMatchesSKUTable: the hardware catalog's kaito flag
// (what `plan --target kaito` searches) says "yes" exactly for the sizes
// in the SKU table of the newest KAITO release deploy knows
// (testdata/kaito-skus, read from kaito-project/kaito). The NCC40ads H100
// size was flagged "no" although every KAITO release from v0.6.0 lists it.
func TestCatalogKAITOFlagMatchesSKUTable(t *testing.T) {
	k, err := KAITOPresets()
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join("testdata", "kaito-skus", "v"+k.Newest+".txt"))
	if err != nil {
		t.Fatal(err)
	}
	hw := hardware.Default()
	listed := map[string]bool{}
	for _, s := range strings.Fields(string(b)) {
		// KAITO spells some sizes differently (Standard_ND96asr_A100_v4):
		// the catalog resolves the alias.
		if v, err := hw.LookupVM(s); err == nil {
			listed[v.Name] = true
		}
	}
	if !listed["Standard_NCC40ads_H100_v5"] {
		t.Fatalf("KAITO %s's table should list Standard_NCC40ads_H100_v5", k.Newest)
	}
	for _, v := range hw.VMSizes() {
		if got, want := v.KAITO == hardware.Yes, listed[v.Name]; got != want {
			t.Errorf("%s: catalog kaito %q, but KAITO %s's SKU table lists it: %v", v.Name, v.KAITO, k.Newest, want)
		}
	}
}

// TestKAITOSourcesDefined: every key a version or preset cites is a source
// with a URL, and a message about a preset names the URL, not the key.
func TestKAITOSourcesDefined(t *testing.T) {
	k, err := KAITOPresets()
	if err != nil {
		t.Fatal(err)
	}
	if got := k.cite("kaito-tag-presets; kaito-catalog"); got != "https://github.com/kaito-project/kaito/tree/v0.6.2/presets/workspace/models, https://github.com/kaito-project/kaito/blob/037fb352/presets/workspace/models/model_catalog.yaml" {
		t.Errorf("cite = %q", got)
	}
	for _, tc := range []struct {
		name  string
		edit  func(c *KAITOCatalog)
		error string
	}{
		{"unknown preset key", func(c *KAITOCatalog) { c.Presets[0].Source = "kaito-nowhere" }, `cites "kaito-nowhere"`},
		{"second key unknown", func(c *KAITOCatalog) { c.Presets[0].Source = "kaito-catalog; nope" }, `cites "nope"`},
		{"version without source", func(c *KAITOCatalog) { delete(c.VersionSources, "addon") }, "version_sources.addon"},
		{"source without url", func(c *KAITOCatalog) { c.Sources[0].URL = "" }, "https url"},
	} {
		c := *k
		c.Presets = append([]KAITOPreset(nil), k.Presets...)
		c.Sources = append([]KAITOSource(nil), k.Sources...)
		c.VersionSources = map[string]string{}
		for f, v := range k.VersionSources {
			c.VersionSources[f] = v
		}
		tc.edit(&c)
		if err := c.checkSources(); err == nil || !strings.Contains(err.Error(), tc.error) {
			t.Errorf("%s: checkSources() = %v, want an error containing %q", tc.name, err, tc.error)
		}
	}
	if err := k.checkSources(); err != nil {
		t.Errorf("embedded catalog: %v", err)
	}
}

// TestKAITOPlansAndDeploysNCC40ads: with the catalog flag fixed, `plan
// --target kaito` offers the NCC40ads H100 size (priced in eastus2) and
// the KAITO Workspace deploy takes it as its instanceType.
func TestKAITOPlansAndDeploysNCC40ads(t *testing.T) {
	res, err := plan.Search(plan.Request{Model: testmodel.Spec(t, "llama-3.1-8b-instruct"), InputTokens: 1000, OutputTokens: 200, Concurrency: 8,
		Target: "kaito", VMs: []string{"Standard_NCC40ads_H100_v5"}, Regions: []string{"eastus2"}, Prices: hardware.Default().Prices(), CheckpointOnly: true})
	if err != nil || len(res.Rows) == 0 {
		t.Fatalf("plan --target kaito --vm Standard_NCC40ads_H100_v5: %v, %d rows", err, len(res.Rows))
	}
	c := res.Rows[0].Candidate
	c.GPUPlanVersion = "test"
	b, err := Generate(c, Options{Target: TargetKAITO, KAITOVersion: "0.12.0"})
	if err != nil {
		t.Fatal(err)
	}
	if ws := string(artifact(t, b, "30-workspace.yaml")); !strings.Contains(ws, "instanceType: Standard_NCC40ads_H100_v5") {
		t.Errorf("workspace lacks the NCC40ads instance type:\n%s", ws)
	}
}
