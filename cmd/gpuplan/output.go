package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"sigs.k8s.io/yaml"
)

// outputFormat is the value of -o/--output.
type outputFormat string

const (
	formatTable outputFormat = "table"
	formatJSON  outputFormat = "json"
	formatYAML  outputFormat = "yaml"
)

// addOutputFlag registers -o/--output on a command that prints results.
func addOutputFlag(cmd *cobra.Command, f *outputFormat) {
	*f = formatTable
	cmd.Flags().VarP((*outputFlag)(f), "output", "o", "output format: table, json or yaml")
}

// registerCompletions adds the flag value completions to the tree under
// root. Only a shell-completion run needs them, and cobra keeps them in a
// package-level map keyed by *pflag.Flag that is never cleared, so the
// API server, which builds a tree per request, must not register them
// (TestAPIHeapStaysFlat: 69 MB of growth per 20,000 requests otherwise).
func registerCompletions(root *cobra.Command) {
	formats := func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return []string{"table", "json", "yaml"}, cobra.ShellCompDirectiveNoFileComp
	}
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		if c.LocalFlags().Lookup("output") != nil {
			_ = c.RegisterFlagCompletionFunc("output", formats)
		}
		registerValueCompletions(c)
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
}

// isCompletionRun reports whether args ask cobra for shell completions
// (the hidden __complete commands the generated scripts call).
func isCompletionRun(args []string) bool {
	return len(args) > 0 && (args[0] == cobra.ShellCompRequestCmd || args[0] == cobra.ShellCompNoDescRequestCmd)
}

type outputFlag outputFormat

func (o *outputFlag) String() string { return string(*o) }
func (o *outputFlag) Type() string   { return "format" }
func (o *outputFlag) Set(s string) error {
	switch outputFormat(strings.ToLower(s)) {
	case formatTable, formatJSON, formatYAML:
		*o = outputFlag(strings.ToLower(s))
		return nil
	}
	return fmt.Errorf("unknown output format %q (use table, json or yaml)", s)
}

// render writes v as JSON or YAML, or calls table for the human format.
// JSON and YAML come from the same json tags, so field names match.
func render(w io.Writer, f outputFormat, v any, table func(*tabwriter.Writer) error) error {
	switch f {
	case formatJSON:
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	case formatYAML:
		b, err := yaml.Marshal(v)
		if err != nil {
			return fmt.Errorf("encode yaml: %w", err)
		}
		_, err = w.Write(b)
		return err
	default:
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		if err := table(tw); err != nil {
			return err
		}
		return tw.Flush()
	}
}
