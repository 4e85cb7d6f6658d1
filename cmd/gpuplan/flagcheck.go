package main

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/gpuplan/gpuplan/bench"
	"github.com/gpuplan/gpuplan/perf"
)

// flagRange is the allowed range of a numeric flag: from Min to Max, each
// end included unless its Open flag says otherwise. Also lists values
// outside the range that keep a documented meaning (deploy's
// --spot-max-price -1: "up to pay-as-you-go").
type flagRange struct {
	Min, Max         float64
	MinOpen, MaxOpen bool
	Also             []float64
	// Hint follows the range in the message, for flags that are easy to
	// give in the wrong unit.
	Hint string
}

func (r flagRange) ok(v float64) bool {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return false
	}
	if slices.Contains(r.Also, v) {
		return true
	}
	if v < r.Min || (r.MinOpen && v == r.Min) {
		return false
	}
	return v < r.Max || (!r.MaxOpen && v == r.Max)
}

// String describes the range for the error message: "1 to 1024",
// "more than 0 and at most 1", "-1, or more than 0 and at most 10000".
func (r flagRange) String() string {
	lo, hi := num(r.Min), num(r.Max)
	var s string
	switch {
	case !r.MinOpen && !r.MaxOpen:
		s = lo + " to " + hi
	case r.MinOpen && !r.MaxOpen:
		s = "more than " + lo + " and at most " + hi
	case !r.MinOpen && r.MaxOpen:
		s = "at least " + lo + " and less than " + hi
	default:
		s = "more than " + lo + " and less than " + hi
	}
	for _, a := range r.Also {
		s = num(a) + ", or " + s
	}
	if r.Hint != "" {
		s += "; " + r.Hint
	}
	return s
}

// num prints a bound without exponent noise: 1000000 as 1,000,000.
func num(v float64) string {
	if v == math.Trunc(v) && math.Abs(v) < 1e15 {
		s := strconv.FormatInt(int64(math.Abs(v)), 10)
		for i := len(s) - 3; i > 0; i -= 3 {
			s = s[:i] + "," + s[i:]
		}
		if v < 0 {
			s = "-" + s
		}
		return s
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

// Common ranges. Upper bounds are far beyond any real use: they exist so
// that a typo (an extra three zeros) is an error naming the flag rather
// than an hour of planning or an absurd answer.
var (
	atLeastOne      = func(max float64) flagRange { return flagRange{Min: 1, Max: max} }
	positive        = func(max float64) flagRange { return flagRange{Min: 0, MinOpen: true, Max: max} }
	posFrac         = flagRange{Min: 0, MinOpen: true, Max: 1}
	tokens          = atLeastOne(100_000_000) // beyond any model's context
	parallel        = atLeastOne(1024)        // GPUs per replica
	latencyMS       = positive(3_600_000)     // one hour
	servedCacheRate = flagRange{Min: 0, Max: 1, MaxOpen: true, Hint: "a fraction, not a percentage: 0.5 is half"}
	// Durations are checked in seconds.
	longDuration = positive(7 * 24 * 3600)
)

// flagRanges is the one place numeric flags are range-checked, keyed by
// flag name, or by "command path/flag" where a command's flag of the same
// name means something else. checkFlagRanges applies it to the flags a
// command line sets, before the command runs (so before any network
// access); TestEveryNumericFlagHasARange keeps it complete.
var flagRanges = map[string]flagRange{
	"concurrency":               atLeastOne(1_000_000),
	"rps":                       positive(1_000_000),
	"rpm":                       positive(1e9),
	"avg-rpm":                   positive(1e9),
	"input-tokens":              tokens,
	"output-tokens":             tokens,
	"context":                   tokens,
	"tp":                        parallel,
	"pp":                        parallel,
	"gpu-count":                 atLeastOne(100_000),
	"top":                       {Min: 0, Max: 100_000},
	"pick":                      atLeastOne(100_000),
	"pick-cpu":                  atLeastOne(100_000),
	"ttft-slo-ms":               latencyMS,
	"tpot-slo-ms":               latencyMS,
	"e2e-slo-ms":                latencyMS,
	"budget-usd-month":          positive(1e12),
	"hours-per-day":             positive(24),
	"gpu-memory-utilization":    posFrac,
	"max-num-seqs":              atLeastOne(1 << 20),
	"max-num-batched-tokens":    atLeastOne(1 << 30),
	"max-replicas":              atLeastOne(1000), // deploy.MaxReplicas
	"queue-threshold":           atLeastOne(1_000_000),
	"spot-max-price":            {Min: 0, MinOpen: true, Max: 10_000, Also: []float64{-1}},
	"cache-rate":                {Min: 0, Max: 1, Hint: "a fraction, not a percentage: 0.5 is half"},
	"max-concurrent":            atLeastOne(4096),
	"max-connections":           atLeastOne(1_000_000),
	"requests":                  atLeastOne(10_000_000),
	"max-inflight":              atLeastOne(100_000),
	"warmup":                    {Min: 0, Max: 1_000_000, Also: []float64{-1}}, // -1, the default: one per concurrent slot
	"seed":                      {Min: 0, Max: math.MaxUint64},
	"max-error-rate":            {Min: 0, Max: 1, Hint: "a fraction: 0.01 is 1%"},
	"builtin-n":                 atLeastOne(100_000),
	"min-n":                     atLeastOne(1_000_000),
	"retries":                   {Min: 0, Max: 100},
	"max-drop":                  {Min: 0, Max: 1, Hint: "a fraction: 0.02 is 2 points"},
	"duration":                  longDuration,
	"timeout":                   longDuration,
	"deadline":                  longDuration,
	"startup-window":            longDuration,
	"ep":                        atLeastOne(256),
	"spec-tokens":               atLeastOne(16),
	"acceptance-rate":           {Min: 0, Max: 1, Hint: "a probability per proposed token"},
	"input-tokens-stddev":       {Min: 0, Max: 100_000_000},
	"output-tokens-stddev":      {Min: 0, Max: 100_000_000},
	"think-time-ms":             {Min: 0, Max: 3_600_000},
	"cores":                     atLeastOne(4096),
	"buffer-mib":                {Min: 64, Max: 16384, Hint: "far larger than the last-level cache"},
	"think-time-s":              {Min: 0, Max: 3600},
	"bench quality/concurrency": atLeastOne(1024),
	"bench quality/retries":     {Min: 0, Max: 10},
	"bench quality/builtin-n":   atLeastOne(bench.MaxBuiltinItems),
	"bench/concurrency":         atLeastOne(100_000),
	"bench/requests":            atLeastOne(maxBenchRequests),
	"bench/input-tokens":        atLeastOne(10_000_000),
	"ptu/input-tokens":          positive(1e8),
	// The prefix-cache hit rate of a served model is below 1 (every
	// request computes at least its last token); ptu's prompt-cache rate
	// may be 1. The scheduler token budget is capped as perf and plan cap
	// it (perf.maxSchedulerLimit); size takes a larger llama.cpp ubatch.
	"perf/cache-rate":               servedCacheRate,
	"plan/cache-rate":               servedCacheRate,
	"deploy/cache-rate":             servedCacheRate,
	"perf/max-num-batched-tokens":   atLeastOne(1 << 20),
	"plan/max-num-batched-tokens":   atLeastOne(1 << 20),
	"deploy/max-num-batched-tokens": atLeastOne(1 << 20),
	"perf/requests":                 atLeastOne(perf.MaxSimRequests),
	"ptu/output-tokens":             positive(1e8),
}

// rangeFor is the range of flag f of cmd, if it has one.
func rangeFor(cmd *cobra.Command, name string) (flagRange, bool) {
	path := strings.TrimPrefix(cmd.CommandPath(), cmd.Root().Name()+" ")
	if r, ok := flagRanges[path+"/"+name]; ok {
		return r, true
	}
	r, ok := flagRanges[name]
	return r, ok
}

// numericFlagTypes are the pflag value types checkFlagRanges reads.
var numericFlagTypes = map[string]bool{
	"int": true, "int64": true, "int32": true, "uint": true, "uint64": true, "float64": true, "float32": true,
	"duration": true, "intSlice": true, "int64Slice": true, "float64Slice": true, "uintSlice": true,
}

// checkFlagRanges checks every numeric flag set on cmd's command line
// against flagRanges. Flags left at their defaults are not checked: a
// default of 0 often means "the engine's" or "derive it".
func checkFlagRanges(cmd *cobra.Command) error {
	var errs []error
	cmd.Flags().Visit(func(f *pflag.Flag) {
		if !numericFlagTypes[f.Value.Type()] {
			return
		}
		r, ok := rangeFor(cmd, f.Name)
		if !ok {
			return
		}
		items := []string{f.Value.String()}
		if sv, ok := f.Value.(pflag.SliceValue); ok && f.Value.Type() != "duration" {
			items = sv.GetSlice()
		}
		_, isSlice := f.Value.(pflag.SliceValue)
		for _, s := range items {
			v, err := numberOf(f.Value.Type(), s)
			if err == nil && isSlice {
				s = strconv.FormatFloat(v, 'g', -1, 64) // pflag prints float slices as -1.000000
			}
			if err != nil || !r.ok(v) {
				unit := ""
				if f.Value.Type() == "duration" {
					unit = " seconds"
				}
				errs = append(errs, fmt.Errorf("--%s %s is out of range (allowed: %s%s)", f.Name, s, r, unit))
				return
			}
		}
	})
	if len(errs) > 0 {
		return usageErr(errors.Join(errs...))
	}
	return nil
}

func numberOf(typ, s string) (float64, error) {
	if typ == "duration" {
		d, err := time.ParseDuration(s)
		return d.Seconds(), err
	}
	return strconv.ParseFloat(strings.TrimSpace(s), 64)
}

// wrapArgsErrors makes every positional-argument error of the tree under
// root a usage error (exit 2): cobra's own validators (NoArgs,
// MaximumNArgs) return plain errors.
func wrapArgsErrors(root *cobra.Command) {
	for _, c := range root.Commands() {
		if orig := c.Args; orig != nil {
			c.Args = func(cmd *cobra.Command, args []string) error {
				if err := orig(cmd, args); err != nil {
					var ce *codedError
					if errors.As(err, &ce) {
						return err
					}
					return usageErr(err)
				}
				return nil
			}
		}
		wrapArgsErrors(c)
	}
}

// isUnknownCommand reports cobra's "unknown command" error (from its
// legacy argument check on a command without Run), a usage error.
func isUnknownCommand(err error) bool {
	return strings.HasPrefix(err.Error(), "unknown command ")
}
