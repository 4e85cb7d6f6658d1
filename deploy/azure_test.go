package deploy

import (
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

// azureReference is testdata/azure-reference.yaml.
type azureReference struct {
	Sources map[string]string `json:"sources"`
	CLI     []struct {
		Command string            `json:"command"`
		Flags   map[string]string `json:"flags"`
	} `json:"cli"`
	Bicep struct {
		Resources  map[string]string `json:"resources"`
		Properties map[string]string `json:"properties"`
	} `json:"bicep"`
	ContainerApp map[string]string `json:"containerapp"`
}

func loadAzureReference(t *testing.T) azureReference {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "azure-reference.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var r azureReference
	if err := yaml.UnmarshalStrict(b, &r); err != nil {
		t.Fatal(err)
	}
	// Every entry names a source, and every source cites a URL.
	check := func(what, key string) {
		src, ok := r.Sources[key]
		if !ok {
			t.Errorf("%s cites unknown source %q", what, key)
		} else if !strings.Contains(src, "https://") {
			t.Errorf("source %q has no documentation URL", key)
		}
	}
	for _, c := range r.CLI {
		for f, k := range c.Flags {
			check(c.Command+" "+f, k)
		}
	}
	for p, k := range r.Bicep.Properties {
		check("bicep "+p, k)
	}
	for p, k := range r.Bicep.Resources {
		check("bicep "+p, k)
	}
	for p, k := range r.ContainerApp {
		check("containerapp "+p, k)
	}
	return r
}

var azStart = regexp.MustCompile(`(^|[\s:;(|&])az\s+[a-z]`)

// azInvocations finds every az command in a script or note, commented or
// not, joining "\" continuations: it returns the subcommand ("aks nodepool
// add") and its flags.
func azInvocations(text string) [][2][]string {
	joined := strings.ReplaceAll(text, "\\\n", " ")
	var out [][2][]string
	for _, line := range strings.Split(joined, "\n") {
		loc := azStart.FindStringIndex(line)
		if loc == nil {
			continue
		}
		rest := line[loc[0]:]
		rest = rest[strings.Index(rest, "az"):]
		fields := strings.Fields(rest)
		var cmd, flags []string
		for _, f := range fields[1:] {
			if strings.HasPrefix(f, "--") {
				flags = append(flags, strings.TrimRight(strings.SplitN(f, "=", 2)[0], ",;.)"))
				continue
			}
			if len(flags) == 0 && regexp.MustCompile(`^[a-z][a-z-]*$`).MatchString(f) {
				cmd = append(cmd, f)
			}
		}
		out = append(out, [2][]string{cmd, flags})
	}
	return out
}

func TestAzureFlagsAreDocumented(t *testing.T) {
	ref := loadAzureReference(t)
	known := map[string]map[string]string{}
	for _, c := range ref.CLI {
		known[c.Command] = c.Flags
	}
	used := map[string]bool{}
	count := 0
	for _, gc := range goldenCases() {
		b := generateCase(t, gc)
		for _, a := range b.Artifacts {
			if a.Kind != KindShell && a.Kind != KindMarkdown && a.Kind != KindBicep {
				continue
			}
			for _, inv := range azInvocations(string(a.Content)) {
				cmd := "az " + strings.Join(inv[0], " ")
				flags, ok := known[cmd]
				if !ok {
					t.Errorf("%s/%s: %q is not in testdata/azure-reference.yaml", gc.name, a.Name, cmd)
					continue
				}
				for _, f := range inv[1] {
					count++
					if _, ok := flags[f]; !ok {
						t.Errorf("%s/%s: %s %s is not documented in testdata/azure-reference.yaml", gc.name, a.Name, cmd, f)
					}
					used[cmd+" "+f] = true
				}
			}
		}
	}
	if count == 0 {
		t.Fatal("found no az flags: the scanner is broken")
	}
	// The list holds nothing the generator no longer writes.
	for _, c := range ref.CLI {
		for f := range c.Flags {
			if !used[c.Command+" "+f] {
				t.Errorf("azure-reference.yaml lists %s %s, which no golden case writes", c.Command, f)
			}
		}
	}
}

var (
	bicepResource = regexp.MustCompile(`^resource \w+ '([^']+)'`)
	bicepKey      = regexp.MustCompile(`^\s*([A-Za-z][A-Za-z0-9]*)\s*:\s*(.*)$`)
)

// bicepPaths lists the property paths set in resource bodies, and the
// resource types.
func bicepPaths(src string) (types, paths []string) {
	var stack []string
	inResource := false
	for _, line := range strings.Split(src, "\n") {
		t := strings.TrimSpace(line)
		if m := bicepResource.FindStringSubmatch(t); m != nil {
			types = append(types, m[1])
			inResource, stack = true, nil
			continue
		}
		if !inResource || t == "" || strings.HasPrefix(t, "//") {
			continue
		}
		if t == "}" || t == "]" {
			if len(stack) == 0 {
				inResource = false
			} else {
				stack = stack[:len(stack)-1]
			}
			continue
		}
		m := bicepKey.FindStringSubmatch(line)
		if m == nil {
			continue // an array item or a quoted map key
		}
		path := strings.Join(append(append([]string{}, stack...), m[1]), ".")
		paths = append(paths, path)
		if v := strings.TrimSpace(m[2]); v == "{" || v == "[" {
			stack = append(stack, m[1])
		}
	}
	return types, paths
}

func TestBicepPropertiesAreDocumented(t *testing.T) {
	ref := loadAzureReference(t)
	used := map[string]bool{}
	for _, gc := range goldenCases() {
		for _, a := range generateCase(t, gc).Artifacts {
			if a.Kind != KindBicep {
				continue
			}
			types, paths := bicepPaths(string(a.Content))
			if len(types) == 0 || len(paths) == 0 {
				t.Fatalf("%s/%s: parsed no resources or properties", gc.name, a.Name)
			}
			for _, ty := range types {
				if _, ok := ref.Bicep.Resources[ty]; !ok {
					t.Errorf("%s/%s: resource type %s is not documented", gc.name, a.Name, ty)
				}
			}
			for _, p := range paths {
				used[p] = true
				if _, ok := ref.Bicep.Properties[p]; !ok {
					t.Errorf("%s/%s: Bicep property %s is not documented in testdata/azure-reference.yaml", gc.name, a.Name, p)
				}
			}
		}
	}
	for p := range ref.Bicep.Properties {
		if !used[p] {
			t.Errorf("azure-reference.yaml lists Bicep property %s, which no golden case writes", p)
		}
	}
}

// leafPaths flattens a YAML document into dotted key paths (list indexes
// dropped).
func leafPaths(prefix string, v any, out map[string]bool) {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			p := k
			if prefix != "" {
				p = prefix + "." + k
			}
			leafPaths(p, e, out)
		}
	case []any:
		for _, e := range x {
			leafPaths(prefix, e, out)
		}
	default:
		out[prefix] = true
	}
}

func TestContainerAppFieldsAreDocumented(t *testing.T) {
	ref := loadAzureReference(t)
	used := map[string]bool{}
	for _, gc := range goldenCases() {
		for _, a := range generateCase(t, gc).Artifacts {
			if a.Kind != KindYAML {
				continue
			}
			var v any
			if err := yaml.Unmarshal(a.Content, &v); err != nil {
				t.Fatal(err)
			}
			paths := map[string]bool{}
			leafPaths("", v, paths)
			var sorted []string
			for p := range paths {
				sorted = append(sorted, p)
			}
			sort.Strings(sorted)
			for _, p := range sorted {
				used[p] = true
				if _, ok := ref.ContainerApp[p]; !ok {
					t.Errorf("%s/%s: field %s is not documented in testdata/azure-reference.yaml", gc.name, a.Name, p)
				}
			}
		}
	}
	for p := range ref.ContainerApp {
		if !used[p] {
			t.Errorf("azure-reference.yaml lists Container Apps field %s, which no golden case writes", p)
		}
	}
}
