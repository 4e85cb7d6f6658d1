package main

import (
	"errors"
	"strings"
	"testing"

	"github.com/spf13/pflag"

	"github.com/gpuplan/gpuplan/dtype"
)

// TestModelFlagsResolve: the one reading of --precision and --kv-dtype, as
// a single precision (size, perf, deploy) and as plan's list with auto and
// any, parsed through pflag as a command line is.
func TestModelFlagsResolve(t *testing.T) {
	tests := []struct {
		name          string
		list          bool
		args          []string
		wantOne       string   // single precision, "" for the checkpoint's own
		wantList      []string // list precisions
		wantAll       bool
		wantKV        dtype.KVDType
		wantSetErr    string // the flag parser refuses the value
		wantResolveOK bool
	}{
		{name: "defaults", args: nil, wantKV: dtype.KVAuto, wantResolveOK: true},
		{name: "alias and kv alias", args: []string{"--precision", "AWQ", "--kv-dtype", "fp8_e4m3"}, wantOne: "int4", wantKV: dtype.KVFP8, wantResolveOK: true},
		{name: "single refuses a list", args: []string{"--precision", "bf16,fp8"}, wantSetErr: `unknown precision "bf16,fp8"`},
		{name: "single refuses auto", args: []string{"--precision", "auto"}, wantSetErr: `unknown precision "auto"`},
		{name: "plan auto", list: true, args: []string{"--precision", "auto"}, wantKV: dtype.KVAuto, wantResolveOK: true},
		{name: "plan ANY", list: true, args: []string{"--precision", "ANY"}, wantAll: true, wantKV: dtype.KVAuto, wantResolveOK: true},
		{name: "plan list", list: true, args: []string{"--precision", "bf16,w8a8"}, wantList: []string{"bf16", "int8"}, wantKV: dtype.KVAuto, wantResolveOK: true},
		{name: "plan bad item", list: true, args: []string{"--precision", "bf16,fp7"}, wantSetErr: `unknown precision "fp7"`},
		{name: "bad kv", args: []string{"--kv-dtype", "int4"}, wantSetErr: `unknown KV-cache dtype "int4"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var f modelFlags
			fs := pflag.NewFlagSet("t", pflag.ContinueOnError)
			fs.SetOutput(new(strings.Builder))
			h := modelHelp{precision: "p", kvDType: "k"}
			if tc.list {
				h.precisionList, h.precisionDefault = true, precisionAuto
			}
			f.register(fs, h)
			err := fs.Parse(tc.args)
			if tc.wantSetErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantSetErr) {
					t.Fatalf("parse error %v, want %q", err, tc.wantSetErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			s, err := f.resolve()
			if err != nil {
				t.Fatal(err)
			}
			switch {
			case tc.wantOne == "" && s.Precision != nil:
				t.Errorf("precision %s, want the checkpoint's own (nil)", s.Precision.Name)
			case tc.wantOne != "" && (s.Precision == nil || s.Precision.Name != tc.wantOne):
				t.Errorf("precision %v, want %s", s.Precision, tc.wantOne)
			}
			var names []string
			for _, p := range s.Precisions {
				names = append(names, p.Name)
			}
			if strings.Join(names, ",") != strings.Join(tc.wantList, ",") || s.AllPrecisions != tc.wantAll || s.KVDType != tc.wantKV {
				t.Errorf("got %v all=%v kv=%s, want %v all=%v kv=%s", names, s.AllPrecisions, s.KVDType, tc.wantList, tc.wantAll, tc.wantKV)
			}
		})
	}
}

// TestWorkloadFlagsResolve: the request shape is required, and the load
// rules of plan (exactly one of --concurrency and --rps) and deploy (at
// most one) are the group's.
func TestWorkloadFlagsResolve(t *testing.T) {
	tests := []struct {
		name string
		f    workloadFlags
		rule loadRule
		want string // error text; "" for none
	}{
		{"no shape", workloadFlags{output: 10, concurrency: 1}, loadExactlyOne, "MISSING"},
		{"plan neither", workloadFlags{input: 1, output: 1}, loadExactlyOne, "exactly one of --concurrency and --rps"},
		{"plan both", workloadFlags{input: 1, output: 1, concurrency: 2, rps: 1}, loadExactlyOne, "exactly one of --concurrency and --rps"},
		{"plan rps", workloadFlags{input: 1, output: 1, rps: 0.5}, loadExactlyOne, ""},
		{"deploy neither", workloadFlags{input: 1, output: 1}, loadAtMostOne, ""},
		{"deploy both", workloadFlags{input: 1, output: 1, concurrency: 2, rps: 1}, loadAtMostOne, "at most one of --concurrency and --rps"},
		{"perf ignores the load", workloadFlags{input: 1, output: 1, concurrency: 2, rps: 1}, loadElsewhere, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w, err := tc.f.resolve("MISSING", tc.rule)
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				if w.InputTokens != tc.f.input || w.OutputTokens != tc.f.output {
					t.Errorf("workload %+v does not carry the shape of %+v", w, tc.f)
				}
				if tc.rule != loadElsewhere && (w.Concurrency != tc.f.concurrency || w.RPS != tc.f.rps) {
					t.Errorf("workload %+v does not carry the load of %+v", w, tc.f)
				}
				return
			}
			var ce *codedError
			if err == nil || !strings.Contains(err.Error(), tc.want) || !errors.As(err, &ce) || ce.code != exitUsage {
				t.Errorf("error %v, want a usage error containing %q", err, tc.want)
			}
		})
	}
}

// TestRegionErrorsPerCommand: a bad --region's advice fits the command.
// plan takes lists and "any", and says so; gpus, prices and guide take
// one region, and neither offer "any" nor accept it.
func TestRegionErrorsPerCommand(t *testing.T) {
	plan := []string{"plan", "llama-3.1-8b", "--concurrency", "1", "--input-tokens", "10", "--output-tokens", "10"}
	tests := []struct {
		args          []string
		want, notWant string
	}{
		{append(plan, "--region", "mars"), "any searches every known region", ""},
		{[]string{"gpus", "--region", "mars"}, `--region "mars"`, "any"},
		{[]string{"prices", "--region", "mars"}, `--region "mars"`, "any"},
		{[]string{"guide", "--region", "mars"}, `--region "mars"`, "any"},
		{[]string{"gpus", "--region", "any"}, "give one region", "searches"},
		{[]string{"guide", "--region", "eastus,westus"}, "give one region", "searches"},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			out, errOut, code := run(t, tc.args...)
			if code != exitUsage || out != "" {
				t.Fatalf("exit %d, stdout %.100q; want exit %d, no output", code, out, exitUsage)
			}
			if !strings.Contains(errOut, tc.want) {
				t.Errorf("stderr %q lacks %q", errOut, tc.want)
			}
			if tc.notWant != "" && strings.Contains(errOut, tc.notWant) {
				t.Errorf("stderr %q offers %q on a single-region command", errOut, tc.notWant)
			}
		})
	}
}
