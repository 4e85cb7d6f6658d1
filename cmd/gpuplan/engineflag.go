package main

import (
	"github.com/spf13/cobra"

	"github.com/gpuplan/gpuplan/engine"
)

// addEngineFlag registers --engine with help listing the registered
// engine profiles, so a new engine appears everywhere at once; its
// completions (engineCompletions) are registered by registerCompletions.
func addEngineFlag(cmd *cobra.Command, p *string) {
	cmd.Flags().StringVar(p, "engine", engine.Default().Info().EngineName, engine.Help())
	// The API's OpenAPI schema lists the values, so the web page offers
	// the registered engines without knowing any of them.
	_ = cmd.Flags().SetAnnotation("engine", enumAnnotation, append(engine.Names(), engine.IDs()...))
}

// enumAnnotation marks a flag's closed set of values for the API schema.
const enumAnnotation = "gpuplan_enum"

// engineCompletions offers every registered profile with its summary.
func engineCompletions(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
	var out []string
	for _, e := range engine.All() {
		i := e.Info()
		out = append(out, i.ID()+"\t"+i.Summary)
	}
	return out, cobra.ShellCompDirectiveNoFileComp
}

// lookupEngine resolves --engine; an unknown name is a usage error that
// lists the registered profiles.
func lookupEngine(s string) (engine.Engine, error) {
	e, err := engine.Lookup(s)
	if err != nil {
		return nil, usageErr(err)
	}
	return e, nil
}
