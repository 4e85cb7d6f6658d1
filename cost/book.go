package cost

import (
	"bytes"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"
	"sync"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/gpuplan/gpuplan/hardware"
)

//go:embed data/azure-openai.yaml
var dataFS embed.FS

// Source is an entry of the data file's `sources`: a key that rows cite
// instead of repeating a long URL.
type Source struct {
	Key   string `json:"key"`
	Title string `json:"title"`
	// URL is the public address; Ref, when the source has no public
	// address, a file in this repository (usually docs/sources.md#<key>,
	// which says what the source is).
	URL string `json:"url,omitempty"`
	Ref string `json:"ref,omitempty"`
	// Tier is "ms" (Microsoft documentation), "3p" (third party,
	// unverified), "ref" (described in docs/sources.md) or "user" (a URL given
	// in a --catalog overlay).
	Tier string `json:"tier"`
}

// Source tiers.
const (
	TierMicrosoft  = "ms"
	TierThirdParty = "3p"
	TierReference  = "ref"
	TierUser       = "user"
)

// DeploymentType is an Azure OpenAI deployment type (Global, Data Zone or
// Regional), not a Kubernetes Deployment nor perf.Deployment.
type DeploymentType string

// Deployment types: Global, Data Zone and Regional
// (https://learn.microsoft.com/azure/ai-foundry/openai/how-to/deployment-types).
const (
	Global   DeploymentType = "global"
	DataZone DeploymentType = "datazone"
	Regional DeploymentType = "regional"
)

// DeploymentTypes lists the deployment types in display order.
var DeploymentTypes = []DeploymentType{Global, DataZone, Regional}

// DeploymentTypeNames lists the values ParseDeploymentType reads first
// (--deployment): the deployment types' own names.
func DeploymentTypeNames() []string {
	out := make([]string, len(DeploymentTypes))
	for i, d := range DeploymentTypes {
		out[i] = string(d)
	}
	return out
}

// deploymentAny in a PTU price row applies to every deployment type.
const deploymentAny DeploymentType = "any"

// ParseDeploymentType reads a deployment type: "global", "datazone" (also
// "data-zone", "data_zone", "Data Zone") or "regional", or the provisioned
// SKU names (GlobalProvisionedManaged, DataZoneProvisionedManaged,
// ProvisionedManaged).
func ParseDeploymentType(s string) (DeploymentType, error) {
	k := strings.ToLower(strings.TrimSpace(s))
	k = strings.NewReplacer("-", "", "_", "", " ", "").Replace(k)
	switch k {
	case "global", "globalprovisionedmanaged", "globalstandard":
		return Global, nil
	case "datazone", "datazoneprovisionedmanaged", "datazonestandard":
		return DataZone, nil
	case "regional", "provisionedmanaged", "standard":
		return Regional, nil
	}
	return "", fmt.Errorf("unknown deployment type %q (use global, datazone or regional)", s)
}

// DisplayName is the name Azure's documents use.
func (d DeploymentType) DisplayName() string {
	switch d {
	case Global:
		return "Global"
	case DataZone:
		return "Data Zone"
	case Regional:
		return "Regional"
	}
	return string(d)
}

// SKUName is the provisioned deployment's --sku-name
// (https://learn.microsoft.com/azure/ai-foundry/openai/how-to/provisioned-throughput-onboarding).
func (d DeploymentType) SKUName() string {
	switch d {
	case Global:
		return "GlobalProvisionedManaged"
	case DataZone:
		return "DataZoneProvisionedManaged"
	case Regional:
		return "ProvisionedManaged"
	}
	return ""
}

func validDeployment(d DeploymentType) bool {
	for _, x := range DeploymentTypes {
		if x == d {
			return true
		}
	}
	return false
}

// Family groups models that share PTU prices: Azure OpenAI models, other
// Foundry models sold by Azure, and Fireworks on Foundry models.
type Family string

// Model families.
const (
	FamilyAzureOpenAI Family = "azure-openai"
	FamilyFoundry     Family = "foundry"
	FamilyFireworks   Family = "fireworks"
)

// Scale is a deployment type's minimum deployment and scale increment.
type Scale struct {
	Minimum   int `json:"min_ptu"`
	Increment int `json:"increment_ptu"`
}

// PTUModel holds one model's provisioned-throughput parameters.
type PTUModel struct {
	// ID is the canonical, lower-case id ("gpt-5.2").
	ID string `json:"id"`
	// Name is the model as Microsoft's table prints it; empty = ID.
	Name   string `json:"name,omitempty"`
	Family Family `json:"family"`
	// InputTPMPerPTU is the most input tokens per minute one PTU supports.
	InputTPMPerPTU float64 `json:"input_tpm_per_ptu"`
	// OutputWeight is the output-to-input ratio: one output token counts as
	// this many input tokens. Zero means not published.
	OutputWeight float64 `json:"output_to_input_weight,omitempty"`
	// Scales gives minimum and increment per deployment type; a missing
	// type is not offered.
	Scales map[DeploymentType]Scale `json:"scales"`
	// LatencyTarget is the table's "99% > N TPS" (tokens/s per request).
	LatencyTarget float64       `json:"latency_target_tokens_per_s,omitempty"`
	Source        string        `json:"source"`
	AsOf          hardware.Date `json:"as_of"`
	Notes         []string      `json:"notes,omitempty"`
}

// DisplayName is Name, or ID when the table prints the id.
func (m PTUModel) DisplayName() string {
	if m.Name != "" {
		return m.Name
	}
	return m.ID
}

// Term is how PTUs are bought.
type Term string

// Purchase terms: hourly on deployed PTUs, or an Azure reservation for one
// month or one year (aoai-ptu-billing).
const (
	Hourly     Term = "hourly"
	Reserved1M Term = "reserved-1m"
	Reserved1Y Term = "reserved-1y"
)

// Terms lists the purchase terms in display order.
var Terms = []Term{Hourly, Reserved1M, Reserved1Y}

// DisplayName is a short label for tables.
func (t Term) DisplayName() string {
	switch t {
	case Hourly:
		return "hourly"
	case Reserved1M:
		return "1-month reservation"
	case Reserved1Y:
		return "1-year reservation"
	}
	return string(t)
}

// Price units of PTU price rows.
const (
	UnitPTUHour  = "ptu-hour"
	UnitPTUMonth = "ptu-month"
	UnitPTUYear  = "ptu-year"
)

// PTUPrice is the price of one PTU on one term.
type PTUPrice struct {
	Family Family `json:"family"`
	// Deployment is a deployment type, or "any" for every type.
	Deployment DeploymentType `json:"deployment"`
	Term       Term           `json:"term"`
	// Amount is in Currency per Unit.
	Amount   float64       `json:"amount"`
	Unit     string        `json:"unit"`
	Currency string        `json:"currency"`
	Source   string        `json:"source"`
	AsOf     hardware.Date `json:"as_of"`
	Note     string        `json:"note,omitempty"`
}

// PerPTUMonth converts the price to one PTU for one month: hourly prices
// over 730 hours (deployments bill every hour they exist, serving or not:
// aoai-ptu-billing), yearly prices over 12 months.
func (p PTUPrice) PerPTUMonth() float64 {
	switch p.Unit {
	case UnitPTUHour:
		return p.Amount * hardware.HoursPerMonth
	case UnitPTUYear:
		return p.Amount / 12
	}
	return p.Amount
}

// PAYGPrice is a model's pay-as-you-go token prices on one deployment type,
// per million tokens.
type PAYGPrice struct {
	Model      string         `json:"model"`
	Deployment DeploymentType `json:"deployment"`
	Input      float64        `json:"input_per_mtok"`
	// CachedInput is nil when no source states it.
	CachedInput *float64      `json:"cached_input_per_mtok,omitempty"`
	Output      float64       `json:"output_per_mtok"`
	Currency    string        `json:"currency"`
	Source      string        `json:"source"`
	AsOf        hardware.Date `json:"as_of"`
	Note        string        `json:"note,omitempty"`
}

// Book is a set of PTU parameters and Azure OpenAI prices. Default returns
// the embedded one; Merge overlays a --catalog section. A Book is safe for
// concurrent reads, not for concurrent Merge.
type Book struct {
	models  []PTUModel
	ptu     []PTUPrice
	payg    []PAYGPrice
	sources map[string]Source
}

type dataFile struct {
	Sources    []Source    `json:"sources"`
	PTUModels  []PTUModel  `json:"ptu_models"`
	PTUPrices  []PTUPrice  `json:"ptu_prices"`
	PAYGPrices []PAYGPrice `json:"payg_prices"`
}

var (
	defaultOnce sync.Once
	defaultBook *Book
	defaultErr  error
)

func loadEmbedded() (*Book, error) {
	raw, err := dataFS.ReadFile("data/azure-openai.yaml")
	if err != nil {
		return nil, fmt.Errorf("read embedded azure-openai.yaml: %w", err)
	}
	js, err := yaml.YAMLToJSON(raw)
	if err != nil {
		return nil, fmt.Errorf("parse embedded azure-openai.yaml: %w", err)
	}
	var f dataFile
	if err := strictJSON(js, &f); err != nil {
		return nil, fmt.Errorf("parse embedded azure-openai.yaml: %w", err)
	}
	b := &Book{sources: map[string]Source{}}
	for _, s := range f.Sources {
		if s.Key == "" || (s.URL == "" && s.Ref == "") {
			return nil, fmt.Errorf("embedded azure-openai.yaml: source %q needs a key and a url or ref", s.Key)
		}
		b.sources[s.Key] = s
	}
	b.models, b.ptu, b.payg = f.PTUModels, f.PTUPrices, f.PAYGPrices
	if err := b.Validate(); err != nil {
		return nil, fmt.Errorf("embedded azure-openai.yaml: %w", err)
	}
	return b, nil
}

// strictJSON decodes b into v rejecting unknown fields, so a typo in a data
// file or overlay is an error, not a silently ignored value.
func strictJSON(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("unexpected data after the object")
	}
	return nil
}

// Default returns a copy of the embedded book. It panics only if the
// embedded data is malformed, which the package tests rule out.
func Default() *Book {
	defaultOnce.Do(func() { defaultBook, defaultErr = loadEmbedded() })
	if defaultErr != nil {
		panic(defaultErr)
	}
	return defaultBook.Clone()
}

// Clone returns a copy that merging into leaves b unchanged.
func (b *Book) Clone() *Book {
	out := &Book{
		models:  make([]PTUModel, len(b.models)),
		ptu:     append([]PTUPrice(nil), b.ptu...),
		payg:    append([]PAYGPrice(nil), b.payg...),
		sources: make(map[string]Source, len(b.sources)),
	}
	for i, m := range b.models {
		out.models[i] = cloneModel(m)
	}
	for k, v := range b.sources {
		out.sources[k] = v
	}
	return out
}

func cloneModel(m PTUModel) PTUModel {
	m.Notes = append([]string(nil), m.Notes...)
	s := make(map[DeploymentType]Scale, len(m.Scales))
	for k, v := range m.Scales {
		s[k] = v
	}
	m.Scales = s
	return m
}

// PTUModels returns every model with PTU parameters, in data order.
func (b *Book) PTUModels() []PTUModel {
	out := make([]PTUModel, len(b.models))
	for i, m := range b.models {
		out[i] = cloneModel(m)
	}
	return out
}

// PTUPrices returns the PTU price rows.
func (b *Book) PTUPrices() []PTUPrice { return append([]PTUPrice(nil), b.ptu...) }

// PAYGPrices returns the pay-as-you-go price rows.
func (b *Book) PAYGPrices() []PAYGPrice { return append([]PAYGPrice(nil), b.payg...) }

// Sources returns the source entries sorted by key.
func (b *Book) Sources() []Source {
	out := make([]Source, 0, len(b.sources))
	for _, s := range b.sources {
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out
}

// Source returns the entry for a key.
func (b *Book) Source(key string) (Source, bool) {
	s, ok := b.sources[key]
	return s, ok
}

// normalizeModel lower-cases a model name and turns spaces and underscores
// into dashes, so "Kimi K2.5" meets "kimi-k2.5".
func normalizeModel(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	return strings.NewReplacer(" ", "-", "_", "-").Replace(s)
}

// PTUModel looks a model up by id or table name, case-insensitively.
func (b *Book) PTUModel(name string) (PTUModel, error) {
	k := normalizeModel(name)
	for _, m := range b.models {
		if m.ID == k || normalizeModel(m.Name) == k {
			return cloneModel(m), nil
		}
	}
	ids := make([]string, len(b.models))
	for i, m := range b.models {
		ids[i] = m.ID
	}
	return PTUModel{}, fmt.Errorf("no provisioned-throughput parameters for model %q (known: %s); add them with --catalog (azure_openai.ptu_models, docs/cost.md)", name, strings.Join(ids, ", "))
}

// sourceKeys splits a row's source into its parts.
func sourceKeys(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ";") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// checkSource verifies that s cites at least one http(s) URL or known key.
func (b *Book) checkSource(s string) error {
	parts := sourceKeys(s)
	if len(parts) == 0 {
		return errors.New("no source (give an http(s) URL or a source key, see docs/cost.md)")
	}
	for _, p := range parts {
		if strings.HasPrefix(p, "https://") || strings.HasPrefix(p, "http://") {
			continue
		}
		if _, ok := b.sources[p]; !ok {
			return fmt.Errorf("source %q is neither an http(s) URL nor a known source key", p)
		}
	}
	return nil
}

// ThirdParty reports whether any part of a row's source is a third-party
// (unverified) source.
func (b *Book) ThirdParty(source string) bool {
	for _, p := range sourceKeys(source) {
		if s, ok := b.sources[p]; ok && s.Tier == TierThirdParty {
			return true
		}
	}
	return false
}

// plausible bounds numbers read from data and overlays.
func plausible(v, max float64) bool { return v > 0 && v <= max && !math.IsInf(v, 0) && !math.IsNaN(v) }

// Validate checks every row: identifiers, plausible numbers, a source and
// an as_of date.
func (b *Book) Validate() error {
	seen := map[string]bool{}
	for i, m := range b.models {
		if err := b.checkModel(m); err != nil {
			return fmt.Errorf("ptu_models[%d] (%s): %w", i, m.ID, err)
		}
		if seen[m.ID] {
			return fmt.Errorf("ptu_models[%d]: duplicate id %q", i, m.ID)
		}
		seen[m.ID] = true
	}
	seenP := map[string]bool{}
	for i, p := range b.ptu {
		if err := b.checkPTUPrice(p); err != nil {
			return fmt.Errorf("ptu_prices[%d]: %w", i, err)
		}
		k := ptuPriceKey(p)
		if seenP[k] {
			return fmt.Errorf("ptu_prices[%d]: duplicate row for %s", i, k)
		}
		seenP[k] = true
	}
	seenG := map[string]bool{}
	for i, p := range b.payg {
		if err := b.checkPAYG(p); err != nil {
			return fmt.Errorf("payg_prices[%d] (%s): %w", i, p.Model, err)
		}
		k := paygKey(p)
		if seenG[k] {
			return fmt.Errorf("payg_prices[%d]: duplicate row for %s", i, k)
		}
		seenG[k] = true
	}
	return nil
}

func (b *Book) checkMeta(source string, asOf hardware.Date) error {
	if err := b.checkSource(source); err != nil {
		return err
	}
	if asOf.IsZero() {
		return errors.New("no as_of date (YYYY-MM-DD)")
	}
	return nil
}

func (b *Book) checkModel(m PTUModel) error {
	if m.ID == "" || m.ID != normalizeModel(m.ID) {
		return fmt.Errorf("id %q must be lower-case without spaces", m.ID)
	}
	switch m.Family {
	case FamilyAzureOpenAI, FamilyFoundry, FamilyFireworks:
	default:
		return fmt.Errorf("unknown family %q (use %s, %s or %s)", m.Family, FamilyAzureOpenAI, FamilyFoundry, FamilyFireworks)
	}
	if !plausible(m.InputTPMPerPTU, 1e9) {
		return fmt.Errorf("input_tpm_per_ptu %v is not a plausible rate", m.InputTPMPerPTU)
	}
	if m.OutputWeight != 0 && !plausible(m.OutputWeight, 1e3) {
		return fmt.Errorf("output_to_input_weight %v is not plausible (0 means unknown)", m.OutputWeight)
	}
	if len(m.Scales) == 0 {
		return errors.New("no deployment type offered (scales is empty)")
	}
	for d, s := range m.Scales {
		if !validDeployment(d) {
			return fmt.Errorf("scales: unknown deployment type %q", d)
		}
		if s.Minimum < 1 || s.Increment < 1 || s.Minimum > 1e6 || s.Increment > 1e6 {
			return fmt.Errorf("scales.%s: minimum %d and increment %d must be between 1 and 1,000,000", d, s.Minimum, s.Increment)
		}
	}
	if m.LatencyTarget < 0 {
		return errors.New("negative latency target")
	}
	return b.checkMeta(m.Source, m.AsOf)
}

func ptuPriceKey(p PTUPrice) string {
	return string(p.Family) + "|" + string(p.Deployment) + "|" + string(p.Term) + "|" + strings.ToUpper(p.Currency)
}

func (b *Book) checkPTUPrice(p PTUPrice) error {
	if p.Family == "" {
		return errors.New("no family")
	}
	if p.Deployment != deploymentAny && !validDeployment(p.Deployment) {
		return fmt.Errorf("unknown deployment %q (global, datazone, regional or any)", p.Deployment)
	}
	want := map[Term][]string{Hourly: {UnitPTUHour}, Reserved1M: {UnitPTUMonth}, Reserved1Y: {UnitPTUYear, UnitPTUMonth}}
	units, ok := want[p.Term]
	if !ok {
		return fmt.Errorf("unknown term %q (use %v)", p.Term, Terms)
	}
	unitOK := false
	for _, u := range units {
		unitOK = unitOK || p.Unit == u
	}
	if !unitOK {
		return fmt.Errorf("term %s: unit %q (use %s)", p.Term, p.Unit, strings.Join(units, " or "))
	}
	if !plausible(p.Amount, 1e7) {
		return fmt.Errorf("amount %v is not a plausible price", p.Amount)
	}
	if p.Currency == "" {
		return errors.New("no currency")
	}
	return b.checkMeta(p.Source, p.AsOf)
}

func paygKey(p PAYGPrice) string {
	return normalizeModel(p.Model) + "|" + string(p.Deployment) + "|" + strings.ToUpper(p.Currency)
}

func (b *Book) checkPAYG(p PAYGPrice) error {
	if p.Model == "" {
		return errors.New("no model")
	}
	if !validDeployment(p.Deployment) {
		return fmt.Errorf("unknown deployment %q (global, datazone or regional)", p.Deployment)
	}
	if !plausible(p.Input, 1e5) || !plausible(p.Output, 1e5) {
		return fmt.Errorf("input %v and output %v per million tokens must be positive, plausible prices", p.Input, p.Output)
	}
	if p.CachedInput != nil && (*p.CachedInput < 0 || *p.CachedInput > 1e5 || math.IsNaN(*p.CachedInput)) {
		return fmt.Errorf("cached input %v per million tokens is not a plausible price", *p.CachedInput)
	}
	if p.Currency == "" {
		return errors.New("no currency")
	}
	return b.checkMeta(p.Source, p.AsOf)
}

// CheckDates reports rows dated after now: an as_of is when a figure was
// observed, so a future date is a typo.
func (b *Book) CheckDates(now time.Time) error {
	today := hardware.DateOf(now)
	check := func(what string, d hardware.Date) error {
		if d.After(today) {
			return fmt.Errorf("%s: as_of %s is after today (%s)", what, d, today)
		}
		return nil
	}
	for _, m := range b.models {
		if err := check("ptu model "+m.ID, m.AsOf); err != nil {
			return err
		}
	}
	for _, p := range b.ptu {
		if err := check("ptu price "+ptuPriceKey(p), p.AsOf); err != nil {
			return err
		}
	}
	for _, p := range b.payg {
		if err := check("payg price "+paygKey(p), p.AsOf); err != nil {
			return err
		}
	}
	return nil
}
