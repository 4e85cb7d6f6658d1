package main

import (
	"slices"
	"sort"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/gpuplan/gpuplan/model"
)

// Value completion for the enum flags and the MODEL argument. The choices
// come from the registries that validate the same values (enumflag.go:
// the engine registry, the hardware catalog, dtype's precisions, deploy's
// targets; the model catalog for MODEL), so completion cannot offer what
// the command refuses.

// enumByName gives flags that are not enum flags but take the same values
// (bench's calibration keys, prices refresh --vm) the same completion.
var enumByName = map[string]enum{
	"engine": engineEnum, "gpu": gpuEnum, "vm": vmEnum, "region": regionEnum,
	"precision": precisionEnum, "kv-dtype": kvDTypeEnum, "target": targetEnum,
}

// modelArgCommands take a catalog model as their first argument.
var modelArgCommands = map[string]bool{"size": true, "perf": true, "plan": true, "deploy": true}

// catalogModelIDs lists the embedded catalog's Hugging Face ids.
func catalogModelIDs() []string {
	cat, err := model.EmbeddedCatalog()
	if err != nil {
		return nil
	}
	// Aliases too: the README and most users type llama-3.1-8b-instruct,
	// not meta-llama/Llama-3.1-8B-Instruct.
	var out []string
	for _, e := range cat.Entries() {
		out = append(out, e.ID)
		out = append(out, e.Aliases...)
	}
	sort.Strings(out)
	return slices.Compact(out)
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
	c.LocalFlags().VisitAll(func(fl *pflag.Flag) {
		var ef *enumFlag
		switch v := fl.Value.(type) {
		case *enumFlag:
			ef = v
		default:
			e, ok := enumByName[fl.Name]
			if !ok {
				return
			}
			ef = &enumFlag{enum: e}
		}
		_ = c.RegisterFlagCompletionFunc(fl.Name, func(_ *cobra.Command, _ []string, toComplete string) ([]string, cobra.ShellCompDirective) {
			return completeFrom(ef.offers(), toComplete)
		})
	})
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
