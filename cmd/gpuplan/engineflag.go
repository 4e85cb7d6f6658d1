package main

import (
	"github.com/spf13/cobra"

	"github.com/gpuplan/gpuplan/engine"
)

// addEngineFlag registers --engine with help and completions listing the
// registered engine profiles, so a new engine appears everywhere at once.
func addEngineFlag(cmd *cobra.Command, p *string) {
	cmd.Flags().StringVar(p, "engine", engine.Default().Info().EngineName, engine.Help())
	_ = cmd.RegisterFlagCompletionFunc("engine", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		var out []string
		for _, e := range engine.All() {
			i := e.Info()
			out = append(out, i.ID()+"\t"+i.Summary)
		}
		return out, cobra.ShellCompDirectiveNoFileComp
	})
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
