// Package testmodel gives tests the models of the embedded catalog by id
// or alias, failing the test when the catalog lacks one: the one helper
// the memory, perf and plan tests share instead of each keeping a copy.
package testmodel

import (
	"testing"

	"github.com/gpuplan/gpuplan/model"
)

// Spec returns the embedded catalog's Spec for id (a Hugging Face id or a
// catalog alias). Each call returns a fresh Spec, so a test may change it.
func Spec(t testing.TB, id string) *model.Spec {
	t.Helper()
	cat, err := model.EmbeddedCatalog()
	if err != nil {
		t.Fatal(err)
	}
	s, _, err := cat.Lookup(id)
	if err != nil {
		t.Fatal(err)
	}
	return s
}
