package main

import (
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/gpuplan/gpuplan/dtype"
)

// modelRow is one catalog model as `models` prints it: the entry's sourced
// facts plus the figures computed from its config.
type modelRow struct {
	ID           string   `json:"id"`
	Aliases      []string `json:"aliases,omitempty"`
	Family       string   `json:"family,omitempty"`
	Architecture string   `json:"architecture,omitempty"`
	Base         string   `json:"base,omitempty"`
	Quantization string   `json:"quantization,omitempty"`
	// ConfigKind is how the config was obtained (verbatim, transcribed,
	// reconstructed; a variant shows its base's), so reconstructed shapes
	// are never mistaken for the vendor's file.
	ConfigKind       string `json:"config_kind,omitempty"`
	ParamsTotal      int64  `json:"params_total"`
	ParamsActive     int64  `json:"params_active"`
	CardParams       string `json:"card_params,omitempty"`
	MaxContextTokens int    `json:"max_context_tokens"`
	KVBytesPerToken  int64  `json:"kv_bytes_per_token"`
	Source           string `json:"source"`
	AsOf             string `json:"as_of"`
}

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
			entries := mc.Search(query)
			rows := make([]modelRow, 0, len(entries))
			for _, e := range entries {
				spec, _, err := mc.Lookup(e.ID)
				if err != nil {
					return fmt.Errorf("catalog entry %s: %w", e.ID, err)
				}
				p := spec.Params()
				r := modelRow{
					ID: e.ID, Aliases: e.Aliases, Family: e.Family, Architecture: spec.Architecture, Base: e.Base,
					ParamsTotal: p.Total, ParamsActive: p.Active, CardParams: e.CardParams,
					MaxContextTokens: spec.MaxPositionEmbeddings,
					KVBytesPerToken:  int64(spec.KVBytesPerToken(dtype.KVAuto)),
					Source:           e.Source, AsOf: e.AsOf,
				}
				switch {
				case e.Quantization != nil:
					r.Quantization = e.Quantization.Precision + " (" + e.Quantization.Method + ")"
				case spec.Quant != nil:
					// A release that ships quantized (DeepSeek-V3's FP8
					// blocks, gpt-oss's MXFP4) says so in its own config.
					r.Quantization = string(spec.Quant.Method)
					if w := string(spec.Quant.Weight); w != "" && w != r.Quantization {
						r.Quantization = w + " (" + r.Quantization + ")"
					}
				}
				r.ConfigKind = e.ConfigKind
				if e.Base != "" {
					if _, base, err := mc.Lookup(e.Base); err == nil {
						r.ConfigKind = base.ConfigKind
					}
				}
				rows = append(rows, r)
			}
			if len(rows) == 0 && output == formatTable {
				fmt.Fprintf(a.Stdout, "No catalog model matches %q. A Hugging Face id or a local config.json also works as MODEL.\n", query)
				return nil
			}
			width := a.tableWidth(a.Stdout)
			return render(a.Stdout, output, map[string]any{"models": rows}, func(w *tabwriter.Writer) error {
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
