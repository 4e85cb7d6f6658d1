package main

import (
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
)

func newModelsCmd(a *app) *cobra.Command {
	var output outputFormat
	cmd := &cobra.Command{
		Use:   "models [QUERY]",
		Short: "List and search the embedded model catalog",
		Long: `List the models gpuplan knows without network access, with parameter counts
computed from each model's config.json and the source of that config. The
CONFIG column says whether the config is the vendor's verbatim file, a
transcription of its Hugging Face page, or a reconstruction from cited values.
QUERY filters by id, alias or family (case-insensitive substring).`,
		Example: `  gpuplan models
  gpuplan models qwen3
  gpuplan models llama -o json`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			mc, _, err := a.loadCatalogs()
			if err != nil {
				return err
			}
			query := ""
			if len(args) == 1 {
				query = args[0]
			}
			listing, err := mc.Listing(query)
			if err != nil {
				return err
			}
			rows := listing.Models
			if len(rows) == 0 && output == formatTable {
				fmt.Fprintf(a.Stdout, "No catalog model matches %q. A Hugging Face id or a local config.json also works as MODEL.\n", query)
				return nil
			}
			width := a.tableWidth(a.Stdout)
			return render(a.Stdout, output, listing, func(w *tabwriter.Writer) error {
				t := textTable{
					Header: []string{"ID", "ALIAS", "PARAMS", "ACTIVE", "CONTEXT", "KV/TOKEN", "QUANTIZATION", "CONFIG", "CONFIG AS OF"},
					Drop:   []int{8, 7, 1, 3, 5, 6},
				}
				for _, r := range rows {
					alias := ""
					if len(r.Aliases) > 0 {
						alias = r.Aliases[0]
					}
					quant := r.Quantization
					if quant == "" {
						quant = "-"
					}
					kind := r.ConfigKind
					if kind == "" {
						kind = "-"
					}
					t.Rows = append(t.Rows, []string{r.ID, alias, billions(r.ParamsTotal), billions(r.ParamsActive),
						fmt.Sprint(r.MaxContextTokens), strings.TrimSpace(perToken(unitsPerToken(r.KVBytesPerToken))), quant, kind, r.AsOf})
				}
				if err := t.write(w, width); err != nil {
					return err
				}
				fmt.Fprintln(w)
				fmt.Fprint(w, wrapLine(fmt.Sprintf("%d models. KV/TOKEN is the whole model's cache per token in its release dtype, before any TP split.", len(rows)), width, 0))
				fmt.Fprint(w, wrapLine("CONFIG: verbatim = the vendor's config.json bytes; transcribed = read from its Hugging Face page; reconstructed = assembled from cited values (docs/catalog-models.md).", width, 0))
				return nil
			})
		},
	}
	addOutputFlag(cmd, &output)
	return cmd
}
