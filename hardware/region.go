package hardware

import (
	"fmt"
	"strings"
)

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
