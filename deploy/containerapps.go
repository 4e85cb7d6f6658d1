package deploy

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/gpuplan/gpuplan/hardware"
)

// Container Apps YAML for `az containerapp create --yaml`. Field names
// follow the Container Apps ARM/YAML specification (azure-docs
// container-apps/azure-resource-manager-api-spec.md) and the REST
// definitions (azure-rest-api-specs app/resource-manager Microsoft.App
// stable/2022-03-01 CommonDefinitions.json); every path is listed in
// testdata/azure-reference.yaml.
type acaApp struct {
	Location   string        `json:"location"`
	Properties acaProperties `json:"properties"`
}

type acaProperties struct {
	WorkloadProfileName string           `json:"workloadProfileName"`
	Configuration       acaConfiguration `json:"configuration"`
	Template            acaTemplate      `json:"template"`
}

type acaConfiguration struct {
	ActiveRevisionsMode string     `json:"activeRevisionsMode"`
	Ingress             acaIngress `json:"ingress"`
}

type acaIngress struct {
	External   bool `json:"external"`
	TargetPort int  `json:"targetPort"`
}

type acaTemplate struct {
	Containers []acaContainer `json:"containers"`
	Scale      acaScale       `json:"scale"`
}

type acaContainer struct {
	Name      string       `json:"name"`
	Image     string       `json:"image"`
	Command   []string     `json:"command"`
	Args      []string     `json:"args"`
	Resources acaResources `json:"resources"`
	Probes    []acaProbe   `json:"probes"`
}

type acaResources struct {
	CPU    float64 `json:"cpu"`
	Memory string  `json:"memory"`
}

type acaProbe struct {
	Type                string     `json:"type"`
	HTTPGet             acaHTTPGet `json:"httpGet"`
	InitialDelaySeconds int        `json:"initialDelaySeconds,omitempty"`
	PeriodSeconds       int        `json:"periodSeconds"`
	TimeoutSeconds      int        `json:"timeoutSeconds"`
	FailureThreshold    int        `json:"failureThreshold"`
}

type acaHTTPGet struct {
	Path string `json:"path"`
	Port int    `json:"port"`
}

type acaScale struct {
	MinReplicas int            `json:"minReplicas"`
	MaxReplicas int            `json:"maxReplicas"`
	Rules       []acaScaleRule `json:"rules,omitempty"`
}

type acaScaleRule struct {
	Name string       `json:"name"`
	HTTP *acaHTTPRule `json:"http"`
}

type acaHTTPRule struct {
	Metadata map[string]string `json:"metadata"`
}

// Container Apps probe limits (REST ContainerAppProbe, CommonDefinitions
// stable/2022-03-01): initialDelaySeconds at most 60, periodSeconds at most
// 240, failureThreshold at most 10.
const (
	acaMaxInitialDelay = 60
	acaMaxPeriod       = 240
	acaMaxFailures     = 10
)

const acaProfilePrefix = "Consumption-GPU-"

// acaProfile picks the serverless GPU workload profile for the candidate.
func (d *bundleBuilder) acaProfile() (hardware.ContainerAppsProfile, bool, error) {
	profiles := d.hw.ContainerAppsProfiles()
	var consumption []hardware.ContainerAppsProfile
	for _, p := range profiles {
		if p.Kind == "consumption" {
			consumption = append(consumption, p)
		}
	}
	types := func() string {
		var s []string
		for _, p := range consumption {
			s = append(s, p.Type)
		}
		return strings.Join(s, ", ")
	}
	if d.o.Profile != "" {
		for _, p := range consumption {
			if strings.EqualFold(p.Type, d.o.Profile) {
				return p, true, nil
			}
		}
		return hardware.ContainerAppsProfile{}, false, invalid("--aca-profile %q: serverless GPU profiles are %s", d.o.Profile, types())
	}
	for _, p := range consumption {
		if strings.EqualFold(p.VMSize, d.vm.Name) {
			return p, true, nil
		}
	}
	for _, p := range consumption {
		if p.GPU == d.gpu.ID {
			return p, true, nil
		}
	}
	d.refuse("no Container Apps serverless GPU profile has %s (profiles: %s); plan for a T4 or an A100 80GB PCIe, or use --target aks", d.gpu.Name, types())
	return hardware.ContainerAppsProfile{}, false, nil
}

func (d *bundleBuilder) buildContainerApps() error {
	prof, ok, err := d.acaProfile()
	if err != nil || !ok {
		return err
	}
	region := d.o.Region
	if region == "" {
		region = d.c.Region
	}
	if region == "" {
		return invalid("Container Apps needs a region: pass --region (the plan has none)")
	}
	if region, err = hardware.NormalizeRegion(region); err != nil {
		return invalid("--region: %v", err)
	}
	env := d.o.Environment
	if env == "" {
		env = d.name + "-env"
	}
	if err := checkName("--aca-environment", env); err != nil {
		return err
	}
	offered := false
	for _, r := range prof.Regions {
		if r == region {
			offered = true
		}
	}
	if !offered {
		d.refuse("%s is not offered in %s (offered in %s; %s)", prof.Type, region, strings.Join(prof.Regions, ", "), d.sourceURLs(prof.Source))
	}
	need := d.c.Engine.TP * d.c.Engine.PP
	if need > prof.GPUs || d.c.NodesPerReplica > 1 {
		d.refuse("the plan needs %d GPUs per replica but a %s replica gets %d (multi-GPU replicas are not supported on serverless GPUs); re-plan for one GPU or use --target aks", need, prof.Type, prof.GPUs)
	}
	if len(d.refusals) > 0 {
		return nil
	}
	if !strings.EqualFold(prof.VMSize, d.vm.Name) {
		d.note("The plan priced %s; the %s profile runs on %s-class hardware (%d vCPU, %.0f GiB per replica).", d.vm.Name, prof.Type, prof.VMSize, prof.VCPU, prof.RAM.GiB())
	}

	lo := 0 // serverless: scale to zero unless asked otherwise
	if d.o.MinReplicas != nil {
		lo = *d.o.MinReplicas
	}
	hi := d.c.Replicas
	if d.o.MaxReplicas > 0 {
		hi = d.o.MaxReplicas
	}
	if lo < 0 || hi < 1 || hi < lo {
		return invalid("replicas: want 0 <= --min-replicas <= --max-replicas and --max-replicas >= 1")
	}
	profileName := strings.TrimPrefix(prof.Type, acaProfilePrefix)

	app := acaApp{
		Location: region,
		Properties: acaProperties{
			WorkloadProfileName: profileName,
			Configuration: acaConfiguration{
				ActiveRevisionsMode: "Single",
				Ingress:             acaIngress{External: d.o.ExternalIngress, TargetPort: int(d.port())},
			},
			Template: acaTemplate{
				Containers: []acaContainer{{
					Name:      d.eng.Info().EngineName,
					Image:     d.image,
					Command:   d.serve().Command,
					Args:      d.serve().Args,
					Resources: acaResources{CPU: float64(prof.VCPU), Memory: fmt.Sprintf("%.0fGi", prof.RAM.GiB())},
					Probes:    d.acaProbes(),
				}},
				Scale: acaScale{MinReplicas: lo, MaxReplicas: hi},
			},
		},
	}
	if conc := d.acaConcurrency(); conc > 0 {
		app.Properties.Template.Scale.Rules = []acaScaleRule{{
			Name: "http-concurrency",
			HTTP: &acaHTTPRule{Metadata: map[string]string{"concurrentRequests": strconv.FormatInt(conc, 10)}},
		}}
	}
	y, err := marshalObjects([]string{
		fmt.Sprintf("Container Apps app for %s on %s in %s. Create with 00-containerapps.sh (az containerapp create --yaml).", d.c.Model.ID, prof.Type, region),
	}, app)
	if err != nil {
		return err
	}
	d.acaScript(env, region, prof.Type, profileName)
	d.add("10-containerapp.yaml", KindYAML, y)
	if !d.o.ExternalIngress {
		d.note("Ingress is internal to the Container Apps environment; --external-ingress exposes the OpenAI endpoint publicly (add authentication in front of it).")
	}
	if lo == 0 {
		cache, _ := d.cacheBytes()
		d.note("minReplicas 0: the app scales to zero; each cold start pulls the image and downloads %s of weights (no model cache volume is mounted; an Azure Files storage mount on the environment avoids the download).", gib(cache))
	}
	d.note("Only the first container of a Container Apps app gets the GPU, and fractional GPUs are not offered (https://learn.microsoft.com/azure/container-apps/gpu-serverless-overview).")
	return nil
}

// acaProbes fit the startup window into the platform's limits; a window
// longer than 60 s + 10 x 240 s is capped, with a note.
func (d *bundleBuilder) acaProbes() []acaProbe {
	w := d.startupWindow()
	limit := time.Duration(acaMaxInitialDelay+acaMaxFailures*acaMaxPeriod) * time.Second
	if w > limit {
		d.note("The startup window %s exceeds Container Apps' longest startup probe (%s); it is capped.", w, limit)
		w = limit
	}
	period := int(math.Ceil((w.Seconds() - acaMaxInitialDelay) / acaMaxFailures))
	period = min(max(period, 1), acaMaxPeriod)
	get := acaHTTPGet{Path: d.eng.Info().Endpoints.Health, Port: int(d.port())}
	return []acaProbe{
		{Type: "startup", HTTPGet: get, InitialDelaySeconds: acaMaxInitialDelay, PeriodSeconds: period, TimeoutSeconds: probeTimeout, FailureThreshold: acaMaxFailures},
		{Type: "readiness", HTTPGet: get, PeriodSeconds: readinessPeriod, TimeoutSeconds: probeTimeout, FailureThreshold: probeFailures},
		{Type: "liveness", HTTPGet: get, PeriodSeconds: livenessPeriod, TimeoutSeconds: probeTimeout, FailureThreshold: probeFailures},
	}
}

// acaConcurrency is the HTTP scale rule's concurrent requests per replica:
// the plan's predicted maximum concurrency, else vLLM's max_num_seqs.
func (d *bundleBuilder) acaConcurrency() int64 {
	if p := d.c.Predictions.MaxConcurrency; p > 0 {
		return p
	}
	return int64(d.c.Engine.MaxNumSeqs)
}

func (d *bundleBuilder) acaScript(env, region, profileType, profileName string) {
	var b strings.Builder
	b.WriteString("#!/usr/bin/env bash\n")
	commentf(&b, "# ", "Azure Container Apps serverless GPU (%s) for %s. Generated by gpuplan deploy; review before running.", profileType, d.c.Model.ID)
	commentf(&b, "# ", "Check the profile is offered: az containerapp env workload-profile list-supported --location %s", region)
	b.WriteString("set -euo pipefail\n\n")
	writeShellVar(&b, "RESOURCE_GROUP", d.o.ResourceGroup, "the resource group for the Container Apps environment")
	fmt.Fprintf(&b, "ENVIRONMENT=\"${ENVIRONMENT:-%s}\"\nAPP=%s\nLOCATION=%s\n", shellEscapeDQ(env), shellQuote(d.name), shellQuote(region))
	b.WriteString("HERE=\"$(cd \"$(dirname \"$0\")\" && pwd)\"\n\n")
	b.WriteString("# A workload-profiles environment (Consumption-GPU profiles are not available in Consumption-only ones).\n")
	b.WriteString("az containerapp env create \\\n  --name \"$ENVIRONMENT\" \\\n  --resource-group \"$RESOURCE_GROUP\" \\\n  --location \"$LOCATION\"\n\n")
	b.WriteString("az containerapp env workload-profile add \\\n  --name \"$ENVIRONMENT\" \\\n  --resource-group \"$RESOURCE_GROUP\" \\\n")
	fmt.Fprintf(&b, "  --workload-profile-name %s \\\n  --workload-profile-type %s\n\n", profileName, profileType)
	b.WriteString("az containerapp create \\\n  --name \"$APP\" \\\n  --resource-group \"$RESOURCE_GROUP\" \\\n  --environment \"$ENVIRONMENT\" \\\n  --yaml \"$HERE/10-containerapp.yaml\"\n\n")
	b.WriteString("# Hugging Face token for gated models: stored as an app secret from your shell's HF_TOKEN\n")
	b.WriteString("# (never written to these files) and referenced by the HF_TOKEN variable.\n")
	b.WriteString("if [[ -n \"${HF_TOKEN:-}\" ]]; then\n")
	fmt.Fprintf(&b, "  az containerapp secret set \\\n    --name \"$APP\" \\\n    --resource-group \"$RESOURCE_GROUP\" \\\n    --secrets %s=\"$HF_TOKEN\"\n", d.o.HFTokenSecret)
	fmt.Fprintf(&b, "  az containerapp update \\\n    --name \"$APP\" \\\n    --resource-group \"$RESOURCE_GROUP\" \\\n    --set-env-vars HF_TOKEN=secretref:%s\n", d.o.HFTokenSecret)
	b.WriteString("fi\n")
	d.add("00-containerapps.sh", KindShell, []byte(b.String()))
}
