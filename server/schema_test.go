package server

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"
)

type schemaInner struct {
	Depth  int    `json:"depth"`
	Shadow string `json:"shadow"`
}

type schemaDate struct{}

func (schemaDate) MarshalJSON() ([]byte, error) { return []byte(`"2026-01-02"`), nil }
func (schemaDate) JSONSchema() map[string]any {
	return map[string]any{"type": "string", "format": "date"}
}

type schemaOuter struct {
	schemaInner
	Shadow   int                `json:"shadow"`
	Name     string             `json:"name"`
	Note     string             `json:"note,omitempty"`
	Skipped  string             `json:"-"`
	Untagged bool               ``
	Ptr      *schemaInner       `json:"ptr"`
	List     []float64          `json:"list"`
	Bytes    []byte             `json:"bytes"`
	ByKey    map[string]*uint16 `json:"by_key"`
	When     time.Time          `json:"when"`
	Day      schemaDate         `json:"day"`
	Any      any                `json:"any"`
}

// TestSchemaFollowsEncodingJSON derives a schema and checks each rule
// against what encoding/json writes for the same type.
func TestSchemaFollowsEncodingJSON(t *testing.T) {
	g := newSchemaGen()
	s, err := g.schema(reflect.TypeFor[schemaOuter]())
	if err != nil {
		t.Fatal(err)
	}
	if s["$ref"] != "#/components/schemas/server.schemaOuter" {
		t.Fatalf("ref %v", s)
	}
	outer := g.components["server.schemaOuter"].(map[string]any)
	props := outer["properties"].(map[string]any)

	// The keys are exactly those encoding/json writes.
	b, _ := json.Marshal(schemaOuter{Note: "x", Ptr: &schemaInner{}})
	var written map[string]any
	if err := json.Unmarshal(b, &written); err != nil {
		t.Fatal(err)
	}
	if len(written) != len(props) {
		t.Errorf("schema keys %d, encoding/json writes %d: %s", len(props), len(written), b)
	}
	for k := range written {
		if _, ok := props[k]; !ok {
			t.Errorf("encoding/json writes %q; the schema lacks it", k)
		}
	}
	want := map[string]string{
		"depth":    `{"format":"int64","type":"integer"}`, // promoted from the embedded struct
		"shadow":   `{"format":"int64","type":"integer"}`, // the shallower field wins
		"Untagged": `{"type":"boolean"}`,
		"ptr":      `{"allOf":[{"$ref":"#/components/schemas/server.schemaInner"}],"nullable":true}`,
		"list":     `{"items":{"format":"double","type":"number"},"nullable":true,"type":"array"}`,
		"bytes":    `{"format":"byte","type":"string"}`,
		"by_key":   `{"additionalProperties":{"format":"int64","minimum":0,"nullable":true,"type":"integer"},"nullable":true,"type":"object"}`,
		"when":     `{"format":"date-time","type":"string"}`,
		"day":      `{"format":"date","type":"string"}`,
		"any":      `{}`,
	}
	for k, w := range want {
		got, _ := json.Marshal(props[k])
		if string(got) != w {
			t.Errorf("%s: %s, want %s", k, got, w)
		}
	}
	req := outer["required"].([]string)
	if strings.Contains(strings.Join(req, ","), "note") || !strings.Contains(strings.Join(req, ","), "name") {
		t.Errorf("required %v: omitempty fields are optional, the rest required", req)
	}
}

type selfMarshaled struct{}

func (selfMarshaled) MarshalJSON() ([]byte, error) { return []byte(`{}`), nil }

// TestSchemaRefusesUndescribedMarshaler: a type that writes its own JSON
// cannot be described by its fields, and must say so rather than be
// described wrongly.
func TestSchemaRefusesUndescribedMarshaler(t *testing.T) {
	type out struct {
		X selfMarshaled `json:"x"`
	}
	_, err := newSchemaGen().schema(reflect.TypeFor[out]())
	if err == nil || !strings.Contains(err.Error(), "JSONSchema") {
		t.Fatalf("err = %v", err)
	}
}
