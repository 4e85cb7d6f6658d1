package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/gpuplan/gpuplan/model"
)

// TestModelsConfigKind checks that `models` tells the kinds of catalog
// config apart: Google's verbatim gemma-2-9b-it file, the reconstructed
// gemma-2-2b-it config, and a quantized variant, which shows its base's
// kind.
func TestModelsConfigKind(t *testing.T) {
	out, errOut, code := run(t, "models", "gemma-2", "-o", "json")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var v struct {
		Models []model.CatalogListingRow `json:"models"`
	}
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		t.Fatal(err)
	}
	kinds := map[string]string{}
	for _, r := range v.Models {
		kinds[r.ID] = r.ConfigKind
	}
	for id, want := range map[string]string{"google/gemma-2-9b-it": "verbatim", "google/gemma-2-2b-it": "reconstructed"} {
		if kinds[id] != want {
			t.Errorf("%s: config_kind %q, want %q (rows %v)", id, kinds[id], want, kinds)
		}
	}

	out, errOut, code = run(t, "models", "mistral-small-3.1", "-o", "json")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		t.Fatal(err)
	}
	for _, r := range v.Models {
		if r.ConfigKind != "reconstructed" {
			t.Errorf("%s: config_kind %q, want reconstructed (a variant shows its base's kind)", r.ID, r.ConfigKind)
		}
	}

	out, _, code = run(t, "models", "codellama")
	if code != exitOK || !strings.Contains(out, "transcribed") || !strings.Contains(out, "CONFIG") {
		t.Errorf("table output does not show the CONFIG column with 'transcribed':\n%s", out)
	}
}
