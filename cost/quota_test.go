package cost

import (
	"os"
	"strconv"
	"strings"
	"testing"
)

// TestDefaultQuotasMatchDocs compares the embedded default-quota table with
// the rows copied from Microsoft's docs into testdata, both ways.
func TestDefaultQuotasMatchDocs(t *testing.T) {
	b, err := os.ReadFile("testdata/aoai-default-quotas.md")
	if err != nil {
		t.Fatal(err)
	}
	dep := map[string]DeploymentType{"GlobalStandard": Global, "DataZoneStandard": DataZone, "Standard": Regional}
	n := 0
	for _, line := range strings.Split(string(b), "\n") {
		if !strings.HasPrefix(line, "| ") {
			continue
		}
		var c []string
		for _, x := range strings.Split(strings.Trim(line, "|"), "|") {
			c = append(c, strings.TrimSpace(x))
		}
		rpm, _ := strconv.ParseFloat(c[2], 64)
		tpm, _ := strconv.ParseFloat(c[3], 64)
		q, ok := LookupDefaultQuota(c[0], dep[c[1]])
		if !ok || q.TPM != tpm || q.RPM != rpm {
			t.Errorf("%s %s = %+v (%v), docs %v TPM %v RPM", c[0], c[1], q, ok, tpm, rpm)
		}
		n++
	}
	all, err := DefaultQuotas()
	if err != nil || len(all) != n || n != 10 {
		t.Errorf("%d embedded rows (err %v), %d in the docs copy", len(all), err, n)
	}
}

func TestQuotaCheck(t *testing.T) {
	for _, c := range []struct {
		model    string
		d        DeploymentType
		tpm, rpm float64
		want     string
	}{
		{"gpt-4.1-mini", Global, 543510, 453, ""},
		{"gpt-4.1", DataZone, 543510, 100, "543,510 TPM exceeds the default gpt-4.1 Data Zone quota of 300,000 TPM"},
		{"gpt-4o", Regional, 1000, 901, "901 RPM exceeds the default gpt-4o Regional quota of 900 RPM"},
		{"gpt-4.1", Regional, 1, 1, "quota unknown"},
		{"o3", Global, 1, 1, "quota unknown"},
	} {
		got := QuotaCheck(c.model, c.d, c.tpm, c.rpm)
		if (c.want == "" && got != "") || !strings.Contains(got, c.want) {
			t.Errorf("QuotaCheck(%s, %s, %v, %v) = %q, want %q", c.model, c.d, c.tpm, c.rpm, got, c.want)
		}
	}
}
