package deploy

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/applyconfigurations"
	"k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/yaml"
)

// splitDocs splits a multi-document YAML file on "---" lines and drops
// documents that hold only comments.
func splitDocs(b []byte) [][]byte {
	var docs [][]byte
	var cur bytes.Buffer
	flush := func() {
		content := false
		for _, l := range strings.Split(cur.String(), "\n") {
			if t := strings.TrimSpace(l); t != "" && !strings.HasPrefix(t, "#") {
				content = true
			}
		}
		if content {
			docs = append(docs, append([]byte(nil), cur.Bytes()...))
		}
		cur.Reset()
	}
	for _, l := range strings.SplitAfter(string(b), "\n") {
		if strings.TrimRight(l, "\n") == "---" {
			flush()
			continue
		}
		cur.WriteString(l)
	}
	flush()
	return docs
}

// builtinKinds are decoded strictly into the real API types.
var builtinKinds = map[string]func() any{
	"v1/Namespace":                  func() any { return &corev1.Namespace{} },
	"v1/PersistentVolumeClaim":      func() any { return &corev1.PersistentVolumeClaim{} },
	"v1/Service":                    func() any { return &corev1.Service{} },
	"v1/ConfigMap":                  func() any { return &corev1.ConfigMap{} },
	"apps/v1/Deployment":            func() any { return &appsv1.Deployment{} },
	"policy/v1/PodDisruptionBudget": func() any { return &policyv1.PodDisruptionBudget{} },
}

// crdKinds map a custom resource to its local type and pinned CRD.
var crdKinds = map[string]struct {
	newObj func() any
	crd    string
}{
	"leaderworkerset.x-k8s.io/v1/LeaderWorkerSet": {func() any { return &LeaderWorkerSet{} }, "leaderworkerset.x-k8s.io_leaderworkersets.yaml"},
	"keda.sh/v1alpha1/ScaledObject":               {func() any { return &ScaledObject{} }, "keda.sh_scaledobjects.yaml"},
	"keda.sh/v1alpha1/TriggerAuthentication":      {func() any { return &TriggerAuthentication{} }, "keda.sh_triggerauthentications.yaml"},
	"kaito.sh/v1beta1/Workspace":                  {func() any { return &Workspace{} }, "kaito.sh_workspaces.yaml"},
	"monitoring.coreos.com/v1/ServiceMonitor":     {func() any { return &ServiceMonitor{} }, "monitoring.coreos.com_servicemonitors.yaml"},
	// Azure Managed Prometheus: same schema in its own group.
	"azmonitoring.coreos.com/v1/ServiceMonitor": {func() any { return &ServiceMonitor{} }, "monitoring.coreos.com_servicemonitors.yaml"},
}

// crdSchema is one version's openAPIV3Schema, compiled and raw.
type crdSchema struct {
	compiled *jsonschema.Schema
	raw      map[string]any
}

var (
	schemaMu    sync.Mutex
	schemaCache = map[string]crdSchema{}
)

// loadCRDSchema compiles the openAPIV3Schema of version in testdata/crds/file.
func loadCRDSchema(file, version string) (crdSchema, error) {
	schemaMu.Lock()
	defer schemaMu.Unlock()
	key := file + "@" + version
	if s, ok := schemaCache[key]; ok {
		return s, nil
	}
	y, err := os.ReadFile(filepath.Join("testdata", "crds", file))
	if err != nil {
		return crdSchema{}, err
	}
	var crd struct {
		Spec struct {
			Versions []struct {
				Name   string `json:"name"`
				Served bool   `json:"served"`
				Schema struct {
					OpenAPIV3Schema map[string]any `json:"openAPIV3Schema"`
				} `json:"schema"`
			} `json:"versions"`
		} `json:"spec"`
	}
	if err := yaml.Unmarshal(y, &crd); err != nil {
		return crdSchema{}, fmt.Errorf("%s: %w", file, err)
	}
	for _, v := range crd.Spec.Versions {
		if v.Name != version {
			continue
		}
		if !v.Served {
			return crdSchema{}, fmt.Errorf("%s: version %s is not served", file, version)
		}
		j, err := yaml.Marshal(v.Schema.OpenAPIV3Schema)
		if err != nil {
			return crdSchema{}, err
		}
		if j, err = yaml.YAMLToJSON(j); err != nil {
			return crdSchema{}, err
		}
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(j))
		if err != nil {
			return crdSchema{}, err
		}
		c := jsonschema.NewCompiler()
		c.DefaultDraft(jsonschema.Draft4)
		url := "file:///" + key + ".json"
		if err := c.AddResource(url, doc); err != nil {
			return crdSchema{}, fmt.Errorf("%s: %w", file, err)
		}
		compiled, err := c.Compile(url)
		if err != nil {
			return crdSchema{}, fmt.Errorf("%s: compile the openAPIV3Schema: %w", file, err)
		}
		s := crdSchema{compiled: compiled, raw: v.Schema.OpenAPIV3Schema}
		schemaCache[key] = s
		return s, nil
	}
	return crdSchema{}, fmt.Errorf("%s has no version %s", file, version)
}

// undeclared lists the fields of v the schema does not declare. The API
// server prunes such fields silently from custom resources, so a typo
// would vanish on apply instead of failing.
func undeclared(schema map[string]any, v any, path string, out *[]string) {
	switch x := v.(type) {
	case map[string]any:
		if p, _ := schema["x-kubernetes-preserve-unknown-fields"].(bool); p {
			return
		}
		props, hasProps := schema["properties"].(map[string]any)
		addl, hasAddl := schema["additionalProperties"]
		for k, e := range x {
			if hasProps {
				if ps, ok := props[k].(map[string]any); ok {
					undeclared(ps, e, path+"."+k, out)
					continue
				}
			}
			if a, ok := addl.(map[string]any); ok {
				undeclared(a, e, path+"."+k, out)
				continue
			}
			if b, ok := addl.(bool); (ok && b) || (!hasProps && !hasAddl) {
				continue // a free-form object (metadata is validated by the API server itself)
			}
			*out = append(*out, path+"."+k)
		}
	case []any:
		if items, ok := schema["items"].(map[string]any); ok {
			for i, e := range x {
				undeclared(items, e, fmt.Sprintf("%s[%d]", path, i), out)
			}
		}
	}
}

// validateObject checks one Kubernetes object: strict decode into its type,
// then client-go's structured schema (built-in kinds) or the pinned CRD's
// OpenAPI schema plus a declared-fields walk (custom resources).
func validateObject(doc []byte) (gvk string, errs []error) {
	var m map[string]any
	if err := yaml.Unmarshal(doc, &m); err != nil {
		return "", []error{fmt.Errorf("not YAML: %w", err)}
	}
	apiVersion, _ := m["apiVersion"].(string)
	kind, _ := m["kind"].(string)
	gvk = apiVersion + "/" + kind
	if newObj, ok := builtinKinds[gvk]; ok {
		if err := yaml.UnmarshalStrict(doc, newObj()); err != nil {
			errs = append(errs, fmt.Errorf("%s does not decode into its type: %w", gvk, err))
		}
		converter := applyconfigurations.NewTypeConverter(scheme.Scheme)
		if _, err := converter.ObjectToTyped(&unstructured.Unstructured{Object: m}); err != nil {
			errs = append(errs, fmt.Errorf("%s fails the structured schema: %w", gvk, err))
		}
		return gvk, errs
	}
	crd, ok := crdKinds[gvk]
	if !ok {
		return gvk, []error{fmt.Errorf("no validator for %s", gvk)}
	}
	if err := yaml.UnmarshalStrict(doc, crd.newObj()); err != nil {
		errs = append(errs, fmt.Errorf("%s does not decode into its type: %w", gvk, err))
	}
	version := apiVersion[strings.LastIndex(apiVersion, "/")+1:]
	s, err := loadCRDSchema(crd.crd, version)
	if err != nil {
		return gvk, append(errs, err)
	}
	j, err := yaml.YAMLToJSON(doc)
	if err != nil {
		return gvk, append(errs, err)
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(j))
	if err != nil {
		return gvk, append(errs, err)
	}
	if err := s.compiled.Validate(inst); err != nil {
		errs = append(errs, fmt.Errorf("%s fails the CRD schema %s: %w", gvk, crd.crd, err))
	}
	var extra []string
	undeclared(s.raw, m, "", &extra)
	sort.Strings(extra)
	if len(extra) > 0 {
		errs = append(errs, fmt.Errorf("%s has fields the CRD does not declare (the API server would drop them): %v", gvk, extra))
	}
	return gvk, errs
}

// TestGeneratedObjectsValidate decodes every generated object back into its
// type and validates it offline.
func TestGeneratedObjectsValidate(t *testing.T) {
	seen := map[string]bool{}
	for _, gc := range goldenCases() {
		b := generateCase(t, gc)
		for _, a := range b.Artifacts {
			where := gc.name + "/" + a.Name
			switch a.Kind {
			case KindKubernetes:
				docs := splitDocs(a.Content)
				if len(docs) == 0 {
					t.Errorf("%s: no objects", where)
				}
				for _, d := range docs {
					gvk, errs := validateObject(d)
					seen[gvk] = true
					for _, err := range errs {
						t.Errorf("%s: %v", where, err)
					}
				}
			case KindYAML:
				var app acaApp
				if err := yaml.UnmarshalStrict(a.Content, &app); err != nil {
					t.Errorf("%s: does not decode into the Container Apps app type: %v", where, err)
				}
			}
		}
	}
	// Every kind deploy can write was exercised.
	for gvk := range builtinKinds {
		if !seen[gvk] {
			t.Errorf("no golden case writes %s", gvk)
		}
	}
	for gvk := range crdKinds {
		if !seen[gvk] {
			t.Errorf("no golden case writes %s", gvk)
		}
	}
}

// TestValidatorsCatchMistakes makes sure the validation above can fail: a
// misspelt field, a wrong type and an undeclared CRD field are reported.
func TestValidatorsCatchMistakes(t *testing.T) {
	bad := []struct{ name, doc string }{
		{"unknown built-in field", "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x}\nspec:\n  replicaz: 1\n  selector: {matchLabels: {a: b}}\n  template: {metadata: {labels: {a: b}}, spec: {containers: [{name: c, image: i}]}}\n"},
		{"wrong built-in type", "apiVersion: v1\nkind: Service\nmetadata: {name: x}\nspec:\n  ports: [{port: \"eighty\"}]\n"},
		{"undeclared CRD field", "apiVersion: keda.sh/v1alpha1\nkind: ScaledObject\nmetadata: {name: x}\nspec:\n  scaleTargetRef: {name: x}\n  triggers: [{type: prometheus, metadata: {a: b}}]\n  maxReplicas: 3\n"},
		{"CRD schema violation", "apiVersion: leaderworkerset.x-k8s.io/v1\nkind: LeaderWorkerSet\nmetadata: {name: x}\nspec:\n  replicas: many\n  leaderWorkerTemplate: {workerTemplate: {spec: {containers: [{name: c, image: i}]}}}\n"},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			if _, errs := validateObject([]byte(tc.doc)); len(errs) == 0 {
				t.Errorf("validation accepted a bad object:\n%s", tc.doc)
			} else {
				t.Logf("rejected as expected: %v", errs)
			}
		})
	}
}
