package main

import (
	"fmt"
	"math"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/gpuplan/gpuplan/model"
)

// plural is "1 sequence", "2 sequences".
func plural(n int64, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.FormatInt(n, 10) + " " + many
}

// gpuCount prints a number of GPUs: whole numbers as they are, a partial
// GPU as the fraction Azure states (1/6, 1/3, 1/2), not 0.3333333333333333.
func gpuCount(n float64) string {
	if n == math.Trunc(n) {
		return strconv.FormatFloat(n, 'f', 0, 64)
	}
	for d := 2; d <= 12; d++ {
		num := n * float64(d)
		if r := math.Round(num); math.Abs(num-r) < 1e-9 {
			return fmt.Sprintf("%d/%d", int(r), d)
		}
	}
	return strconv.FormatFloat(n, 'g', 3, 64)
}

// The context rule (docs/cli.md, "Context length"): --context is the
// longest request, prompt plus answer, a deployment must accept. size
// defaults it to the model's maximum; plan (and perf) default it to
// --input-tokens + --output-tokens, the requests they are told about, and
// say so, since a deployment sized that way rejects longer prompts; deploy
// never guesses it: it comes from the plan (--plan) or --context.

// contextDefaultWarning is plan's warning when --context was not given.
func contextDefaultWarning(cmd *cobra.Command, input, output int, spec *model.Spec) string {
	if cmd.Flags().Changed("context") {
		return ""
	}
	max := ""
	if spec != nil && spec.MaxPositionEmbeddings > 0 {
		max = fmt.Sprintf(" (the model accepts up to %s)", costCount(float64(spec.MaxPositionEmbeddings)))
	}
	return fmt.Sprintf("--context not given: each replica is sized for requests of %s tokens (--input-tokens + --output-tokens) and will reject longer ones%s; pass --context with the longest request the endpoint must accept",
		costCount(float64(input+output)), max)
}

// requireDeployContext refuses deploy MODEL without --context: a production
// endpoint sized for exactly the example request rejects every longer
// prompt (phi-3 on Container Apps once got a max-model-len of 700).
func requireDeployContext(context int64, spec *model.Spec) error {
	if context > 0 {
		return nil
	}
	max := ""
	if spec != nil && spec.MaxPositionEmbeddings > 0 {
		max = fmt.Sprintf("; %s accepts up to %s", spec.ID, costCount(float64(spec.MaxPositionEmbeddings)))
	}
	return usageErrf("deploy MODEL needs --context: the longest request (prompt + answer) the endpoint must accept, which becomes the engine's maximum model length (vLLM --max-model-len)%s", max)
}
