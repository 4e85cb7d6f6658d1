package main

import (
	"fmt"
	"math"
	"strconv"
)

// plural is "1 sequence", "2 sequences".
func plural(n int64, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.FormatInt(n, 10) + " " + many
}

// gpuCount prints a number of GPUs: whole numbers as they are, a partial
// GPU as the fraction Azure states (1/6, 1/3, 1/2), not 0.3333333333333333.
func gpuCount(n float64) string {
	if n == math.Trunc(n) {
		return strconv.FormatFloat(n, 'f', 0, 64)
	}
	for d := 2; d <= 12; d++ {
		num := n * float64(d)
		if r := math.Round(num); math.Abs(num-r) < 1e-9 {
			return fmt.Sprintf("%d/%d", int(r), d)
		}
	}
	return strconv.FormatFloat(n, 'g', 3, 64)
}

// quotaText is a VM size's vCPU quota family with the vCPUs a plan needs;
// "unknown" when the catalog does not know the family, never a blank.
func quotaText(family string, vcpus int) string {
	if family == "" {
		family = "unknown"
	}
	return fmt.Sprintf("%s (%d)", family, vcpus)
}
