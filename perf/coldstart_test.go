package perf

import (
	"strings"
	"testing"
)

// TestCappedByNetwork: a remote source is limited by the VM's network
// (Blob's 120 Gbps account limit reaches an 80 Gbps ND H100 v5 at 10 GB/s);
// a local source, or a VM whose bandwidth is unknown, is not.
func TestCappedByNetwork(t *testing.T) {
	blob, _ := LookupLoadSource("blob")
	nvme, _ := LookupLoadSource("nvme")
	hf, _ := LookupLoadSource("hf")
	for _, tc := range []struct {
		src  LoadSource
		bits float64
		want float64
	}{
		{blob, 80_000e6, 10e9},  // ND96isr_H100_v5: 80,000 Mbps
		{blob, 20_000e6, 2.5e9}, // NC24ads_A100_v4: 20,000 Mbps
		{blob, 160_000e6, 15e9}, // faster than the account: the account's limit stays
		{blob, 0, 15e9},         // unknown bandwidth
		{nvme, 5_000e6, 7.88e9}, // local disk: no network involved
		{hf, 5_000e6, 500e6},    // 625 MB/s of network is above the Hub's 500 MB/s
	} {
		got := tc.src.CappedByNetwork("vm", tc.bits)
		if got.BytesPerS != tc.want {
			t.Errorf("%s at %.0f bit/s: %g bytes/s, want %g", tc.src.Name, tc.bits, got.BytesPerS, tc.want)
		}
		if (got.BytesPerS != tc.src.BytesPerS) != strings.Contains(got.Basis, "capped by vm's network bandwidth") {
			t.Errorf("%s: basis %q does not say whether it was capped", tc.src.Name, got.Basis)
		}
	}
}
