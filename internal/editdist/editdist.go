// Package editdist is the one edit-distance function behind "did you
// mean" suggestions (model ids, regions).
package editdist

// Levenshtein is the edit distance between a and b, in bytes. Inputs
// longer than limit are not compared (the answer is limit + 1), so a
// hostile argument costs at most limit² steps.
func Levenshtein(a, b string, limit int) int {
	if len(a) > limit || len(b) > limit {
		return limit + 1
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
