package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// unshipped matches what a printed reference must never be: the project's
// unshipped reference notes, a path on the machine that built or ran
// gpuplan, or a bare documentation file name ("(use-amd-gpus.md)") instead
// of the page's URL (a user can open none of them).
var unshipped = regexp.MustCompile(`shared/|reference/[^ "]*\.(md|txt|json|csv)|(^|[\s"'(=])(/home/|/work/|/tmp/|/Users/|[A-Z]:\\)|[ (][a-z0-9]+(-[a-z0-9]+)+\.md\b`)

// TestOutputsCiteNoUnshippedFiles runs the commands that print sources
// (ptu, prices, gpus, guide, models, plan, size, perf) with -o json and checks that
// no field names a file a user does not have; internal/provenance checks
// the same for the data files these outputs come from.
func TestOutputsCiteNoUnshippedFiles(t *testing.T) {
	io := []string{"--input-tokens", "500", "--output-tokens", "100"}
	for _, args := range [][]string{
		{"ptu", "gpt-5.2", "--rpm", "100", "--input-tokens", "200", "--output-tokens", "20"},
		{"prices", "--region", "eastus"},
		{"gpus"},
		{"gpus", "h200"},
		{"gpus", "mi300x"},
		{"guide"},
		{"models"},
		{"models", "qwen2.5-72b"},
		append([]string{"plan", "llama-3.1-8b-instruct", "--concurrency", "4"}, io...),
		{"size", "qwen2.5-72b-instruct", "--gpu", "h100-sxm", "--tp", "4"},
		{"size", "gemma-2-27b-it", "--gpu", "a100-80gb-sxm"},
		append([]string{"perf", "llama-3.1-8b-instruct", "--gpu", "h100-sxm", "--concurrency", "1"}, io...),
	} {
		args := append(append([]string{}, args...), "-o", "json")
		t.Run(strings.Join(args[:2], " "), func(t *testing.T) {
			out, errOut, code := runCost(t, args...)
			if code != 0 {
				t.Fatalf("gpuplan %s: exit %d: %s", strings.Join(args, " "), code, errOut)
			}
			if len(out) < 100 {
				t.Fatalf("gpuplan %s printed only %q", strings.Join(args, " "), out)
			}
			var doc any
			if err := json.Unmarshal([]byte(out), &doc); err != nil {
				t.Fatalf("gpuplan %s -o json is not JSON: %v", strings.Join(args, " "), err)
			}
			checkPrintedFileRefs(t, doc, "")
			for _, s := range []string{out, errOut} {
				if loc := unshipped.FindStringIndex(s); loc != nil {
					lo, hi := max(0, loc[0]-60), min(len(s), loc[1]+60)
					t.Errorf("gpuplan %s names a file the user does not have: …%s…", strings.Join(args, " "), s[lo:hi])
				}
			}
		})
	}
}

// checkPrintedFileRefs checks that every printed source (a "source", "ref"
// or "*_source" field) that names a file names one in this repository,
// so a reader can open it: "docs/sources.md#seed" must exist. URLs and
// source keys are the data's business (internal/provenance).
func checkPrintedFileRefs(t *testing.T, v any, path string) {
	t.Helper()
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			s, ok := e.(string)
			if !ok || !(k == "source" || k == "ref" || strings.HasSuffix(k, "_source")) {
				checkPrintedFileRefs(t, e, path+"."+k)
				continue
			}
			for _, ref := range strings.Split(s, "; ") {
				first, _, _ := strings.Cut(strings.TrimSpace(ref), " ")
				file, _, _ := strings.Cut(first, "#")
				if strings.Contains(first, "://") || !strings.Contains(file, "/") || !strings.Contains(filepath.Base(file), ".") {
					continue // a URL, a key or words, not a file
				}
				if _, err := os.Stat(filepath.Join("..", "..", filepath.FromSlash(file))); err != nil {
					t.Errorf("%s.%s = %q names %s, which is not a file of this repository", path, k, s, file)
				}
			}
		}
	case []any:
		for _, e := range x {
			checkPrintedFileRefs(t, e, path+"[]")
		}
	}
}

// TestUnshippedPattern checks the pattern against the leak the test was
// written for and against references that are fine to print.
func TestUnshippedPattern(t *testing.T) {
	for _, tc := range []struct {
		s   string
		bad bool
	}{
		{`"source": "shared/reference/000_7b45566638d0cf02.txt"`, true},
		{`"source": "../shared/reference/azure-facts.md"`, true},
		{`"config": "/work/main/model/data/configs/x.json"`, true},
		{`"source": "docs/sources.md#seed"`, false},
		{`"source": "https://nvidia.github.io/TensorRT-LLM/0.18.2/reference/support-matrix.html"`, false},
		{`"source": "https://learn.microsoft.com/azure/aks/gpu-multi-instance"`, false},
		{`"notes": ["AKS schedules it with the amd.com/gpu resource (use-amd-gpus.md)."]`, true},
		{`"source": "docs/cost.md#the-reference-guides-rule-of-thumb"`, false},
	} {
		if got := unshipped.MatchString(tc.s); got != tc.bad {
			t.Errorf("unshipped.MatchString(%s) = %v, want %v", tc.s, got, tc.bad)
		}
	}
}
