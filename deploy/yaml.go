package deploy

import (
	"bytes"
	"encoding/json"
	"fmt"

	"sigs.k8s.io/yaml"
)

// marshalObjects writes objects as a multi-document YAML file, preceded by
// header comment lines. Keys come out sorted (sigs.k8s.io/yaml converts
// through JSON maps), so the output is deterministic.
func marshalObjects(header []string, objs ...any) ([]byte, error) {
	var buf bytes.Buffer
	for _, h := range header {
		buf.WriteString("# " + commentText(h) + "\n")
	}
	for i, o := range objs {
		b, err := marshalClean(o)
		if err != nil {
			return nil, err
		}
		if i > 0 {
			buf.WriteString("---\n")
		}
		buf.Write(b)
	}
	return buf.Bytes(), nil
}

// marshalClean encodes o as YAML without the empty fields the typed API
// structs always carry (metadata.creationTimestamp: null, status: {}), which
// are noise in a reviewed file and are not valid against CRD schemas.
func marshalClean(o any) ([]byte, error) {
	j, err := json.Marshal(o)
	if err != nil {
		return nil, fmt.Errorf("encode %T: %w", o, err)
	}
	var v any
	if err := json.Unmarshal(j, &v); err != nil {
		return nil, fmt.Errorf("encode %T: %w", o, err)
	}
	v = prune(v)
	if top, ok := v.(map[string]any); ok {
		// deploy never writes status; an empty spec (Namespace) is noise.
		delete(top, "status")
		if m, ok := top["spec"].(map[string]any); ok && len(m) == 0 {
			delete(top, "spec")
		}
	}
	b, err := yaml.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encode %T: %w", o, err)
	}
	return b, nil
}

// prune drops null values and the empty objects that omitempty-less struct
// fields leave (status: {}, resources: {}). Only those keys lose an empty
// object: elsewhere an empty object can mean something (emptyDir: {}).
func prune(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			e = prune(e)
			if e == nil {
				delete(x, k)
				continue
			}
			if m, ok := e.(map[string]any); ok && len(m) == 0 && (k == "status" || k == "resources") {
				delete(x, k)
				continue
			}
			x[k] = e
		}
		return x
	case []any:
		for i, e := range x {
			x[i] = prune(e)
		}
		return x
	}
	return v
}
