package editdist

import "testing"

func TestLevenshtein(t *testing.T) {
	for _, c := range []struct {
		a, b  string
		limit int
		want  int
	}{
		{"", "", 10, 0},
		{"eastus", "eastus", 10, 0},
		{"eastus", "eastus2", 10, 1},
		{"westeurope", "westeruope", 20, 2}, // a transposition is two edits
		{"kitten", "sitting", 10, 3},
		{"llama-3.1-8b", "lama-3.1-8b", 20, 1},
		{"abcdefghijk", "x", 10, 11}, // longer than the limit: limit + 1
	} {
		if got := Levenshtein(c.a, c.b, c.limit); got != c.want {
			t.Errorf("Levenshtein(%q, %q, %d) = %d, want %d", c.a, c.b, c.limit, got, c.want)
		}
	}
}
