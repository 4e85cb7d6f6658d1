package cost

import (
	"embed"
	"fmt"
	"math"
	"sync"

	"sigs.k8s.io/yaml"

	"github.com/gpuplan/gpuplan/hardware"
)

//go:embed data/azure-openai-quotas.yaml
var quotaFS embed.FS

// DefaultQuota is a subscription's default pay-as-you-go quota for a model
// and deployment type in one region: tokens and requests per minute.
type DefaultQuota struct {
	Model      string         `json:"model"`
	Deployment DeploymentType `json:"deployment"`
	TPM        float64        `json:"tpm"`
	RPM        float64        `json:"rpm"`
	Source     string         `json:"source"`
	AsOf       hardware.Date  `json:"as_of"`
}

type quotaFile struct {
	Sources []struct {
		Key   string `json:"key"`
		Title string `json:"title"`
		URL   string `json:"url"`
	} `json:"sources"`
	Quotas []DefaultQuota `json:"quotas"`
}

var (
	quotaOnce sync.Once
	quotas    []DefaultQuota
	quotaURLs map[string]string
	quotaErr  error
)

func loadQuotas() {
	raw, err := quotaFS.ReadFile("data/azure-openai-quotas.yaml")
	if err == nil {
		var js []byte
		if js, err = yaml.YAMLToJSON(raw); err == nil {
			var f quotaFile
			if err = strictJSON(js, &f); err == nil {
				quotaURLs = map[string]string{}
				for _, s := range f.Sources {
					quotaURLs[s.Key] = s.URL
				}
				for _, q := range f.Quotas {
					if quotaURLs[q.Source] == "" || !validDeployment(q.Deployment) || !plausible(q.TPM, 1e10) || !plausible(q.RPM, 1e8) || q.AsOf.IsZero() {
						err = fmt.Errorf("quota row %+v: needs a known source, a deployment type, positive TPM and RPM and as_of", q)
						break
					}
				}
				quotas = f.Quotas
			}
		}
	}
	if err != nil {
		quotaErr = fmt.Errorf("embedded azure-openai-quotas.yaml: %w", err)
	}
}

// DefaultQuotas returns the embedded default-quota table.
func DefaultQuotas() ([]DefaultQuota, error) {
	quotaOnce.Do(loadQuotas)
	return append([]DefaultQuota(nil), quotas...), quotaErr
}

// LookupDefaultQuota returns the default quota of model in deployment d;
// ok is false when the table does not state one (the quota is unknown).
func LookupDefaultQuota(model string, d DeploymentType) (DefaultQuota, bool) {
	qs, err := DefaultQuotas()
	if err != nil {
		return DefaultQuota{}, false
	}
	for _, q := range qs {
		if normalizeModel(q.Model) == normalizeModel(model) && q.Deployment == d {
			return q, true
		}
	}
	return DefaultQuota{}, false
}

// QuotaSourceURL is the public address of a quota row's source key.
func QuotaSourceURL(key string) string {
	quotaOnce.Do(loadQuotas)
	return quotaURLs[key]
}

// QuotaCheck says how a load's tokens and requests per minute compare with
// the default pay-as-you-go quota: "" when within it, otherwise a sentence
// naming the quota and its source, or that the default quota is unknown.
func QuotaCheck(model string, d DeploymentType, tpm, rpm float64) string {
	q, ok := LookupDefaultQuota(model, d)
	if !ok {
		return fmt.Sprintf("default %s %s quota unknown (gpuplan's table covers gpt-4o, gpt-4.1, gpt-4.1-mini and gpt-5.2); check it in the Foundry portal", model, d.DisplayName())
	}
	switch {
	case tpm > q.TPM:
		return fmt.Sprintf("%s TPM exceeds the default %s %s quota of %s TPM per region (%s, %s): request more quota, spread regions, or use PTU",
			FormatCount(tpm), model, d.DisplayName(), FormatCount(q.TPM), QuotaSourceURL(q.Source), q.AsOf)
	case rpm > q.RPM:
		return fmt.Sprintf("%s RPM exceeds the default %s %s quota of %s RPM per region (%s, %s): request more quota, spread regions, or use PTU",
			FormatCount(rpm), model, d.DisplayName(), FormatCount(q.RPM), QuotaSourceURL(q.Source), q.AsOf)
	}
	return ""
}

// FormatCount prints a count rounded to a whole number with thousands
// separators ("1,000,000").
func FormatCount(v float64) string {
	s := FormatAmount(math.Round(v))
	if i := len(s) - 3; i > 0 && s[i] == '.' {
		s = s[:i]
	}
	return s
}
