package main

import (
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/gpuplan/gpuplan/deploy"
	"github.com/gpuplan/gpuplan/dtype"
	"github.com/gpuplan/gpuplan/hardware"
	"github.com/gpuplan/gpuplan/model"
)

// Value completion for the enum flags and the MODEL argument. The choices
// come from the registries that validate the same values (the hardware
// catalog, dtype's precisions, deploy's targets, the model catalog; --engine
// completes from the engine registry in engineflag.go), so completion
// cannot offer what the command refuses.

// valueChoices maps a flag name to the function listing its values. A
// flag takes a comma-separated list where its help says so; completion
// then works on the part after the last comma.
var valueChoices = map[string]func(cmd *cobra.Command) []string{
	"gpu": func(*cobra.Command) []string {
		var out []string
		for _, g := range hardware.Default().GPUs() {
			out = append(out, g.ID)
		}
		return out
	},
	"vm": func(*cobra.Command) []string {
		var out []string
		for _, v := range hardware.Default().VMSizes() {
			out = append(out, v.Name)
		}
		for _, v := range hardware.DefaultCPUs().SortedVMs() {
			out = append(out, v.Name)
		}
		return out
	},
	"region": func(*cobra.Command) []string { return hardware.Default().Prices().Regions() },
	"precision": func(cmd *cobra.Command) []string {
		var out []string
		if cmd.Name() == "plan" {
			out = append(out, "auto", "any")
		}
		for _, p := range dtype.Precisions() {
			out = append(out, p.Name)
		}
		return out
	},
	"kv-dtype": func(*cobra.Command) []string {
		return []string{string(dtype.KVAuto), string(dtype.KVBF16), string(dtype.KVFP16), string(dtype.KVFP8)}
	},
	"target": func(*cobra.Command) []string {
		var out []string
		for _, t := range deploy.Targets() {
			out = append(out, string(t))
		}
		return out
	},
}

// modelArgCommands take a catalog model as their first argument.
var modelArgCommands = map[string]bool{"size": true, "perf": true, "plan": true, "deploy": true}

// catalogModelIDs lists the embedded catalog's Hugging Face ids.
func catalogModelIDs() []string {
	cat, err := model.EmbeddedCatalog()
	if err != nil {
		return nil
	}
	var out []string
	for _, e := range cat.Entries() {
		out = append(out, e.ID)
	}
	sort.Strings(out)
	return out
}

// completeFrom offers the choices that extend toComplete, after the last
// comma when the value is a list.
func completeFrom(choices []string, toComplete string) ([]string, cobra.ShellCompDirective) {
	prefix, last := "", toComplete
	if i := strings.LastIndex(toComplete, ","); i >= 0 {
		prefix, last = toComplete[:i+1], toComplete[i+1:]
	}
	var out []string
	for _, c := range choices {
		if strings.HasPrefix(strings.ToLower(c), strings.ToLower(last)) {
			out = append(out, prefix+c)
		}
	}
	return out, cobra.ShellCompDirectiveNoFileComp
}

// registerValueCompletions adds the value completions of c's flags and,
// for the model commands, of MODEL.
func registerValueCompletions(c *cobra.Command) {
	for name, list := range valueChoices {
		if c.LocalFlags().Lookup(name) == nil {
			continue
		}
		_ = c.RegisterFlagCompletionFunc(name, func(cmd *cobra.Command, _ []string, toComplete string) ([]string, cobra.ShellCompDirective) {
			return completeFrom(list(cmd), toComplete)
		})
	}
	if modelArgCommands[c.Name()] && c.Parent() != nil && c.Parent().Parent() == nil && c.ValidArgsFunction == nil {
		c.ValidArgsFunction = func(_ *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
			if len(args) > 0 {
				return nil, cobra.ShellCompDirectiveNoFileComp
			}
			// Local directories and GGUF files are models too: keep file
			// completion when nothing in the catalog matches.
			ids, _ := completeFrom(catalogModelIDs(), toComplete)
			if len(ids) == 0 {
				return nil, cobra.ShellCompDirectiveDefault
			}
			return ids, cobra.ShellCompDirectiveNoFileComp
		}
	}
}
