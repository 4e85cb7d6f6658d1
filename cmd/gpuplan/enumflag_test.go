package main

import (
	"strings"
	"testing"

	"github.com/gpuplan/gpuplan/deploy"
	"github.com/gpuplan/gpuplan/dtype"
	"github.com/gpuplan/gpuplan/engine"
	"github.com/gpuplan/gpuplan/hardware"
)

// TestEnumFlags: every enum flag takes its choices from its registry. A
// bad value exits 2 with nothing on stdout and a message that names the
// flag and lists the registry's ids (at least minListed of them, in the
// registry's order, for the long sets); completion offers every id; help
// names the choices or says how many more there are.
func TestEnumFlags(t *testing.T) {
	var engines, precisions, targets, gpus, vms []string
	for _, e := range engine.All() {
		engines = append(engines, e.Info().ID())
	}
	precisions = dtype.PrecisionNames()
	for _, tg := range deploy.Targets() {
		targets = append(targets, string(tg))
	}
	for _, g := range hardware.Default().GPUs() {
		gpus = append(gpus, g.ID)
	}
	for _, v := range hardware.Default().VMSizes() {
		vms = append(vms, v.Name)
	}
	for _, v := range hardware.DefaultCPUs().SortedVMs() {
		vms = append(vms, v.Name)
	}
	regions := hardware.Default().Prices().Regions()
	kv := []string{"auto", "bf16", "fp16", "fp8"}
	load := []string{"--input-tokens", "10", "--output-tokens", "10"}
	plan := append([]string{"plan", "llama-3.1-8b", "--concurrency", "1"}, load...)
	with := func(base []string, more ...string) []string { return append(append([]string(nil), base...), more...) }

	tests := []struct {
		name      string
		bad       []string // a command line with a bad value
		want      string   // the message names the flag and the value
		choices   []string // the registry's ids
		minListed int      // 0: the message lists every choice
		complete  []string // __complete arguments
		help      string   // the command whose help names the choices
	}{
		{"engine", []string{"size", "llama-3.1-8b", "--engine", "tgi"}, `"tgi" for "--engine"`, engines, 0,
			[]string{"size", "--engine", ""}, "size"},
		{"engine on guide", []string{"guide", "--engine", "tgi"}, `"tgi" for "--engine"`, engines, 0,
			[]string{"guide", "--engine", ""}, "guide"},
		{"precision", []string{"size", "llama-3.1-8b", "--precision", "fp7"}, `"fp7" for "--precision"`, precisions, 0,
			[]string{"perf", "--precision", ""}, "perf"},
		{"precision list", with(plan, "--precision", "bf16,fp7"), `"bf16,fp7" for "--precision"`, append([]string{"auto", "any"}, precisions...), 0,
			[]string{"plan", "--precision", "bf16,"}, "plan"},
		{"kv-dtype", []string{"perf", "llama-3.1-8b", "--kv-dtype", "fp4"}, `"fp4" for "--kv-dtype"`, kv, 0,
			[]string{"deploy", "--kv-dtype", ""}, "deploy"},
		{"target", []string{"deploy", "--plan", "p.json", "--stdout", "--target", "eks"}, `"eks" for "--target"`, targets, 0,
			[]string{"deploy", "--target", ""}, "deploy"},
		{"target on plan", with(plan, "--target", "eks"), `"eks" for "--target"`, targets, 0,
			[]string{"plan", "--target", ""}, "plan"},
		{"gpu", []string{"size", "llama-3.1-8b", "--gpu", "h900"}, `--gpu "h900"`, gpus, 0,
			[]string{"size", "--gpu", ""}, "perf"},
		{"gpu list", with(plan, "--gpu", "a10,h900"), `--gpu: unknown GPU "h900"`, gpus, 0,
			[]string{"plan", "--gpu", "a10,"}, "plan"},
		{"vm", []string{"perf", "llama-3.1-8b", "--vm", "Standard_Nope", "--input-tokens", "1", "--output-tokens", "1"}, `--vm "Standard_Nope"`, vms, 12,
			[]string{"size", "--vm", ""}, "size"},
		{"region", with(plan, "--region", "mars"), `--region "mars"`, regions, 12,
			[]string{"plan", "--region", ""}, "plan"},
		{"region on guide", []string{"guide", "--region", "mars"}, `--region "mars"`, regions, 12,
			[]string{"guide", "--region", ""}, "guide"},
		{"region on gpus", []string{"gpus", "--region", "mars"}, `--region "mars"`, regions, 12,
			[]string{"gpus", "--region", ""}, "gpus"},
		{"region on prices", []string{"prices", "--region", "mars"}, `--region "mars"`, regions, 12,
			[]string{"prices", "--region", ""}, "prices"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, errOut, code := run(t, tc.bad...)
			if code != exitUsage || out != "" {
				t.Fatalf("exit %d, stdout %.200q; want exit %d and no output; stderr %q", code, out, exitUsage, errOut)
			}
			if !strings.Contains(errOut, tc.want) {
				t.Errorf("stderr %q does not name the flag and value (%s)", errOut, tc.want)
			}
			listed := 0
			for _, c := range tc.choices {
				if strings.Contains(errOut, c) {
					listed++
				}
			}
			if min := tc.minListed; (min == 0 && listed < len(tc.choices)) || listed < min {
				t.Errorf("the error lists %d of the %d choices (want %v): %q", listed, len(tc.choices), max(tc.minListed, len(tc.choices)), errOut)
			}

			comp, _, code := run(t, append([]string{"__complete"}, tc.complete...)...)
			if code != exitOK {
				t.Fatalf("__complete: exit %d", code)
			}
			offered := map[string]bool{}
			for _, l := range strings.Split(strings.TrimSpace(comp), "\n") {
				id, _, _ := strings.Cut(l, "\t")
				offered[id] = true
			}
			prefix := tc.complete[len(tc.complete)-1]
			for _, c := range tc.choices {
				if !offered[prefix+c] {
					t.Errorf("completion of %v does not offer %q", tc.complete, prefix+c)
					break
				}
			}

			help, _, _ := run(t, tc.help, "--help")
			flag := tc.complete[len(tc.complete)-2]
			var line string
			for _, l := range strings.Split(help, "\n") {
				if strings.HasPrefix(strings.TrimSpace(l), flag+" ") {
					line = l
				}
			}
			if !strings.Contains(line, tc.choices[0]) {
				t.Errorf("%s --help line of %s does not name the choices: %q", tc.help, flag, line)
			}
		})
	}
}

// TestEnumHelpIsShortened: long choice lists are cut in help with a count
// of the rest, so a flag's help stays one readable line.
func TestEnumHelpIsShortened(t *testing.T) {
	f := enumFlag{enum: vmEnum}
	h := f.withChoices("Azure VM size")
	n := len(vmEnum.choices())
	if n <= 10 {
		t.Skipf("only %d VM sizes", n)
	}
	want := " more}"
	if !strings.HasSuffix(h, want) || strings.Count(h, ", ") != 3 || !strings.Contains(h, vmEnum.choices()[0]) {
		t.Errorf("help %q: want the first 3 of %d sizes and a count of the rest", h, n)
	}
	// A usage that already lists every choice is left alone.
	k := enumFlag{enum: kvDTypeEnum}
	if got := k.withChoices("KV-cache dtype: auto, bf16, fp16, fp8"); got != "KV-cache dtype: auto, bf16, fp16, fp8" {
		t.Errorf("kv-dtype help changed to %q", got)
	}
}
