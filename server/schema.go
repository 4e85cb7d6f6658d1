package server

import (
	"encoding/json"
	"fmt"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"time"
)

// JSONSchemaer is implemented by a type whose JSON its own MarshalJSON
// writes (a date as "YYYY-MM-DD", limits under an engine's own names):
// reflection over its fields would describe it wrongly, so it describes
// itself as an OpenAPI 3.0 schema object.
type JSONSchemaer interface {
	JSONSchema() map[string]any
}

var (
	marshalerType = reflect.TypeFor[json.Marshaler]()
	schemaerType  = reflect.TypeFor[JSONSchemaer]()
	timeType      = reflect.TypeFor[time.Time]()
)

// schemaGen derives OpenAPI 3.0 schemas from Go types the way
// encoding/json writes them: exported fields under their json tag names,
// embedded structs' fields promoted, pointers, slices and maps nullable
// (a nil one is written as null), named structs as shared components.
type schemaGen struct {
	components map[string]any
	names      map[reflect.Type]string
	taken      map[string]reflect.Type
}

func newSchemaGen() *schemaGen {
	return &schemaGen{components: map[string]any{}, names: map[reflect.Type]string{}, taken: map[string]reflect.Type{}}
}

var componentUnsafe = regexp.MustCompile(`[^A-Za-z0-9._-]`)

// componentName is the package's name and the type's, e.g. cost.PTUReport.
func (g *schemaGen) componentName(t reflect.Type) string {
	if n, ok := g.names[t]; ok {
		return n
	}
	pkg := t.PkgPath()
	if i := strings.LastIndex(pkg, "/"); i >= 0 {
		pkg = pkg[i+1:]
	}
	base := componentUnsafe.ReplaceAllString(pkg+"."+t.Name(), "_")
	name := base
	for i := 2; ; i++ {
		if other, ok := g.taken[name]; !ok || other == t {
			break
		}
		name = fmt.Sprintf("%s_%d", base, i)
	}
	g.names[t], g.taken[name] = name, t
	return name
}

// schema returns the schema of t's JSON; a named struct becomes a
// component and the answer a reference to it.
func (g *schemaGen) schema(t reflect.Type) (map[string]any, error) {
	type obj = map[string]any
	if t.Implements(schemaerType) {
		return reflect.Zero(t).Interface().(JSONSchemaer).JSONSchema(), nil
	}
	if t == timeType {
		return obj{"type": "string", "format": "date-time"}, nil
	}
	if t.Implements(marshalerType) || (t.Kind() != reflect.Pointer && reflect.PointerTo(t).Implements(marshalerType)) {
		return nil, fmt.Errorf("%s writes its own JSON (MarshalJSON): give it a JSONSchema() method so the OpenAPI document can describe it", t)
	}
	switch t.Kind() {
	case reflect.Bool:
		return obj{"type": "boolean"}, nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return obj{"type": "integer", "format": "int64"}, nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return obj{"type": "integer", "format": "int64", "minimum": 0}, nil
	case reflect.Float32, reflect.Float64:
		return obj{"type": "number", "format": "double"}, nil
	case reflect.String:
		return obj{"type": "string"}, nil
	case reflect.Interface:
		return obj{}, nil // any JSON value
	case reflect.Pointer:
		return g.nullable(t.Elem())
	case reflect.Slice, reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 {
			return obj{"type": "string", "format": "byte"}, nil
		}
		items, err := g.schema(t.Elem())
		if err != nil {
			return nil, err
		}
		s := obj{"type": "array", "items": items}
		if t.Kind() == reflect.Slice {
			s["nullable"] = true
		}
		return s, nil
	case reflect.Map:
		if t.Key().Kind() != reflect.String {
			return nil, fmt.Errorf("%s: map keys other than strings are not described", t)
		}
		vals, err := g.schema(t.Elem())
		if err != nil {
			return nil, err
		}
		return obj{"type": "object", "additionalProperties": vals, "nullable": true}, nil
	case reflect.Struct:
		if t.Name() == "" {
			return g.structSchema(t)
		}
		name := g.componentName(t)
		if _, done := g.components[name]; !done {
			g.components[name] = nil // placeholder: a type may refer to itself
			s, err := g.structSchema(t)
			if err != nil {
				delete(g.components, name)
				return nil, err
			}
			g.components[name] = s
		}
		return obj{"$ref": "#/components/schemas/" + name}, nil
	}
	return nil, fmt.Errorf("%s: a %s has no JSON form", t, t.Kind())
}

// nullable is t's schema that also admits null (a pointer).
func (g *schemaGen) nullable(t reflect.Type) (map[string]any, error) {
	s, err := g.schema(t)
	if err != nil {
		return nil, err
	}
	if _, ref := s["$ref"]; ref {
		// OpenAPI 3.0 ignores siblings of $ref.
		return map[string]any{"allOf": []any{s}, "nullable": true}, nil
	}
	out := make(map[string]any, len(s)+1)
	for k, v := range s {
		out[k] = v
	}
	out["nullable"] = true
	return out, nil
}

// jsonField is one key a struct writes.
type jsonField struct {
	name      string
	index     []int
	typ       reflect.Type
	omitEmpty bool
}

// jsonFields lists the keys encoding/json writes for struct t: tagged
// names, embedded structs' fields promoted unless a shallower field has
// the same name.
func jsonFields(t reflect.Type) []jsonField {
	type entry struct {
		f     jsonField
		depth int
		dup   bool
	}
	byName := map[string]*entry{}
	var order []string
	var walk func(t reflect.Type, index []int, depth int, seen map[reflect.Type]bool)
	walk = func(t reflect.Type, index []int, depth int, seen map[reflect.Type]bool) {
		if seen[t] {
			return
		}
		seen[t] = true
		defer delete(seen, t)
		for i := 0; i < t.NumField(); i++ {
			sf := t.Field(i)
			tag := sf.Tag.Get("json")
			if tag == "-" {
				continue
			}
			name, opts, _ := strings.Cut(tag, ",")
			ft := sf.Type
			if sf.Anonymous && name == "" {
				et := ft
				if et.Kind() == reflect.Pointer {
					et = et.Elem()
				}
				if et.Kind() == reflect.Struct {
					walk(et, append(append([]int(nil), index...), i), depth+1, seen)
					continue
				}
			}
			if !sf.IsExported() {
				continue
			}
			if name == "" {
				name = sf.Name
			}
			f := jsonField{name: name, index: append(append([]int(nil), index...), i), typ: ft, omitEmpty: strings.Contains(","+opts+",", ",omitempty,") || strings.Contains(","+opts+",", ",omitzero,")}
			if e, ok := byName[name]; ok {
				switch {
				case depth < e.depth:
					*e = entry{f: f, depth: depth}
				case depth == e.depth:
					e.dup = true // encoding/json drops both
				}
				continue
			}
			byName[name] = &entry{f: f, depth: depth}
			order = append(order, name)
		}
	}
	walk(t, nil, 0, map[reflect.Type]bool{})
	var out []jsonField
	for _, n := range order {
		if e := byName[n]; !e.dup {
			out = append(out, e.f)
		}
	}
	return out
}

func (g *schemaGen) structSchema(t reflect.Type) (map[string]any, error) {
	props := map[string]any{}
	var required []string
	for _, f := range jsonFields(t) {
		s, err := g.schema(f.typ)
		if err != nil {
			return nil, fmt.Errorf("%s.%s: %w", t, f.name, err)
		}
		props[f.name] = s
		if !f.omitEmpty {
			required = append(required, f.name)
		}
	}
	s := map[string]any{"type": "object", "properties": props}
	if len(required) > 0 {
		sort.Strings(required)
		s["required"] = required
	}
	return s, nil
}

// outputSchema is the 200 response's schema for a command's output types:
// an untyped object without any, one type's schema, or any of several
// (gpus prints one shape for the list and another for one chip).
func (g *schemaGen) outputSchema(types []reflect.Type) (map[string]any, error) {
	var alts []any
	for _, t := range types {
		s, err := g.schema(t)
		if err != nil {
			return nil, err
		}
		alts = append(alts, s)
	}
	switch len(alts) {
	case 0:
		return map[string]any{"type": "object"}, nil
	case 1:
		return alts[0].(map[string]any), nil
	}
	return map[string]any{"anyOf": alts}, nil
}
