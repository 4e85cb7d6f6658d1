package hardware

import (
	"fmt"
	"sort"
	"strings"

	"github.com/gpuplan/gpuplan/internal/editdist"
)

// maxRegionNameBytes bounds the names CloseRegions compares: ARM region
// names are under 30 bytes, so a longer --region is close to none.
const maxRegionNameBytes = 64

// regionDisplay maps ARM region names to the display names Azure pages
// use, for the regions the catalog mentions. Other regions still work:
// NormalizeRegion's rule covers every "Word Word N" display name.
var regionDisplay = map[string]string{
	"australiaeast": "Australia East", "brazilsouth": "Brazil South", "centralindia": "Central India",
	"centralus": "Central US", "eastus": "East US", "eastus2": "East US 2", "francecentral": "France Central",
	"italynorth": "Italy North", "japaneast": "Japan East", "northcentralus": "North Central US",
	"northeurope": "North Europe", "southcentralus": "South Central US", "southeastasia": "Southeast Asia",
	"southindia": "South India", "swedencentral": "Sweden Central", "uksouth": "UK South",
	"westeurope": "West Europe", "westus": "West US", "westus2": "West US 2", "westus3": "West US 3",
	"canadacentral": "Canada Central", "koreacentral": "Korea Central",
}

// retailLocations maps the Retail Prices API's `location` spellings that
// the display-name rule does not cover ("US East", "EU West").
var retailLocations = map[string]string{
	"us east": "eastus", "us east 2": "eastus2", "us west": "westus", "us west 2": "westus2", "us west 3": "westus3",
	"us central": "centralus", "us north central": "northcentralus", "us south central": "southcentralus",
	"eu west": "westeurope", "eu north": "northeurope", "ap southeast": "southeastasia",
	"south east asia": "southeastasia",
}

// NormalizeRegion turns a region given as an ARM name ("eastus"), a display
// name ("East US", "West US 3") or a Retail Prices location ("US East")
// into the ARM name.
func NormalizeRegion(s string) (string, error) {
	t := strings.ToLower(strings.Join(strings.Fields(s), " "))
	if t == "" {
		return "", fmt.Errorf("empty region: give an Azure region name such as eastus")
	}
	if arm, ok := retailLocations[t]; ok {
		return arm, nil
	}
	arm := strings.ReplaceAll(t, " ", "")
	for _, r := range arm {
		if (r < 'a' || r > 'z') && (r < '0' || r > '9') {
			return "", fmt.Errorf("region %q: want an Azure region name such as eastus or \"East US\"", s)
		}
	}
	if len(arm) > 40 {
		return "", fmt.Errorf("region %q is too long to be an Azure region", s)
	}
	return arm, nil
}

// RegionDisplayName returns the display name of an ARM region, or the ARM
// name itself when the catalog does not know it.
func RegionDisplayName(arm string) string {
	if d, ok := regionDisplay[arm]; ok {
		return d
	}
	return arm
}

// KnownRegions lists the regions the catalog knows: those with a price in
// book, those of Container Apps profiles and those with a display name.
func (c *Catalog) KnownRegions(book PriceBook) []string {
	seen := map[string]bool{}
	for _, r := range book.Regions() {
		seen[r] = true
	}
	for _, p := range c.profiles {
		for _, r := range p.Regions {
			seen[r] = true
		}
	}
	for r := range regionDisplay {
		seen[r] = true
	}
	out := make([]string, 0, len(seen))
	for r := range seen {
		out = append(out, r)
	}
	sort.Strings(out)
	return out
}

// CloseRegions returns the known regions nearest to name (edit distance
// at most 3, or sharing a prefix of at least 4 letters), best first, at
// most five: the suggestions for a mistyped --region.
func CloseRegions(name string, known []string) []string {
	type cand struct {
		r string
		d int
	}
	var cs []cand
	for _, k := range known {
		d := editdist.Levenshtein(name, k, maxRegionNameBytes)
		if d <= 3 || (len(name) >= 4 && strings.HasPrefix(k, name[:4])) {
			cs = append(cs, cand{k, d})
		}
	}
	sort.SliceStable(cs, func(i, j int) bool { return cs[i].d < cs[j].d })
	var out []string
	for i, c := range cs {
		if i == 5 {
			break
		}
		out = append(out, c.r)
	}
	return out
}
