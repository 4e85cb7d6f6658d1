package deploy

import (
	"strings"
	"testing"
)

// TestMIGData checks deploy/data/mig.yaml against NVIDIA's A100 80GB table
// (MIG user guide, "Supported MIG Profiles": 1g.10gb ×7, 2g.20gb ×3,
// 3g.40gb ×2, 4g.40gb ×1, 7g.80gb ×1) and that its sources are public URLs.
func TestMIGData(t *testing.T) {
	want := map[string][2]float64{"MIG1g": {10, 7}, "MIG2g": {20, 3}, "MIG3g": {40, 2}, "MIG4g": {40, 1}, "MIG7g": {80, 1}}
	if len(mig.Profiles) != len(want) {
		t.Errorf("%d profiles, want %d", len(mig.Profiles), len(want))
	}
	for name, w := range want {
		p, ok := lookupMIG(strings.ToLower(name))
		if !ok {
			t.Errorf("%s missing", name)
			continue
		}
		if gb := p.MemFrac * 80; gb != w[0] || float64(p.Instances) != w[1] {
			t.Errorf("%s: %.0f GB × %d on an A100 80GB, want %.0f GB × %.0f", name, gb, p.Instances, w[0], w[1])
		}
	}
	if got := migGPUNames(); got != "A100, H100 and H200" {
		t.Errorf("migGPUNames() = %q, want the AKS page's A100, H100 and H200", got)
	}
	for id, ok := range map[string]bool{"a100-80gb-pcie": true, "h100-sxm": true, "h200": true, "t4": false, "mi300x": false, "l40s": false} {
		if migCapable(id) != ok {
			t.Errorf("migCapable(%s) = %v", id, !ok)
		}
	}
}

// TestMIGDataRejectsUnsourcedRows: a row without an https source, or a file
// without chips, does not load.
func TestMIGDataRejectsUnsourcedRows(t *testing.T) {
	for name, doc := range map[string]string{
		"profile without source": "gpus: [{gpu_id_prefix: a100, name: A100, source: 'https://x'}]\nprofiles: [{name: MIG1g, mem_fraction: 0.125, instances: 7}]\n",
		"gpu without source":     "gpus: [{gpu_id_prefix: a100, name: A100}]\nprofiles: [{name: MIG1g, mem_fraction: 0.125, instances: 7, source: 'https://x'}]\n",
		"no gpus":                "profiles: [{name: MIG1g, mem_fraction: 0.125, instances: 7, source: 'https://x'}]\n",
		"unknown field":          "gpus: [{gpu_id_prefix: a100, name: A100, source: 'https://x'}]\nprofiles: []\naks_docs: x\n",
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: mustMIG loaded it", name)
				}
			}()
			mustMIG([]byte(doc))
		}()
	}
}
