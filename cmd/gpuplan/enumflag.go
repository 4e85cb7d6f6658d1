package main

import (
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/spf13/pflag"

	"github.com/gpuplan/gpuplan/deploy"
	"github.com/gpuplan/gpuplan/dtype"
	"github.com/gpuplan/gpuplan/engine"
	"github.com/gpuplan/gpuplan/hardware"
)

// enum is a closed set of flag values owned by a registry: the choices
// its help, errors and completion list, and the registry's own parser.
type enum struct {
	// kind names the value in help ("--gpu gpu-id") and is the flag's
	// pflag type.
	kind string
	// choices lists the registry's canonical ids.
	choices func() []string
	// parse is the registry's check of one value (aliases included). Nil
	// for the catalog-backed sets (GPUs, VM sizes, regions): a --catalog
	// overlay, refreshed prices or a probed host add to them, so the
	// command checks them against the catalogs it loaded (checkIn).
	parse func(string) error
	// describe, when set, is the one-line description completion shows
	// beside an id.
	describe func(id string) string
}

// The enums, one per registry. The lists of the embedded registries are
// built once: the API server builds a command tree per request, and help
// text is made when a flag is registered. A new GPU, VM size, region, engine,
// precision or deploy target appears in help, errors and completion
// without touching this file.
var (
	engineEnum = enum{kind: "engine", choices: sync.OnceValue(func() []string {
		var out []string
		for _, e := range engine.All() {
			out = append(out, e.Info().ID())
		}
		return out
	}), parse: func(s string) error { _, err := engine.Lookup(s); return err },
		describe: func(id string) string {
			if e, err := engine.Lookup(id); err == nil {
				return e.Info().Summary
			}
			return ""
		}}

	precisionEnum = enum{kind: "precision", choices: dtype.PrecisionNames,
		parse: func(s string) error { _, err := dtype.LookupPrecision(s); return err }}

	kvDTypeEnum = enum{kind: "kv-dtype", choices: func() []string {
		var out []string
		for _, k := range dtype.KVDTypes() {
			out = append(out, string(k))
		}
		return out
	}, parse: func(s string) error { _, err := dtype.ParseKVDType(s); return err }}

	targetEnum = enum{kind: "target", choices: targetIDs, parse: func(s string) error {
		if _, err := deploy.ParseTarget(s); err != nil {
			// deploy's error wraps ErrInvalidOptions ("invalid deploy
			// options: ..."), which reads oddly on a flag.
			return fmt.Errorf("unknown target %q (use %s)", s, strings.Join(targetIDs(), ", "))
		}
		return nil
	}}

	gpuEnum = enum{kind: "gpu-id", choices: sync.OnceValue(func() []string {
		var out []string
		for _, g := range hardware.Default().GPUs() {
			out = append(out, g.ID)
		}
		return out
	})}

	vmEnum = enum{kind: "vm-size", choices: sync.OnceValue(func() []string {
		var out []string
		for _, v := range hardware.Default().VMSizes() {
			out = append(out, v.Name)
		}
		for _, v := range hardware.DefaultCPUs().SortedVMs() {
			out = append(out, v.Name)
		}
		return out
	})}

	regionEnum = enum{kind: "region", choices: sync.OnceValue(func() []string { return hardware.Default().Prices().Regions() })}
)

func targetIDs() []string {
	var out []string
	for _, t := range deploy.Targets() {
		out = append(out, string(t))
	}
	return out
}

// enumFlag is a string flag whose values come from an enum: pflag checks
// each value with the registry's parser when it is set (so a bad value is
// a usage error naming the flag and the choices, exit 2, before anything
// runs), help lists the choices and completion offers them.
type enumFlag struct {
	enum
	value string
	// list: the value is comma-separated, each item checked.
	list bool
	// extra are values the command accepts beyond the registry's (plan's
	// --precision auto and any, --region any): offered first by
	// completion and named in errors; the command's help explains them.
	extra []string
}

var _ pflag.Value = (*enumFlag)(nil)

func (f *enumFlag) String() string { return f.value }
func (f *enumFlag) Type() string {
	if f.list {
		return f.kind + "s"
	}
	return f.kind
}

// Set checks the value with the registry's parser; an empty value means
// the command's default, as with a plain string flag.
func (f *enumFlag) Set(s string) error {
	if f.parse != nil && strings.TrimSpace(s) != "" {
		items := []string{s}
		if f.list {
			items = strings.Split(s, ",")
		}
		for _, it := range items {
			if containsFold(f.extra, strings.TrimSpace(it)) {
				continue
			}
			if err := f.parse(it); err != nil {
				return fmt.Errorf("%v%s", err, f.missing(err.Error()))
			}
		}
	}
	f.value = s
	return nil
}

// all is every value completion offers: the extras, then the registry's.
func (f *enumFlag) all() []string {
	if len(f.extra) == 0 {
		return f.choices() // shared: callers do not modify it
	}
	return append(append([]string(nil), f.extra...), f.choices()...)
}

// offers is what completion offers: every value, with its description
// where the enum has one ("vllm@0.22<TAB>summary").
func (f *enumFlag) offers() []string {
	out := slices.Clone(f.all())
	if f.describe != nil {
		for i, id := range out {
			if d := f.describe(id); d != "" {
				out[i] = id + "\t" + d
			}
		}
	}
	return out
}

// missing is what msg, an error about a bad value, lacks of the choices:
// "; choose from ..." unless it lists every registry choice (the
// registries' own errors usually do), else "; or auto, any" when it does
// not name the command's extras.
func (f *enumFlag) missing(msg string) string {
	listsAll := func(items []string) bool {
		for _, c := range items {
			if !strings.Contains(msg, c) {
				return false
			}
		}
		return true
	}
	switch {
	case !listsAll(f.choices()):
		return "; choose from " + shortList(f.all(), 12)
	case !listsAll(f.extra):
		return "; or " + strings.Join(f.extra, ", ")
	}
	return ""
}

// withChoices appends the registry's choices to usage unless it lists
// them already, shortened when the set is long (the GPU ids, VM sizes and
// regions are dozens; completion and the listing commands give the
// rest). The command's extras (plan's auto, any) are its usage's to
// explain.
func (f *enumFlag) withChoices(usage string) string {
	all := f.choices()
	listed := true
	for _, c := range all {
		if !strings.Contains(usage, c) {
			listed = false
			break
		}
	}
	if listed || len(all) == 0 {
		return usage
	}
	n := len(all)
	if n > 10 {
		n = 3
	}
	return usage + " {" + shortList(all, n) + "}"
}

// shortList joins the first n items and says how many more there are.
func shortList(items []string, n int) string {
	if len(items) <= n {
		return strings.Join(items, ", ")
	}
	return fmt.Sprintf("%s, … %d more", strings.Join(items[:n], ", "), len(items)-n)
}

func containsFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}

// addEnumFlag registers an enum flag on fs with its default value and
// help (choices appended); the flag's completion comes from the enum
// (registerValueCompletions).
func addEnumFlag(fs *pflag.FlagSet, p *enumFlag, e enum, name, def, usage string) {
	p.enum, p.value = e, def
	fs.Var(p, name, p.withChoices(usage))
}
