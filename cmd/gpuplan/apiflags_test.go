package main

import (
	"regexp"
	"sort"
	"testing"
	"time"

	"github.com/spf13/pflag"
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
				t.Errorf("%s --%s has no API decision: add it to apiFlags (apiflags.go)", c.Name(), f.Name)
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
	for _, name := range []string{"save", "pick", "calibration", "plot", "trace", "out-dir", "stdout", "api-url", "output"} {
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
