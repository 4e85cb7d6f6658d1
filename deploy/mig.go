package deploy

import (
	_ "embed"
	"fmt"
	"strings"

	"sigs.k8s.io/yaml"
)

// migYAML is deploy/data/mig.yaml: the MIG profiles AKS accepts and the
// chips it offers MIG on, with their sources.
//
//go:embed data/mig.yaml
var migYAML []byte

// migCatalog is the decoded mig.yaml.
type migCatalog struct {
	AKSDocs             string       `json:"aks_docs"`
	GPUIDPrefixes       []string     `json:"gpu_id_prefixes"`
	GPUIDPrefixesSource string       `json:"gpu_id_prefixes_source"`
	ProfilesSource      string       `json:"profiles_source"`
	Profiles            []migProfile `json:"profiles"`
}

// migProfile is one AKS --gpu-instance-profile value with the share of the
// GPU's memory a slice gets and the slices per GPU.
type migProfile struct {
	Name      string  `json:"name"`
	MemFrac   float64 `json:"mem_fraction"`
	Instances int     `json:"instances"`
}

// mig is the embedded MIG data; a broken file fails every test at init.
var mig = mustMIG(migYAML)

func mustMIG(b []byte) migCatalog {
	var c migCatalog
	if err := yaml.UnmarshalStrict(b, &c); err != nil {
		panic(fmt.Sprintf("deploy/data/mig.yaml: %v", err))
	}
	for _, p := range c.Profiles {
		if p.Name == "" || p.MemFrac <= 0 || p.MemFrac > 1 || p.Instances < 1 {
			panic(fmt.Sprintf("deploy/data/mig.yaml: bad profile %+v", p))
		}
	}
	return c
}

func lookupMIG(s string) (migProfile, bool) {
	for _, p := range mig.Profiles {
		if strings.EqualFold(p.Name, s) {
			return p, true
		}
	}
	return migProfile{}, false
}

// migProfileNames lists the --mig-profile values.
func migProfileNames() []string {
	out := make([]string, len(mig.Profiles))
	for i, p := range mig.Profiles {
		out[i] = p.Name
	}
	return out
}

// migCapable reports whether AKS offers MIG on the chip.
func migCapable(gpuID string) bool {
	for _, p := range mig.GPUIDPrefixes {
		if strings.HasPrefix(gpuID, p) {
			return true
		}
	}
	return false
}
