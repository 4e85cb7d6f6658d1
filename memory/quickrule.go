package memory

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/gpuplan/gpuplan/dtype"
	"github.com/gpuplan/gpuplan/units"
)

// QuickRuleOverhead is the seed's "add ~20% overhead for KV-cache,
// activations, and framework memory" (reference seed document, section
// "VRAM Sizing Formula").
const QuickRuleOverhead = 0.20

// QuickRule is the seed's rule of thumb: parameters × bytes per parameter,
// in decimal GB, plus 20%. It is shown beside the exact budget so users can
// see where the rule misleads.
type QuickRule struct {
	Params         int64       `json:"params"`
	BytesPerParam  float64     `json:"bytes_per_param"`
	Weights        units.Bytes `json:"weights_bytes"`
	WithOverhead   units.Bytes `json:"with_overhead_bytes"`
	OverheadFactor float64     `json:"overhead_fraction"`
}

// NewQuickRule applies the seed's rule to a parameter count. The seed's
// table uses 4, 2, 1 and 0.5 bytes per parameter for FP32, FP16/BF16, INT8
// and INT4, ignoring group scales, so nominal element sizes are used here.
func NewQuickRule(params int64, p dtype.Precision) QuickRule {
	bpp := p.Weight.Bits() / 8
	if p.GGUF {
		bpp = p.BitsPerWeight / 8
	}
	w := units.Bytes(math.Round(float64(params) * bpp))
	return QuickRule{
		Params:         params,
		BytesPerParam:  bpp,
		Weights:        w,
		WithOverhead:   units.Bytes(math.Round(float64(w) * (1 + QuickRuleOverhead))),
		OverheadFactor: QuickRuleOverhead,
	}
}

// RuleOfThumbPrecisions are the columns of the reference guide's VRAM table.
var RuleOfThumbPrecisions = []string{"fp32", "fp16", "int8", "int4"}

// RuleOfThumbRow is one row of the reference guide's table for a bare parameter count.
type RuleOfThumbRow struct {
	Label  string      `json:"label"`
	Params int64       `json:"params"`
	Cells  []QuickRule `json:"cells"`
}

// RuleOfThumbTable reproduces the reference guide's "VRAM Sizing Formula" table for bare
// parameter counts such as "7B", "13B", "70B" or "1.5B".
func RuleOfThumbTable(sizes []string) ([]RuleOfThumbRow, error) {
	var rows []RuleOfThumbRow
	for _, s := range sizes {
		n, err := ParseParamCount(s)
		if err != nil {
			return nil, err
		}
		row := RuleOfThumbRow{Label: strings.ToUpper(strings.TrimSpace(s)), Params: n}
		for _, name := range RuleOfThumbPrecisions {
			p, err := dtype.LookupPrecision(name)
			if err != nil {
				return nil, err
			}
			row.Cells = append(row.Cells, NewQuickRule(n, p))
		}
		rows = append(rows, row)
	}
	return rows, nil
}

// QuickRuleTable is what `gpuplan size --table` prints with -o json or -o
// yaml: the rule in words and one row per parameter count.
type QuickRuleTable struct {
	Rows []RuleOfThumbRow `json:"rows"`
	Rule string           `json:"rule"`
}

// QuickRuleText states the quick rule QuickRuleTable applies.
const QuickRuleText = "params × bytes per param, +20% for KV cache, activations and framework (GB = 1e9 bytes)"

// ParseParamCount reads "7B", "70b", "1.5B", "405B", "500M" or a plain
// integer.
func ParseParamCount(s string) (int64, error) {
	t := strings.ToUpper(strings.TrimSpace(s))
	mult := 1.0
	switch {
	case strings.HasSuffix(t, "T"):
		mult, t = 1e12, strings.TrimSuffix(t, "T")
	case strings.HasSuffix(t, "B"):
		mult, t = 1e9, strings.TrimSuffix(t, "B")
	case strings.HasSuffix(t, "M"):
		mult, t = 1e6, strings.TrimSuffix(t, "M")
	}
	v, err := strconv.ParseFloat(t, 64)
	if err != nil || v <= 0 || math.IsInf(v, 0) || v*mult > 1e15 {
		return 0, fmt.Errorf("parameter count %q: want a positive size such as 7B, 1.5B or 500M", s)
	}
	return int64(math.Round(v * mult)), nil
}
