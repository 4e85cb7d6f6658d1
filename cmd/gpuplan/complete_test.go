package main

import (
	"slices"
	"strings"
	"testing"

	"github.com/gpuplan/gpuplan/deploy"
	"github.com/gpuplan/gpuplan/dtype"
	"github.com/gpuplan/gpuplan/engine"
	"github.com/gpuplan/gpuplan/hardware"
	"github.com/gpuplan/gpuplan/model"
)

// TestValueCompletion asks cobra's hidden __complete command, as the
// generated shell scripts do, for flag values and MODEL, and checks the
// answers against the registries that validate those values.
func TestValueCompletion(t *testing.T) {
	var gpuIDs, vmNames, precisions, engines []string
	for _, g := range hardware.Default().GPUs() {
		gpuIDs = append(gpuIDs, g.ID)
	}
	for _, v := range hardware.Default().VMSizes() {
		vmNames = append(vmNames, v.Name)
	}
	for _, p := range dtype.Precisions() {
		precisions = append(precisions, p.Name)
	}
	for _, e := range engine.All() {
		engines = append(engines, e.Info().ID())
	}
	var targets []string
	for _, tg := range deploy.Targets() {
		targets = append(targets, string(tg))
	}
	cat, err := model.EmbeddedCatalog()
	if err != nil {
		t.Fatal(err)
	}
	var modelIDs []string
	for _, e := range cat.Entries() {
		modelIDs = append(modelIDs, e.ID)
	}
	tests := []struct {
		name string
		args []string
		want []string // every one offered
		only string   // every offer starts with this, when set
	}{
		{"size --gpu", []string{"size", "--gpu", ""}, gpuIDs, ""},
		{"size --gpu prefix", []string{"size", "--gpu", "h1"}, []string{"h100-sxm", "h100-nvl"}, "h1"},
		{"plan --gpu list", []string{"plan", "m", "--gpu", "a10,h1"}, []string{"a10,h100-sxm"}, "a10,h1"},
		{"size --engine", []string{"size", "--engine", ""}, engines, ""},
		{"size --precision", []string{"size", "--precision", ""}, precisions, ""},
		{"plan --precision adds auto and any", []string{"plan", "m", "--precision", ""}, append([]string{"auto", "any"}, precisions...), ""},
		{"plan --vm", []string{"plan", "m", "--vm", ""}, vmNames, ""},
		{"deploy --target", []string{"deploy", "--target", ""}, targets, ""},
		{"size --kv-dtype", []string{"size", "--kv-dtype", ""}, []string{"auto", "bf16", "fp16", "fp8"}, ""},
		{"size MODEL", []string{"size", ""}, modelIDs, ""},
		{"plan MODEL alias prefix", []string{"plan", "llama-3.1-8b-i"}, []string{"llama-3.1-8b-instruct"}, "llama-3.1-8b-i"},
		{"perf MODEL prefix", []string{"perf", "meta-llama/Llama-3.1-8"}, []string{"meta-llama/Llama-3.1-8B", "meta-llama/Llama-3.1-8B-Instruct"}, "meta-llama/Llama-3.1-8"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, errOut, code := run(t, append([]string{"__complete"}, tc.args...)...)
			if code != exitOK {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			lines := strings.Split(strings.TrimSpace(out), "\n")
			if len(lines) == 0 || !strings.HasPrefix(lines[len(lines)-1], ":") {
				t.Fatalf("no completion directive in %q", out)
			}
			if lines[len(lines)-1] != ":4" { // ShellCompDirectiveNoFileComp
				t.Errorf("directive %s, want :4 (no file completion)", lines[len(lines)-1])
			}
			var offers []string
			for _, l := range lines[:len(lines)-1] {
				id, _, _ := strings.Cut(l, "\t") // "value<TAB>description"
				offers = append(offers, id)
			}
			for _, w := range tc.want {
				if !slices.Contains(offers, w) {
					t.Errorf("%q not offered; got %d offers: %q", w, len(offers), offers)
				}
			}
			for _, o := range offers {
				if tc.only != "" && !strings.HasPrefix(strings.ToLower(o), strings.ToLower(tc.only)) {
					t.Errorf("offer %q does not extend %q", o, tc.only)
				}
			}
		})
	}
}
