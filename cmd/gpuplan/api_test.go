package main

import (
	"encoding/json"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"

	"github.com/gpuplan/gpuplan/hardware"
	"github.com/gpuplan/gpuplan/server"
)

// fileFlagUsage is a second line of defence behind apiFlags: a flag whose
// help names a file, directory, path or URL, or says it writes something,
// must not be a parameter. It only checks the table; it decides nothing.
var fileFlagUsage = regexp.MustCompile(`(?i)\b(file|files|dir|directory|path|url|writes?|written)\b`)

// TestAPIFlagDecisions checks the API's per-flag table against the command
// tree: every flag of every served command has a decision, every decision
// names a real flag, the flags that read or write server files are never
// parameters, and the served parameters are exactly the exposed flags.
func TestAPIFlagDecisions(t *testing.T) {
	a := &app{Options: Options{Getenv: func(string) string { return "" }, Now: time.Now}}
	root := newRootCmd(a)
	seen := map[string]bool{}
	for _, c := range apiServedCommands(root) {
		c.LocalFlags().VisitAll(func(f *pflag.Flag) {
			seen[f.Name] = true
			d, ok := apiFlags[f.Name]
			if !ok {
				t.Errorf("%s --%s has no API decision: add it to apiFlags (api.go)", c.Name(), f.Name)
				return
			}
			if d == apiParam && fileFlagUsage.MatchString(f.Usage) {
				t.Errorf("%s --%s is an API parameter but its help names a file or path: %q", c.Name(), f.Name, f.Usage)
			}
		})
	}
	var stale []string
	for name := range apiFlags {
		if !seen[name] {
			stale = append(stale, name)
		}
	}
	sort.Strings(stale)
	if len(stale) > 0 {
		t.Errorf("apiFlags decides flags no served command has: %v", stale)
	}
	// The flags that touch server files, whatever their help says
	// (docs/security.md, "What it resolves").
	for _, name := range []string{"save", "pick", "pick-cpu", "calibration", "plot", "trace", "out-dir", "stdout", "api-url", "output"} {
		if apiExposed(name) {
			t.Errorf("--%s is exposed", name)
		}
	}
	for _, sc := range apiCommands(root, a) {
		for _, f := range sc.Flags {
			if apiFlags[f.Name] != apiParam {
				t.Errorf("%s serves --%s, decided %d", sc.Name, f.Name, apiFlags[f.Name])
			}
		}
	}
}

// outputCases run each served command in every output shape it has, with
// options that fill the optional fields, for TestAPIOutputSchemas.
var outputCases = [][]string{
	{"models", "qwen3"},
	{"models", "gpt-oss"},
	{"size", "llama-3.1-8b-instruct", "--gpu", "h100-sxm", "--context", "8192", "--concurrency", "16"},
	{"size", "llama-3.1-70b", "--precision", "int8", "--gpu", "a100-80gb-sxm"},
	{"size", "qwen3-30b-a3b", "--gpu-memory", "79.19GiB", "--tp", "2", "--context", "16384"},
	{"size", "--table", "7B,70B"},
	{"size", "llama-3.1-8b-instruct", "--engine", "llamacpp", "--vm", "Standard_HB176rs_v4", "--context", "4096"},
	{"gpus"},
	{"gpus", "h100-nvl"},
	{"gpus", "Standard_NC24ads_A100_v4"},
	{"prices", "--region", "eastus"},
	{"plan", "llama-3.1-8b-instruct", "--context", "8192", "--concurrency", "32", "--input-tokens", "1000", "--output-tokens", "200", "--tpot-slo-ms", "50", "--managed", "gpt-4.1-mini"},
	{"plan", "llama-3.1-70b-instruct", "--context", "8192", "--rps", "2", "--input-tokens", "2000", "--output-tokens", "300", "--ttft-slo-ms", "2000", "--managed", "gpt-4.1"},
	{"ptu", "gpt-4.1", "--rpm", "60", "--input-tokens", "1800", "--output-tokens", "650", "--cache-rate", "0.2", "--avg-rpm", "40"},
	{"ptu", "gpt-5.2", "--deployment", "datazone", "--rpm", "1000", "--input-tokens", "200", "--output-tokens", "20", "--hours-per-day", "10"},
	{"guide"},
	{"perf", "llama-3.1-8b-instruct", "--gpu", "h100-sxm", "--input-tokens", "1000", "--output-tokens", "200", "--concurrency", "1,8,max", "--load-from", "blob"},
	{"perf", "qwen3-30b-a3b", "--gpu", "h200", "--tp", "2", "--input-tokens", "2000", "--output-tokens", "300", "--rps", "0.5,2"},
	{"perf", "llama-3.1-8b-instruct", "--gpu", "h100-sxm", "--input-tokens", "1000", "--output-tokens", "200", "--simulate", "--rps", "2", "--requests", "200"},
	{"perf", "llama-3.1-8b-instruct", "--vm", "Standard_HB176rs_v4", "--input-tokens", "500", "--output-tokens", "100", "--concurrency", "1,4"},
	// Optional fields: a CPU that is too small, MoE layouts, speculative
	// decoding, prefix caching, SLOs, a pinned revision, quotas, scale to
	// zero, the simulation, a currency other than USD (the cache written
	// below), prices without a known PAYG.
	{"perf", "llama-3.1-70b", "--vm", "Standard_D2ads_v6", "--input-tokens", "500", "--output-tokens", "100", "--concurrency", "1"},
	{"perf", "llama-3.1-8b-instruct", "--vm", "Standard_ND96isr_H100_v5", "--cache-rate", "0.5", "--speculative", "draft:meta-llama/Llama-3.2-1B-Instruct",
		"--acceptance-rate", "0.7", "--input-tokens", "1000", "--output-tokens", "200", "--rps", "1,1000"},
	{"perf", "deepseek-ai/DeepSeek-V2-Lite", "--gpu", "v100-32gb", "--tp", "2", "--ep", "2", "--dp-attention", "--kv-dtype", "fp8",
		"--input-tokens", "1000", "--output-tokens", "200", "--concurrency", "8"},
	{"perf", "llama-3.1-8b-instruct", "--gpu", "h100-sxm", "--input-tokens", "1000", "--output-tokens", "200", "--simulate", "--concurrency", "4",
		"--requests", "200", "--ttft-slo-ms", "500", "--tpot-slo-ms", "50", "--e2e-slo-ms", "20000"},
	{"size", "deepseek-ai/DeepSeek-V2-Lite", "--gpu", "h100-sxm", "--tp", "2", "--ep", "2", "--dp-attention"},
	{"size", "gpt-oss-20b", "--gpu", "h100-sxm"},
	{"size", "llama-3.1-8b-instruct", "--gpu", "v100-32gb", "--precision", "fp8"},
	{"size", "llama-3.1-8b-instruct", "--gpu", "h100-sxm", "--precision", "q4_k"},
	{"plan", "codellama/CodeLlama-7b-hf", "--context", "4096", "--rps", "2", "--input-tokens", "1000", "--output-tokens", "200",
		"--managed", "gpt-5.2", "--deployment", "datazone", "--cache-rate", "0.3", "--target", "containerapps", "--hours-per-day", "8", "--simulate", "--top", "2"},
	{"plan", "llama-3.1-8b-instruct", "--context", "4096", "--rps", "2000", "--input-tokens", "1000", "--output-tokens", "200",
		"--speculative", "draft:meta-llama/Llama-3.2-1B-Instruct", "--acceptance-rate", "0.7", "--managed", "gpt-4.1-mini", "--top", "2"},
	{"plan", "deepseek-ai/DeepSeek-V2-Lite", "--context", "4096", "--concurrency", "8", "--input-tokens", "1000", "--output-tokens", "200",
		"--ep", "2", "--dp-attention", "--engine", "sglang", "--top", "2"},
	{"plan", "llama-3.1-8b-instruct", "--context", "4096", "--concurrency", "8", "--input-tokens", "1000", "--output-tokens", "200", "--engine", "llamacpp", "--top", "2"},
	{"plan", "llama-3.1-70b-instruct", "--context", "4096", "--concurrency", "8", "--input-tokens", "1000", "--output-tokens", "200",
		"--managed", "gpt-4.1-mini", "--vm", "Standard_NC4as_T4_v3"},
	{"prices", "--currency", "EUR"},
	{"size", "llama-3.1-8b-instruct", "--gpu", "h100-sxm", "--precision", "int4"},
	{"gpus", "h200"},
	{"ptu", "deepseek-r1", "--rpm", "60", "--input-tokens", "1000", "--output-tokens", "200"},
	{"plan", "llama-3.1-8b-instruct", "--context", "4096", "--rps", "1", "--input-tokens", "1000", "--output-tokens", "200", "--managed", "deepseek-r1", "--top", "1"},
	// The simulation misses the TTFT SLO on one VM: the row gets more.
	{"plan", "llama-3.1-8b-instruct", "--context", "3100", "--concurrency", "64", "--input-tokens", "3000", "--output-tokens", "100",
		"--ttft-slo-ms", "300", "--vm", "Standard_NC40ads_H100_v5", "--top", "1"},
}

// unprintedFields are schema fields no outputCases case prints, each with
// the reason no catalog entry reaches it. TestAPIOutputSchemas fails when
// one is printed after all, so the list cannot go stale.
var unprintedFields = map[string]string{
	// The guide cites one source, the reference guide itself, which has no
	// public address (docs/sources.md).
	"cost.Source.url": "the guide's only source is the reference guide, a file in this repository",
	// Every VM size the guide uses has an embedded pay-as-you-go price.
	"guide.Setup.price_unknown": "only a --catalog that adds a VM size without a price",
}

// TestAPIOutputSchemas runs the served commands in-process and checks the
// OpenAPI document's answer schemas, generated from apiOutputs, against
// what they print: every key printed is in the schema, and every key in
// the schema is printed by at least one case.
func TestAPIOutputSchemas(t *testing.T) {
	cache := t.TempDir()
	// A refreshed euro cache with a reservation: what `prices refresh
	// --currency EUR` writes (the API's effective date and term total).
	err := hardware.WritePriceCache(cache, hardware.PriceCache{
		Currency: "EUR", APIURL: "https://prices.azure.com/api/retail/prices", APIVersion: "2023-01-01-preview", RefreshedAt: serveNow,
		Prices: []hardware.Price{{VM: "Standard_NC24ads_A100_v4", Region: "eastus", Kind: hardware.Reserved1Y, USDPerHour: 2.1, Currency: "EUR",
			TermTotal: 2.1 * 8760, TermHours: 8760, EffectiveFrom: hardware.MustDate("2026-10-01"), AsOf: hardware.DateOf(serveNow),
			Source: "https://prices.azure.com/api/retail/prices"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	env := apiEnv(cache, "")
	ts, srv := newTestAPI(t, env, server.Options{})
	_, body := get(t, http.DefaultClient, ts.URL+"/api/v1/openapi.json")
	var doc struct {
		Paths      map[string]map[string]any `json:"paths"`
		Components struct {
			Schemas map[string]any `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		t.Fatal(err)
	}
	sc := schemaChecker{components: doc.Components.Schemas, emitted: map[string]bool{}}
	okSchema := func(cmd string) map[string]any {
		op, _ := doc.Paths["/api/v1/"+cmd]["get"].(map[string]any)
		s, _ := dig(op, "responses", "200", "content", "application/json", "schema").(map[string]any)
		return s
	}
	ran := map[string]bool{}
	roots := map[string]bool{}
	for _, name := range srv.Commands() {
		if len(apiOutputs[name]) == 0 {
			t.Errorf("served command %s has no output types in apiOutputs: its OpenAPI answer is untyped", name)
		}
		sc.reachable(okSchema(name), roots)
	}
	gguf, _ := tinyGGUF(t)
	cases := append(append([][]string(nil), outputCases...),
		// A GGUF file's own tensor types (a local file: the CLI's -o json,
		// which the API cannot be asked for).
		[]string{"size", gguf, "--gpu", "t4", "--context", "4096"})
	for _, args := range cases {
		name := args[0]
		out, errOut, code := cli(env, append(args, "-o", "json")...)
		if code != exitOK && code != exitInfeasible {
			t.Errorf("%v: exit %d: %s", args, code, errOut)
			continue
		}
		ran[name] = true
		var v any
		if err := json.Unmarshal([]byte(out), &v); err != nil {
			t.Errorf("%v: not JSON: %v", args, err)
			continue
		}
		for _, p := range sc.check(v, okSchema(name), "") {
			t.Errorf("%v prints %s, which the OpenAPI schema does not have", args, p)
		}
	}
	for _, name := range srv.Commands() {
		if !ran[name] {
			t.Errorf("no case in outputCases runs %s", name)
		}
	}
	var missing []string
	for p := range roots {
		if !sc.emitted[p] && unprintedFields[p] == "" {
			missing = append(missing, p)
		}
	}
	for p := range unprintedFields {
		if !roots[p] || sc.emitted[p] {
			t.Errorf("unprintedFields lists %s, which is not in the schema or is printed: remove it", p)
		}
	}
	sort.Strings(missing)
	for _, p := range missing {
		t.Errorf("the schema has %s, which no case in outputCases prints (add a case that does, or drop the field)", p)
	}
}

func dig(v any, keys ...string) any {
	for _, k := range keys {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

// schemaChecker walks JSON values against OpenAPI schemas. Properties are
// named "Component.path.key", the path relative to the nearest component.
type schemaChecker struct {
	components map[string]any
	emitted    map[string]bool
}

// resolve follows $ref and allOf wrappers; the answer's owner is the
// component a $ref led to ("" when none).
func (c *schemaChecker) resolve(s map[string]any, owner, path string) (map[string]any, string, string) {
	for {
		if ref, ok := s["$ref"].(string); ok {
			name := strings.TrimPrefix(ref, "#/components/schemas/")
			s, _ = c.components[name].(map[string]any)
			owner, path = name, ""
			continue
		}
		if all, ok := s["allOf"].([]any); ok && len(all) == 1 {
			s, _ = all[0].(map[string]any)
			continue
		}
		return s, owner, path
	}
}

// check returns the keys v has that s does not, and records the keys it
// has that s does.
func (c *schemaChecker) check(v any, s map[string]any, owner string) []string {
	return c.walk(v, s, owner, "", map[string]bool{})
}

func (c *schemaChecker) walk(v any, s map[string]any, owner, path string, _ map[string]bool) []string {
	s, owner, path = c.resolve(s, owner, path)
	if alts, ok := s["anyOf"].([]any); ok {
		// The alternative that explains the most keys is the shape printed.
		var best []string
		var bestEmitted map[string]bool
		for i, a := range alts {
			sub := &schemaChecker{components: c.components, emitted: map[string]bool{}}
			bad := sub.walk(v, a.(map[string]any), owner, path, nil)
			if i == 0 || len(bad) < len(best) {
				best, bestEmitted = bad, sub.emitted
			}
		}
		for k := range bestEmitted {
			c.emitted[k] = true
		}
		return best
	}
	var bad []string
	switch x := v.(type) {
	case map[string]any:
		props, _ := s["properties"].(map[string]any)
		addl, _ := s["additionalProperties"].(map[string]any)
		for k, val := range x {
			p := path + "." + k
			if ps, ok := props[k].(map[string]any); ok {
				c.emitted[owner+p] = true
				bad = append(bad, c.walk(val, ps, owner, p, nil)...)
			} else if addl != nil {
				bad = append(bad, c.walk(val, addl, owner, path+".*", nil)...)
			} else {
				bad = append(bad, owner+p)
			}
		}
	case []any:
		items, _ := s["items"].(map[string]any)
		for _, it := range x {
			bad = append(bad, c.walk(it, items, owner, path+"[]", nil)...)
		}
	}
	return bad
}

// reachable records every property reachable from s, named as walk names
// them.
func (c *schemaChecker) reachable(s map[string]any, out map[string]bool) {
	seen := map[string]bool{}
	var visit func(s map[string]any, owner, path string)
	visit = func(s map[string]any, owner, path string) {
		if s == nil {
			return
		}
		if ref, ok := s["$ref"].(string); ok {
			name := strings.TrimPrefix(ref, "#/components/schemas/")
			if seen[name] {
				return
			}
			seen[name] = true
			visit(c.components[name].(map[string]any), name, "")
			return
		}
		for _, key := range []string{"allOf", "anyOf"} {
			if alts, ok := s[key].([]any); ok {
				for _, a := range alts {
					visit(a.(map[string]any), owner, path)
				}
			}
		}
		if props, ok := s["properties"].(map[string]any); ok {
			for k, ps := range props {
				out[owner+path+"."+k] = true
				visit(ps.(map[string]any), owner, path+"."+k)
			}
		}
		if addl, ok := s["additionalProperties"].(map[string]any); ok {
			visit(addl, owner, path+".*")
		}
		if items, ok := s["items"].(map[string]any); ok {
			visit(items, owner, path+"[]")
		}
	}
	visit(s, "", "")
}
