package main

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"
)

// runEnv runs the CLI with extra environment variables.
func runEnv(t *testing.T, env map[string]string, args ...string) (string, string, int) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	opts := testOptions(&stdout, &stderr)
	opts.Getenv = func(k string) string { return env[k] }
	code := Run(context.Background(), args, opts)
	return stdout.String(), stderr.String(), code
}

// TestOutputFitsWidth: with COLUMNS set, human output fits it (columns
// hidden in a stated order, long text wrapped); piped without COLUMNS, or
// with --wide, every column is printed as before; JSON ignores the width.
func TestOutputFitsWidth(t *testing.T) {
	for _, args := range [][]string{{"guide"}, {"gpus"}, {"models"}} {
		full, _, code := runEnv(t, nil, args...)
		if code != 0 {
			t.Fatalf("%v: exit %d", args, code)
		}
		wideLine := 0
		for _, l := range strings.Split(full, "\n") {
			wideLine = max(wideLine, utf8.RuneCountInString(l))
		}
		if wideLine <= 120 {
			t.Fatalf("%v is only %d columns wide without COLUMNS; the test needs a wide table", args, wideLine)
		}
		for _, width := range []string{"80", "100", "120"} {
			out, _, code := runEnv(t, map[string]string{"COLUMNS": width}, args...)
			if code != 0 {
				t.Fatalf("%v COLUMNS=%s: exit %d", args, width, code)
			}
			w := map[string]int{"80": 80, "100": 100, "120": 120}[width]
			for _, l := range strings.Split(out, "\n") {
				if n := utf8.RuneCountInString(l); n > w {
					t.Errorf("%v COLUMNS=%s: line of %d columns: %q", args, width, n, l)
				}
			}
			if !strings.Contains(out, "--wide shows every column") {
				t.Errorf("%v COLUMNS=%s: no line says columns were hidden", args, width)
			}
			wide, _, _ := runEnv(t, map[string]string{"COLUMNS": width}, append([]string{"--wide"}, args...)...)
			if wide != full {
				t.Errorf("%v --wide COLUMNS=%s differs from the full output", args, width)
			}
			j1, _, _ := runEnv(t, map[string]string{"COLUMNS": width}, append(args, "-o", "json")...)
			j2, _, _ := runEnv(t, nil, append(args, "-o", "json")...)
			if j1 != j2 {
				t.Errorf("%v: JSON depends on COLUMNS", args)
			}
		}
	}
}

// TestTextTableNotes: long cells of a notes column become numbered notes
// below the table when fitting a width, and stay in the row otherwise.
func TestTextTableNotes(t *testing.T) {
	tab := textTable{
		Header: []string{"RANK", "VM", "WHY"},
		Rows: [][]string{
			{"1", "Standard_NC40ads_H100_v5", "short"},
			{"2", "Standard_ND96isr_H100_v5", "1 replica of TP 8×PP 1 at bf16; memory bandwidth-bound; the KV pool holds 128 sequences"},
		},
		Notes: []int{2},
	}
	var b bytes.Buffer
	if err := tab.write(&b, 60); err != nil {
		t.Fatal(err)
	}
	want := "RANK  VM                        WHY\n" +
		"1     Standard_NC40ads_H100_v5  short\n" +
		"2     Standard_ND96isr_H100_v5  [1]\n" +
		"[1] 1 replica of TP 8×PP 1 at bf16; memory bandwidth-bound;\n" +
		"    the KV pool holds 128 sequences\n"
	if b.String() != want {
		t.Errorf("got:\n%s\nwant:\n%s", b.String(), want)
	}
	b.Reset()
	if err := tab.write(&b, 0); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "2     Standard_ND96isr_H100_v5  1 replica of TP 8×PP 1") {
		t.Errorf("without a width the reason stays in the row:\n%s", b.String())
	}
}

// TestPlanPricesFitWidth: plan (its GPU, CPU and Azure OpenAI tables, and
// the CPU "why not" lines) and prices follow the same width rule as the
// other tables: at COLUMNS=80 and 120 no line is wider (columns hidden in
// a stated order, long text in numbered notes below); piped without
// COLUMNS every column is printed, as with --wide; JSON ignores the width.
func TestPlanPricesFitWidth(t *testing.T) {
	for _, tt := range []struct {
		name    string
		args    []string
		headers []string // every column of the full output
	}{
		{"plan-managed", planArgs, []string{"GPUS", "REGION", "$/MTOK", "TOK/S", "CORES", "NEEDS", "GB/s", "DEPLOYMENT", "PEAK RPM", "TPM"}},
		{"plan-cpu-why-not", []string{"plan", "llama-3.1-70b-instruct", "--context", "8192", "--rps", "2", "--input-tokens", "2000", "--output-tokens", "300", "--ttft-slo-ms", "2000", "--tpot-slo-ms", "60", "--precision", "bf16,fp8", "--top", "5"},
			[]string{"GPUS", "REGION", "$/MTOK", "TOK/S", "Why not (closest CPU size per series)"}},
		{"prices-region", []string{"prices", "--region", "westeurope"}, []string{"REGION", "USD/GPU-HOUR", "USD/MONTH", "AS OF", "SRC"}},
		{"prices-vm", []string{"prices", "--vm", "nd96isr_h200_v5"}, []string{"REGION", "USD/GPU-HOUR", "USD/MONTH", "AS OF", "SRC"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			env := func(columns string) map[string]string {
				return map[string]string{"GPUPLAN_CACHE_DIR": t.TempDir(), "COLUMNS": columns}
			}
			full, errOut, code := runEnv(t, env(""), tt.args...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			for _, h := range tt.headers {
				if !strings.Contains(full, h) {
					t.Errorf("piped output without COLUMNS lacks %q:\n%s", h, full)
				}
			}
			if strings.Contains(full, "column(s) hidden") {
				t.Errorf("piped output without COLUMNS hides columns:\n%s", full)
			}
			for _, w := range []int{80, 120} {
				cols := fmt.Sprint(w)
				out, _, code := runEnv(t, env(cols), tt.args...)
				if code != 0 {
					t.Fatalf("COLUMNS=%d: exit %d", w, code)
				}
				for _, l := range strings.Split(out, "\n") {
					if n := utf8.RuneCountInString(l); n > w && !hasUnbreakableWord(l, w) {
						t.Errorf("COLUMNS=%d: line of %d columns: %q", w, n, l)
					}
				}
				if w == 80 && !strings.Contains(out, "column(s) hidden to fit 80 columns") {
					t.Errorf("COLUMNS=80: no line says which columns were hidden:\n%s", out)
				}
				wide, _, _ := runEnv(t, env(cols), append([]string{"--wide"}, tt.args...)...)
				if wide != full {
					t.Errorf("--wide COLUMNS=%d differs from the piped output", w)
				}
				j1, _, _ := runEnv(t, env(cols), append(append([]string(nil), tt.args...), "-o", "json")...)
				j2, _, _ := runEnv(t, env(""), append(append([]string(nil), tt.args...), "-o", "json")...)
				if j1 != j2 {
					t.Errorf("COLUMNS=%d: JSON depends on COLUMNS", w)
				}
			}
		})
	}
}

// hasUnbreakableWord reports whether line holds a word (a source URL) too
// long for any line of width once indented: only such lines may exceed it.
func hasUnbreakableWord(line string, width int) bool {
	for _, f := range strings.Fields(line) {
		if utf8.RuneCountInString(f) > width-8 {
			return true
		}
	}
	return false
}
