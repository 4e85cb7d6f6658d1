package model

import (
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/gpuplan/gpuplan/internal/editdist"
)

// suggest returns up to catalogMaxSuggestions catalog ids close to ref: ids
// or aliases that contain it (or that it contains), then those within a
// small edit distance. Caller holds the read lock.
func (c *Catalog) suggest(ref string) []string {
	r := normalizeRef(ref)
	if r == "" || len(r) > catalogMaxRef {
		return nil
	}
	name := r
	if k := strings.LastIndexByte(r, '/'); k >= 0 {
		name = r[k+1:]
	}
	best := map[int]int{} // entry index → score (lower is closer)
	consider := func(i int, cand string) {
		score := -1
		switch {
		case len(name) >= 3 && (strings.Contains(cand, name) || strings.Contains(name, cand)):
			score = 0
		default:
			d := editdist.Levenshtein(name, cand, catalogMaxRef)
			if limit := max(2, len(name)/3); d <= limit {
				score = d
			}
		}
		if score < 0 {
			return
		}
		if old, ok := best[i]; !ok || score < old {
			best[i] = score
		}
	}
	for i, e := range c.entries {
		id := strings.ToLower(e.ID)
		consider(i, id[strings.LastIndexByte(id, '/')+1:])
		for _, a := range e.Aliases {
			consider(i, a)
		}
	}
	idx := make([]int, 0, len(best))
	for i := range best {
		idx = append(idx, i)
	}
	sort.Slice(idx, func(a, b int) bool {
		if best[idx[a]] != best[idx[b]] {
			return best[idx[a]] < best[idx[b]]
		}
		return c.entries[idx[a]].ID < c.entries[idx[b]].ID
	})
	if len(idx) > catalogMaxSuggestions {
		idx = idx[:catalogMaxSuggestions]
	}
	out := make([]string, len(idx))
	for k, i := range idx {
		out[k] = c.entries[i].ID
	}
	return out
}

// cardParamsRe reads the figures of a card_params string: "8B", "0.49B",
// "109B total / 17B active", "560M".
var cardParamsRe = regexp.MustCompile(`^\s*([0-9]+(?:\.[0-9]+)?)\s*([BM])(?:\s+total)?(?:\s*/\s*([0-9]+(?:\.[0-9]+)?)\s*([BM])\s+active)?\s*$`)

// parseCardParams returns the total and active counts a card_params string
// states (active is 0 when it states none).
func parseCardParams(s string) (total, active float64, err error) {
	m := cardParamsRe.FindStringSubmatch(s)
	if m == nil {
		return 0, 0, fmt.Errorf("card_params %q is not of the form \"8B\" or \"109B total / 17B active\"", s)
	}
	total, err = scaledCount(m[1], m[2])
	if err != nil {
		return 0, 0, err
	}
	if m[3] != "" {
		if active, err = scaledCount(m[3], m[4]); err != nil {
			return 0, 0, err
		}
	}
	return total, active, nil
}

func scaledCount(num, unit string) (float64, error) {
	v, err := strconv.ParseFloat(num, 64)
	if err != nil {
		return 0, err
	}
	switch unit {
	case "B":
		return v * 1e9, nil
	case "M":
		return v * 1e6, nil
	}
	return 0, fmt.Errorf("unknown unit %q", unit)
}

// publishedWhat lists the values PublishedCount.What may take.
var publishedWhat = map[string]bool{"total": true, "non_embedding": true, "language_model": true, "total_and_active": true}

// figures parses Value: exact is true for an integer count (total holds it
// exactly); otherwise total and active come from the card_params form.
func (pc *PublishedCount) figures() (total, active float64, exact bool, err error) {
	if !publishedWhat[pc.What] {
		return 0, 0, false, fmt.Errorf("published_count.what %q is not total, non_embedding, language_model or total_and_active", pc.What)
	}
	if strings.TrimSpace(pc.Source) == "" {
		return 0, 0, false, errors.New("published_count.source is required")
	}
	if n, err := strconv.ParseInt(pc.Value, 10, 64); err == nil {
		if n <= 0 {
			return 0, 0, false, fmt.Errorf("published_count.value %q must be positive", pc.Value)
		}
		if pc.What == "total_and_active" {
			return 0, 0, false, errors.New("published_count: an exact value cannot state both total and active")
		}
		return float64(n), 0, true, nil
	}
	total, active, err = parseCardParams(pc.Value)
	if err != nil {
		return 0, 0, false, fmt.Errorf("published_count.value: %w", err)
	}
	if (pc.What == "total_and_active") != (active > 0) {
		return 0, 0, false, fmt.Errorf("published_count.value %q does not match what %q", pc.Value, pc.What)
	}
	return total, active, false, nil
}
