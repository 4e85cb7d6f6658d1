package deploy

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/gpuplan/gpuplan/hardware"
	"github.com/gpuplan/gpuplan/plan"
)

// hostile are values a shared plan.json, a GGUF's general.name or a
// catalog overlay may carry; each holds the marker PWNED.
var hostile = []string{
	"x\nPWNED=1 rm -rf ~",
	"x\r\nPWNED",
	"$(PWNED)",
	"`PWNED`",
	`x"; PWNED; "`,
	"x'; PWNED; '",
	"x # PWNED",
	"x\u2028PWNED: 1",
	"x\u2029PWNED: 1",
	"x\u0085PWNED: 1",
	"x\x1b[2JPWNED",
	"-PWNED",
	"--PWNED=1",
	"a/../../PWNED",
}

// TestHostileModelIDRefused: a model id that is not one the engine can load
// is refused before anything is generated (exit 2 at the CLI).
func TestHostileModelIDRefused(t *testing.T) {
	for _, h := range hostile {
		for _, field := range []string{"model.id", "model.revision", "engine.version", "engine.image"} {
			t.Run(fmt.Sprintf("%s=%q", field, h), func(t *testing.T) {
				c := edit(t, "llama-3.1-70b-h100", func(c *plan.Candidate) {
					switch field {
					case "model.id":
						c.Model.ID = h
					case "model.revision":
						c.Model.Revision = h
					case "engine.version":
						c.Engine.Version = h
					case "engine.image":
						c.Engine.Image = "vllm/vllm-openai:" + h
					}
				})
				_, err := Generate(c, Options{Target: TargetAKS})
				if !errors.Is(err, ErrInvalidOptions) {
					t.Fatalf("err = %v, want ErrInvalidOptions", err)
				}
				if strings.ContainsAny(err.Error(), "\n\r\u2028\u2029\u0085\x1b") {
					t.Errorf("the error repeats a control character: %q", err)
				}
			})
		}
	}
}

// TestHostileDisplayText puts each hostile value in the GPU's and VM's
// display names (a --catalog overlay can set them) and checks every
// target's artifacts: scripts pass `bash -n`, YAML parses, and every line
// that shows the value is a comment (or a Markdown line), so it cannot
// run.
func TestHostileDisplayText(t *testing.T) {
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("bash not installed")
	}
	for i, h := range hostile {
		hw := hardware.Default()
		gpu, _ := json.Marshal(map[string]any{"id": "h100-sxm", "name": "H100 " + h, "source": "https://example.com/gpu", "as_of": "2026-11-30"})
		if err := hw.Merge(hardware.Overlay{GPUs: []json.RawMessage{gpu}}, time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)); err != nil {
			t.Logf("%q: the catalog refuses it as a GPU name: %v", h, err)
			continue
		}
		for _, tc := range []struct {
			plan string
			o    Options
		}{
			{"llama-3.1-70b-h100", Options{Target: TargetAKS}},
			{"llama-3.1-405b-2xh100", Options{Target: TargetAKSMultiNode}},
		} {
			tc.o.Hardware = hw
			b, err := Generate(loadPlan(t, tc.plan), tc.o)
			if err != nil {
				t.Fatalf("%d %q: %v", i, h, err)
			}
			checkHostileBundle(t, fmt.Sprintf("%d/%s", i, tc.o.Target), b)
		}
	}
}

func checkHostileBundle(t *testing.T, name string, b *Bundle) {
	t.Helper()
	var stream bytes.Buffer
	if _, err := b.WriteTo(&stream); err != nil {
		t.Fatal(err)
	}
	files := append([]Artifact{{Name: "stream.yaml", Kind: KindYAML, Content: stream.Bytes()}}, b.Artifacts...)
	shown := false
	for _, a := range files {
		for n, line := range strings.Split(string(a.Content), "\n") {
			if !strings.Contains(line, "PWNED") {
				continue
			}
			shown = true
			trim := strings.TrimLeft(line, " ")
			ok := strings.HasPrefix(trim, "#") || (a.Kind == KindBicep && strings.HasPrefix(trim, "//")) ||
				(a.Kind == KindMarkdown && (strings.HasPrefix(trim, "# ") || strings.HasPrefix(trim, "- ")))
			if !ok {
				t.Errorf("%s %s line %d shows the value outside a comment: %q", name, a.Name, n+1, line)
			}
		}
		switch a.Kind {
		case KindShell:
			cmd := exec.Command("bash", "-n")
			cmd.Stdin = bytes.NewReader(a.Content)
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Errorf("%s %s: bash -n: %v %s", name, a.Name, err, out)
			}
		case KindKubernetes, KindYAML:
			for i, doc := range splitDocs(a.Content) {
				var v map[string]any
				if err := yaml.Unmarshal(doc, &v); err != nil {
					t.Errorf("%s %s document %d: %v", name, a.Name, i, err)
				}
				if bytes.Contains(doc, []byte("PWNED")) {
					j, _ := json.Marshal(v)
					if bytes.Contains(j, []byte("PWNED")) {
						t.Errorf("%s %s document %d: the value reached a YAML key or value: %s", name, a.Name, i, j)
					}
				}
			}
		}
	}
	if !shown {
		t.Errorf("%s: the GPU name is shown nowhere; the test does not exercise the escaping", name)
	}
}
