package engine

import (
	"fmt"
	"sort"
	"strings"
	"sync"
)

var (
	regMu    sync.RWMutex
	registry []Engine
	// defaultID is the profile used when --engine is not given.
	defaultID = "vllm@0.19"
)

// Register adds an engine profile. The first profile registered under a
// name is that name's default version (what "--engine vllm" means). It
// panics on a duplicate name@version or an incomplete profile: both are
// programming errors caught by the package's tests.
func Register(e Engine) {
	p := e.Info()
	if p.EngineName == "" || p.EngineVersion == "" || p.DisplayName == "" {
		panic(fmt.Sprintf("engine.Register: profile %q needs a name, a version and a display name", p.ID()))
	}
	if strings.ContainsAny(p.EngineName, "@ ,") || p.EngineName != strings.ToLower(p.EngineName) {
		panic(fmt.Sprintf("engine.Register: name %q must be lower case without '@', ',' or spaces", p.EngineName))
	}
	if p.BlockSize < 1 || p.DefaultUtilization <= 0 || p.DefaultUtilization > 1 {
		panic(fmt.Sprintf("engine.Register: %s needs a block size ≥ 1 and a default utilization in (0, 1]", p.ID()))
	}
	regMu.Lock()
	defer regMu.Unlock()
	for _, x := range registry {
		if x.Info().ID() == p.ID() {
			panic("engine.Register: duplicate " + p.ID())
		}
	}
	registry = append(registry, e)
}

// Unregister removes a profile (for tests that register a stand-in).
func Unregister(id string) {
	regMu.Lock()
	defer regMu.Unlock()
	for i, x := range registry {
		if x.Info().ID() == id {
			registry = append(registry[:i:i], registry[i+1:]...)
			return
		}
	}
}

// All returns every registered profile in registration order (each name's
// default version first).
func All() []Engine {
	regMu.RLock()
	defer regMu.RUnlock()
	return append([]Engine(nil), registry...)
}

// Default is the profile used when --engine is not given: vLLM 0.19, the
// version the memory constants are fitted on.
func Default() Engine {
	e, err := Lookup(defaultID)
	if err != nil {
		panic(err)
	}
	return e
}

// IDs lists every name@version, in registration order.
func IDs() []string {
	var out []string
	for _, e := range All() {
		out = append(out, e.Info().ID())
	}
	return out
}

// Names lists the engine names (each once), in registration order.
func Names() []string {
	seen := map[string]bool{}
	var out []string
	for _, e := range All() {
		n := e.Info().EngineName
		if !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	return out
}

// Help is the text --engine flags show: the registered profiles.
func Help() string {
	return "engine profile NAME[@VERSION]: " + strings.Join(IDs(), ", ") + " (the version is optional: the first listed per name)"
}

// Lookup resolves an --engine value: "vllm", "vllm@0.22", "VLLM@v0.22".
// An empty value is the default profile.
func Lookup(s string) (Engine, error) {
	name, ver, _ := strings.Cut(strings.ToLower(strings.TrimSpace(s)), "@")
	if name == "" && ver == "" {
		return Default(), nil
	}
	ver = strings.TrimPrefix(ver, "v")
	for _, e := range All() {
		p := e.Info()
		if p.EngineName != name {
			continue
		}
		if ver == "" || ver == strings.ToLower(p.EngineVersion) {
			return e, nil
		}
	}
	ids := IDs()
	sort.Strings(ids)
	return nil, fmt.Errorf("unknown engine %q (known: %s; the version after @ is optional)", s, strings.Join(ids, ", "))
}

func init() {
	Register(vllm019)
	Register(vllm022)
	Register(sglang04)
	Register(trtllm017)
	Register(trtllm10)
	Register(llamacppOllama090)
}
