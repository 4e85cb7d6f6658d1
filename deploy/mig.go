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
	GPUs     []migGPU     `json:"gpus"`
	Profiles []migProfile `json:"profiles"`
}

// migGPU is a chip AKS offers MIG node pools on: every catalog GPU whose id
// starts with GPUIDPrefix.
type migGPU struct {
	GPUIDPrefix string `json:"gpu_id_prefix"`
	Name        string `json:"name"`
	Source      string `json:"source"`
}

// migProfile is one AKS --gpu-instance-profile value with the share of the
// GPU's memory a slice gets and the slices per GPU.
type migProfile struct {
	Name      string  `json:"name"`
	MemFrac   float64 `json:"mem_fraction"`
	Instances int     `json:"instances"`
	Source    string  `json:"source"`
}

// mig is the embedded MIG data; a broken file fails every test at init.
var mig = mustMIG(migYAML)

func mustMIG(b []byte) migCatalog {
	var c migCatalog
	if err := yaml.UnmarshalStrict(b, &c); err != nil {
		panic(fmt.Sprintf("deploy/data/mig.yaml: %v", err))
	}
	for _, p := range c.Profiles {
		if p.Name == "" || p.MemFrac <= 0 || p.MemFrac > 1 || p.Instances < 1 || !strings.HasPrefix(p.Source, "https://") {
			panic(fmt.Sprintf("deploy/data/mig.yaml: bad profile %+v (needs a name, 0 < mem_fraction <= 1, instances >= 1 and an https source)", p))
		}
	}
	for _, g := range c.GPUs {
		if g.GPUIDPrefix == "" || g.Name == "" || !strings.HasPrefix(g.Source, "https://") {
			panic(fmt.Sprintf("deploy/data/mig.yaml: bad gpu %+v (needs gpu_id_prefix, name and an https source)", g))
		}
	}
	if len(c.GPUs) == 0 || len(c.Profiles) == 0 {
		panic("deploy/data/mig.yaml: needs gpus and profiles")
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

// CheckMIGProfile checks a --mig-profile value, case-insensitively (""
// is no partitioning).
func CheckMIGProfile(s string) error {
	if _, ok := lookupMIG(s); s != "" && !ok {
		return fmt.Errorf("--mig-profile %q: use %s", s, strings.Join(MIGProfileNames(), ", "))
	}
	return nil
}

// MIGProfileNames lists the --mig-profile values (data/mig.yaml).
func MIGProfileNames() []string {
	out := make([]string, len(mig.Profiles))
	for i, p := range mig.Profiles {
		out[i] = p.Name
	}
	return out
}

// migCapable reports whether AKS offers MIG on the chip.
func migCapable(gpuID string) bool {
	for _, g := range mig.GPUs {
		if strings.HasPrefix(gpuID, g.GPUIDPrefix) {
			return true
		}
	}
	return false
}

// migGPUNames lists the chips AKS offers MIG on, for messages
// ("A100, H100 and H200").
func migGPUNames() string {
	n := make([]string, len(mig.GPUs))
	for i, g := range mig.GPUs {
		n[i] = g.Name
	}
	if len(n) == 1 {
		return n[0]
	}
	return strings.Join(n[:len(n)-1], ", ") + " and " + n[len(n)-1]
}

// migDocs is the AKS page the MIG rows cite.
func migDocs() string { return strings.Split(mig.GPUs[0].Source, "; ")[0] }
