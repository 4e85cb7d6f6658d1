package deploy

import (
	_ "embed"
	"fmt"
	"strconv"
	"strings"
	"sync"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	"github.com/gpuplan/gpuplan/dtype"
	"github.com/gpuplan/gpuplan/hardware"
)

//go:embed data/kaito.yaml
var kaitoYAML []byte

// KAITOPreset is one KAITO inference preset.
type KAITOPreset struct {
	Name string `json:"name"`
	// HFID is the Hugging Face repository the preset serves.
	HFID string `json:"hf_id"`
	// Since is the oldest KAITO release a source shows the preset in.
	Since string `json:"since"`
	// Gated models need the Hugging Face token (presetOptions.modelAccessSecret).
	Gated  bool   `json:"gated,omitempty"`
	Source string `json:"source"`
}

// KAITOCatalog is deploy/data/kaito.yaml: the KAITO versions deploy knows
// and the presets by version.
type KAITOCatalog struct {
	APIVersion    string        `json:"api_version"`
	Oldest        string        `json:"oldest"`
	Newest        string        `json:"newest"`
	Addon         string        `json:"addon"`
	HFIDsSince    string        `json:"hf_ids_since"`
	LegacyRemoved string        `json:"legacy_removed"`
	Presets       []KAITOPreset `json:"presets"`
	SKUs          []KAITOSKUs   `json:"skus"`
	// Sources are the pages the versions and presets cite by key.
	Sources []KAITOSource `json:"sources"`
	// VersionSources names the source key of each version field above
	// (oldest, newest, addon, hf_ids_since, legacy_removed).
	VersionSources map[string]string `json:"version_sources"`
}

// KAITOSource is a page deploy/data/kaito.yaml cites by key.
type KAITOSource struct {
	Key   string `json:"key"`
	Title string `json:"title"`
	URL   string `json:"url"`
}

// cite turns a source field ("key" or "key; key") into the URLs behind it,
// so messages name pages a user can open.
func (k *KAITOCatalog) cite(keys string) string {
	var urls []string
	for _, key := range strings.Split(keys, "; ") {
		for _, s := range k.Sources {
			if s.Key == key {
				urls = append(urls, s.URL)
			}
		}
	}
	return strings.Join(urls, ", ")
}

// checkSources verifies that every key a version or preset cites is a
// source with an https URL.
func (k *KAITOCatalog) checkSources() error {
	known := map[string]bool{}
	for _, s := range k.Sources {
		if s.Key == "" || s.Title == "" || !strings.HasPrefix(s.URL, "https://") {
			return fmt.Errorf("source %q needs a key, a title and an https url", s.Key)
		}
		known[s.Key] = true
	}
	for _, f := range []string{"oldest", "newest", "addon", "hf_ids_since", "legacy_removed"} {
		if !known[k.VersionSources[f]] {
			return fmt.Errorf("version_sources.%s is %q, not a key of sources", f, k.VersionSources[f])
		}
	}
	if len(k.VersionSources) != 5 {
		return fmt.Errorf("version_sources has %d entries; want oldest, newest, addon, hf_ids_since and legacy_removed", len(k.VersionSources))
	}
	for _, p := range k.Presets {
		for _, key := range strings.Split(p.Source, "; ") {
			if !known[key] {
				return fmt.Errorf("preset %s cites %q, not a key of sources", p.Name, key)
			}
		}
	}
	return nil
}

// KAITOSKUs is the list of Azure sizes KAITO can provision in the releases
// From to To, read from its SKU table at Commit.
type KAITOSKUs struct {
	From   string   `json:"from"`
	To     string   `json:"to"`
	Commit string   `json:"commit"`
	Sizes  []string `json:"sizes"`
}

// Source is the file the list was read from.
func (s KAITOSKUs) Source() string {
	return "https://github.com/kaito-project/kaito/blob/" + s.Commit + "/pkg/sku/azure_sku_handler.go"
}

// skusFor is the SKU list of KAITO release v.
func (k *KAITOCatalog) skusFor(v version) (KAITOSKUs, bool) {
	for _, s := range k.SKUs {
		from, _ := parseVersion(s.From)
		to, _ := parseVersion(s.To)
		if !v.less(from) && !to.less(v) {
			return s, true
		}
	}
	return KAITOSKUs{}, false
}

var kaitoOnce = sync.OnceValues(func() (*KAITOCatalog, error) {
	var c KAITOCatalog
	if err := yaml.UnmarshalStrict(kaitoYAML, &c); err != nil {
		return nil, fmt.Errorf("deploy/data/kaito.yaml: %w", err)
	}
	for _, v := range []string{c.Oldest, c.Newest, c.Addon, c.HFIDsSince, c.LegacyRemoved} {
		if _, err := parseVersion(v); err != nil {
			return nil, fmt.Errorf("deploy/data/kaito.yaml: %w", err)
		}
	}
	for _, s := range c.SKUs {
		_, e1 := parseVersion(s.From)
		_, e2 := parseVersion(s.To)
		if e1 != nil || e2 != nil || len(s.Commit) != 40 || len(s.Sizes) == 0 {
			return nil, fmt.Errorf("deploy/data/kaito.yaml: SKU list %s-%s needs versions, a 40-digit commit and sizes", s.From, s.To)
		}
	}
	for _, p := range c.Presets {
		if _, err := parseVersion(p.Since); err != nil || p.Name == "" || p.HFID == "" || p.Source == "" {
			return nil, fmt.Errorf("deploy/data/kaito.yaml: preset %q needs name, hf_id, a since version and a source", p.Name)
		}
	}
	if err := c.checkSources(); err != nil {
		return nil, fmt.Errorf("deploy/data/kaito.yaml: %w", err)
	}
	return &c, nil
})

// KAITOPresets returns the embedded KAITO catalog.
func KAITOPresets() (*KAITOCatalog, error) { return kaitoOnce() }

// version is a KAITO release number.
type version [3]int

func parseVersion(s string) (version, error) {
	var v version
	t := strings.TrimPrefix(strings.TrimSpace(s), "v")
	parts := strings.Split(t, ".")
	if len(parts) < 2 || len(parts) > 3 {
		return v, fmt.Errorf("KAITO version %q: want MAJOR.MINOR[.PATCH] such as 0.6.0", s)
	}
	for i, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 || n > 999 {
			return v, fmt.Errorf("KAITO version %q: want MAJOR.MINOR[.PATCH] such as 0.6.0", s)
		}
		v[i] = n
	}
	return v, nil
}

func (v version) less(o version) bool {
	for i := range v {
		if v[i] != o[i] {
			return v[i] < o[i]
		}
	}
	return false
}

func (v version) String() string { return fmt.Sprintf("%d.%d.%d", v[0], v[1], v[2]) }

// inSKUList reports whether the deployment's VM size is one of sizes,
// matched through the catalog so aliases count (KAITO spells
// Standard_ND96asr_v4 as Standard_ND96asr_A100_v4).
func (d *bundleBuilder) inSKUList(sizes []string) bool {
	for _, s := range sizes {
		if strings.EqualFold(s, d.vm.Name) {
			return true
		}
		if v, err := d.hw.LookupVM(s); err == nil && v.Name == d.vm.Name {
			return true
		}
	}
	return false
}

// presetFor finds the preset serving modelID (or named name).
func (k *KAITOCatalog) presetFor(modelID, name string) (KAITOPreset, bool) {
	for _, p := range k.Presets {
		if name != "" && strings.EqualFold(p.Name, name) {
			return p, true
		}
		if name == "" && strings.EqualFold(p.HFID, modelID) {
			return p, true
		}
	}
	return KAITOPreset{}, false
}

func (d *bundleBuilder) buildKAITO() error {
	k, err := KAITOPresets()
	if err != nil {
		return err
	}
	vs := d.o.KAITOVersion
	if vs == "" {
		vs = k.Addon
	}
	ver, err := parseVersion(vs)
	if err != nil {
		return invalid("--kaito-version: %v", err)
	}
	oldest, _ := parseVersion(k.Oldest)
	newest, _ := parseVersion(k.Newest)
	if ver.less(oldest) || newest.less(ver) {
		return invalid("--kaito-version %s: deploy knows KAITO %s to %s (the AKS add-on runs %s)", ver, oldest, newest, k.Addon)
	}
	hfSince, _ := parseVersion(k.HFIDsSince)
	legacyGone, _ := parseVersion(k.LegacyRemoved)

	if rt := d.eng.Info().KAITORuntime; rt == "" {
		d.refuse("KAITO presets do not run %s: re-plan with --engine vllm, or use --target aks", d.eng.Info().DisplayName)
	}
	skus, known := k.skusFor(ver)
	switch {
	case d.gpu.Vendor == hardware.VendorAMD:
		d.refuse("KAITO cannot provision %s: AMD GPU sizes are not a supported KAITO instanceType (https://learn.microsoft.com/azure/aks/ai-toolchain-operator)", d.vm.Name)
	case !known:
		d.refuse("deploy has no KAITO %s SKU list to check %s against (deploy/data/kaito.yaml)", ver, d.vm.Name)
	case !d.inSKUList(skus.Sizes):
		d.refuse("KAITO %s cannot provision %s: it is not in that release's Azure SKU list (%s)", ver, d.vm.Name, skus.Source())
	}
	if d.c.Engine.Quantization != "" && d.c.Engine.Checkpoint == string(dtype.CheckpointRuntime) {
		d.refuse("the plan quantizes at load (%s %s); a KAITO preset serves its checkpoint as released and its inference ConfigMap here sets only max-model-len and gpu-memory-utilization: re-plan with the checkpoint's precision, or use --target aks", d.eng.Info().AtLoadFlag, d.c.Engine.Quantization)
	}
	if d.o.ImageArch != "" || d.o.Image != "" {
		d.note("--image/--image-arch do not apply to KAITO: KAITO runs its own preset images.")
	}

	// Preset name: a known preset, or the Hugging Face id where the
	// version accepts ids.
	preset, known := k.presetFor(d.c.Model.ID, d.o.KAITOPreset)
	if d.o.KAITOPreset != "" && !known {
		if ver.less(hfSince) {
			d.refuse("KAITO %s has no preset %q in the sources read (known: %s)", ver, d.o.KAITOPreset, presetNames(k, ver))
			return nil
		}
		preset = KAITOPreset{Name: d.o.KAITOPreset, HFID: d.o.KAITOPreset}
	}
	presetName := preset.Name
	gated := preset.Gated
	switch {
	case known:
		since, _ := parseVersion(preset.Since)
		if ver.less(since) {
			d.refuse("the %s preset first appears in KAITO %s in the sources read (%s); pass --kaito-version %s or newer", preset.Name, since, k.cite(preset.Source), since)
		}
		if !ver.less(legacyGone) {
			// From 0.11.0 presets are named by their catalog (Hugging Face) id.
			presetName = preset.HFID
		}
	case d.o.KAITOPreset == "":
		if ver.less(hfSince) {
			d.refuse("%s is not a KAITO %s preset (known: %s); Hugging Face ids as preset names need KAITO %s or newer (pass --kaito-version)", d.c.Model.ID, ver, presetNames(k, ver), hfSince)
			return nil
		}
		presetName = d.c.Model.ID
		gated = true // unknown: pass the token; KAITO downloads the weights at run time
		d.note("%s is not a curated KAITO preset: KAITO %s serves Hugging Face ids on a best-effort basis (%s).", d.c.Model.ID, ver, k.cite(k.VersionSources["hf_ids_since"]))
	}
	if len(d.refusals) > 0 {
		return nil
	}

	cmName := d.name + "-inference-config"
	cfg := fmt.Sprintf("%s:\n  gpu-memory-utilization: %s\n  max-model-len: %d\n",
		d.eng.Info().KAITORuntime, strconv.FormatFloat(d.c.Engine.GPUMemoryUtilization, 'f', -1, 64), d.c.Engine.MaxModelLen)
	cm := &corev1.ConfigMap{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"},
		ObjectMeta: d.meta(cmName),
		Data:       map[string]string{"inference_config.yaml": cfg},
	}
	ws := &Workspace{
		TypeMeta:   metav1.TypeMeta{APIVersion: k.APIVersion, Kind: "Workspace"},
		ObjectMeta: withAnnotations(d.meta(d.name), d.annotations()),
		Resource: WorkspaceResource{
			InstanceType:  d.vm.Name,
			LabelSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"apps": d.name}},
		},
		Inference: &WorkspaceInference{
			Preset: &WorkspacePreset{Name: presetName},
			Config: cmName,
		},
	}
	if d.c.NodesPerReplica > 1 {
		n := int32(d.c.NodesPerReplica)
		ws.Resource.Count = &n
	}
	if gated {
		ws.Inference.Preset.PresetOptions = &PresetOptions{ModelAccessSecret: d.o.HFTokenSecret}
	}

	d.kaitoScript(ver.String() == k.Addon, gated)
	ns, err := marshalObjects(nil, d.namespaceObject())
	if err != nil {
		return err
	}
	d.add("10-namespace.yaml", KindKubernetes, ns)
	cmb, err := marshalObjects([]string{"vLLM settings KAITO passes to the engine (inference_config.yaml), from the plan."}, cm)
	if err != nil {
		return err
	}
	d.add("20-inference-config.yaml", KindKubernetes, cmb)
	wsb, err := marshalObjects([]string{
		fmt.Sprintf("KAITO %s Workspace: %s on %s (preset %s).", ver, d.c.Model.ID, d.vm.Name, presetName),
	}, ws)
	if err != nil {
		return err
	}
	d.add("30-workspace.yaml", KindKubernetes, wsb)

	d.note("KAITO chooses tensor parallelism from the node's GPUs (%d x %s); the plan's TP %d x PP %d is not passed.", d.vm.GPUCount, d.gpu.Name, d.c.Engine.TP, d.c.Engine.PP)
	if d.c.Replicas > 1 {
		d.note("A Workspace runs one inference instance; the plan has %d replicas: apply one Workspace per replica (change metadata.name), or use an InferenceSet on KAITO 0.11.0 or newer.", d.c.Replicas)
	}
	d.note("KAITO provisions the %s node itself (node auto-provisioning); machine readiness can take up to 10 minutes and workspace readiness up to 20 (https://learn.microsoft.com/azure/aks/ai-toolchain-operator).", d.vm.Name)
	return nil
}

func presetNames(k *KAITOCatalog, ver version) string {
	var names []string
	for _, p := range k.Presets {
		if s, _ := parseVersion(p.Since); !ver.less(s) {
			names = append(names, p.Name)
		}
	}
	return strings.Join(names, ", ")
}

// kaitoScript enables the AKS add-on (KAITO 0.6.0) and creates the token
// Secret; flags are listed in testdata/azure-reference.yaml.
func (d *bundleBuilder) kaitoScript(addon, gated bool) {
	var b strings.Builder
	b.WriteString("#!/usr/bin/env bash\n")
	commentf(&b, "# ", "KAITO for %s on %s. Generated by gpuplan deploy; review before running.", d.c.Model.ID, d.vm.Name)
	b.WriteString("set -euo pipefail\n\n")
	if addon {
		writeShellVar(&b, "RESOURCE_GROUP", d.o.ResourceGroup, "the resource group of the AKS cluster")
		writeShellVar(&b, "CLUSTER_NAME", d.o.ClusterName, "the AKS cluster name")
		b.WriteString("\n# The AI toolchain operator add-on runs KAITO 0.6.0 (Azure CLI 2.76.0 or later; https://learn.microsoft.com/azure/aks/ai-toolchain-operator).\n")
		b.WriteString("az aks update \\\n  --resource-group \"$RESOURCE_GROUP\" \\\n  --name \"$CLUSTER_NAME\" \\\n  --enable-ai-toolchain-operator \\\n  --enable-oidc-issuer\n\n")
	} else {
		b.WriteString("# This KAITO version is not the AKS add-on's (0.6.0): install it with the KAITO Helm chart\n")
		b.WriteString("# (kaito-project/kaito, charts/kaito/workspace) before applying the Workspace.\n\n")
	}
	fmt.Fprintf(&b, "kubectl create namespace %s --dry-run=client -o yaml | kubectl apply -f -\n", d.namespace)
	if gated {
		fmt.Fprintf(&b, "# Hugging Face token for the model download (key %s, read from your shell, never stored here).\n", HFTokenKey)
		b.WriteString("if [[ -z \"${HF_TOKEN:-}\" ]]; then echo \"set HF_TOKEN: the model is downloaded at run time\" >&2; exit 1; fi\n")
		fmt.Fprintf(&b, "kubectl create secret generic %s --namespace %s \\\n  --from-literal=%s=\"$HF_TOKEN\" --dry-run=client -o yaml | kubectl apply -f -\n", d.o.HFTokenSecret, d.namespace, HFTokenKey)
	}
	d.add("00-kaito.sh", KindShell, []byte(b.String()))
}
