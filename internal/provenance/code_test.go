package provenance

import (
	"strings"
	"testing"

	"github.com/gpuplan/gpuplan/engine"
)

// TestEngineSourcesResolve checks the sources the code itself carries: each
// engine profile's Source and ImageSource are "; "-joined citations that
// resolve like the data's (a URL or a file of this repository, each
// followed by what was read there).
func TestEngineSourcesResolve(t *testing.T) {
	n := 0
	for _, e := range engine.All() {
		p := e.Info()
		for field, v := range map[string]string{"Source": p.Source, "ImageSource": p.ImageSource} {
			if v == "" && field == "ImageSource" {
				continue
			}
			for _, ref := range strings.Split(v, "; ") {
				n++
				if why := resolve(ref); why != "" {
					t.Errorf("engine %s@%s %s: %q: %s", p.EngineName, p.EngineVersion, field, ref, why)
				}
			}
		}
	}
	if n < 6 {
		t.Errorf("only %d engine citations; the registry lost its engines", n)
	}
}
