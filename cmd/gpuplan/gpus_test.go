package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// hwNow is the pinned clock of the hardware command tests.
var hwNow = time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)

// runHW runs the CLI in-process with a pinned clock and an isolated cache.
func runHW(t *testing.T, cacheDir string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errb bytes.Buffer
	code = Run(context.Background(), args, Options{
		Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb,
		Now: func() time.Time { return hwNow },
		Getenv: func(k string) string {
			if k == "GPUPLAN_CACHE_DIR" {
				return cacheDir
			}
			return ""
		},
	})
	return out.String(), errb.String(), code
}

func TestGPUsGolden(t *testing.T) {
	checkGoldenRuns(t, func(t *testing.T, args ...string) (string, string, int) { return runHW(t, t.TempDir(), args...) }, []goldenRun{
		{"gpus.txt", []string{"gpus"}, exitOK},
		{"gpus.json", []string{"gpus", "-o", "json"}, exitOK},
		{"gpus-h100-nvl.txt", []string{"gpus", "h100-nvl"}, exitOK},
		{"gpus-h100-nvl.json", []string{"gpus", "h100-nvl", "-o", "json"}, exitOK},
	})
}

func TestGPUsJSONValues(t *testing.T) {
	out, _, code := runHW(t, t.TempDir(), "gpus", "-o", "json")
	if code != 0 {
		t.Fatal(code)
	}
	var doc struct {
		Currency   string  `json:"currency"`
		Region     string  `json:"region"`
		PricesAsOf *string `json:"prices_as_of"`
		GPUs       []struct {
			ID              string              `json:"id"`
			CUDAMemoryBytes *int64              `json:"cuda_memory_bytes"`
			DenseTFLOPS     map[string]*float64 `json:"dense_tflops"`
		} `json:"gpus"`
		VMSizes []struct {
			Name          string   `json:"name"`
			USDPerHour    *float64 `json:"usd_per_hour"`
			USDPerGPUHour *float64 `json:"usd_per_gpu_hour"`
			USDPerMonth   *float64 `json:"usd_per_month"`
			PriceAsOf     *string  `json:"price_as_of"`
		} `json:"vm_sizes"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Currency != "USD" || doc.Region != "eastus" || doc.PricesAsOf == nil || *doc.PricesAsOf != "2026-05-20" {
		t.Errorf("header = %s %s %v", doc.Currency, doc.Region, doc.PricesAsOf)
	}
	for _, g := range doc.GPUs {
		if g.ID == "t4" {
			if g.DenseTFLOPS["bf16"] != nil || g.DenseTFLOPS["fp32"] != nil {
				t.Errorf("T4 unknown rates must be null: %v", g.DenseTFLOPS)
			}
			if _, present := g.DenseTFLOPS["bf16"]; !present {
				t.Error("unknown rates must be present as null, not omitted")
			}
		}
	}
	for _, v := range doc.VMSizes {
		switch v.Name {
		case "Standard_ND96isr_H100_v5":
			// 98.32 $/h over 8 GPUs = 12.29 $/GPU-hour; x 730 h = 71,773.60 $/month.
			if v.USDPerHour == nil || *v.USDPerHour != 98.32 || *v.USDPerGPUHour != 12.29 || *v.USDPerMonth != 71773.6 || *v.PriceAsOf != "2026-11-09" {
				t.Errorf("H100 VM row = %+v", v)
			}
		case "Standard_NC80adis_H100_v5":
			// Linux 13.96 / 2 (17.64 was the Windows price).
			if *v.USDPerGPUHour != 6.98 {
				t.Errorf("NC80adis per GPU = %v", *v.USDPerGPUHour)
			}
		case "Standard_ND96isr_H200_v5":
			// Sold in eastus2, westus2 and westus3 but not eastus.
			if v.USDPerHour != nil || v.PriceAsOf != nil {
				t.Errorf("H200 has no eastus price; got %v", *v.USDPerHour)
			}
		}
	}
}

func TestGPUsFiltersAndErrors(t *testing.T) {
	out, _, code := runHW(t, t.TempDir(), "gpus", "--vendor", "amd")
	if code != 0 || !strings.Contains(out, "mi300x") || strings.Contains(out, "h100-sxm") || !strings.Contains(out, "Standard_ND96isr_MI300X_v5") {
		t.Errorf("--vendor amd (exit %d):\n%s", code, out)
	}
	_, errOut, code := runHW(t, t.TempDir(), "gpus", "h100")
	if code != exitUsage || !strings.Contains(errOut, "h100-sxm, h100-pcie, h100-nvl") {
		t.Errorf("ambiguous id: exit %d, %q", code, errOut)
	}
	_, errOut, code = runHW(t, t.TempDir(), "gpus", "--vendor", "intel")
	if code != exitUsage || !strings.Contains(errOut, "nvidia or amd") {
		t.Errorf("bad vendor: exit %d, %q", code, errOut)
	}
	_, errOut, code = runHW(t, t.TempDir(), "gpus", "--region", "east-us!")
	if code != exitUsage {
		t.Errorf("bad region: exit %d, %q", code, errOut)
	}
	out, _, code = runHW(t, t.TempDir(), "gpus", "--region", "West US 3")
	if code != 0 || !strings.Contains(out, "$/HOUR (westus3)") {
		t.Errorf("display-name region: exit %d\n%s", code, out)
	}
}
