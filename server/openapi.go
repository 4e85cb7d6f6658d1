package server

import (
	"fmt"
	"strings"
)

// openAPIDocument builds the OpenAPI 3.0 description of the API from the
// command descriptions, so it lists exactly the parameters the server
// accepts.
func (s *Server) openAPIDocument() ([]byte, error) {
	type obj = map[string]any
	errorResp := func(desc string) obj {
		return obj{"description": desc, "content": obj{"application/json": obj{"schema": obj{"$ref": "#/components/schemas/Error"}}}}
	}
	paths := obj{}
	gen := newSchemaGen()
	errSchema := obj{"$ref": "#/components/schemas/Error"}
	for _, name := range s.order {
		c := s.commands[name]
		okSchema, err := gen.outputSchema(c.Outputs)
		if err != nil {
			return nil, fmt.Errorf("command %s: output schema: %w", name, err)
		}
		var params []obj
		props := obj{}
		var required []string
		for _, pname := range c.names {
			p := c.params[pname]
			schema, desc := paramSchema(p)
			q := obj{"name": pname, "in": "query", "description": desc, "schema": schema}
			if p.arg != nil && p.arg.Required {
				required = append(required, pname)
			}
			if p.typ() == StringSlice {
				q["style"], q["explode"] = "form", true
			}
			params = append(params, q)
			props[pname] = schemaWithDesc(schema, desc)
		}
		bodySchema := obj{"type": "object", "additionalProperties": false, "properties": props}
		if len(required) > 0 {
			bodySchema["required"] = required
		}
		ok := obj{
			"description": "What `gpuplan " + name + " -o json` prints, byte for byte; the schema is generated from the Go types the command prints, and the fields are documented in docs/cli.md and the command's help.",
			"content":     obj{"application/json": obj{"schema": okSchema}},
		}
		responses := obj{
			"200": ok,
			"400": errorResp("Bad input: unknown parameter, wrong type, or a value the command rejects (its exit code 2)."),
			"404": errorResp("The model is not on the Hugging Face Hub."),
			"413": errorResp("The body is larger than the limit."),
			"415": errorResp("The body is not JSON."),
			"422": obj{
				"description": "Does not fit / no feasible plan (exit code 3): the command's JSON output with an added `error` field.",
				// The output with "error" added, or "error" alone when the
				// command printed nothing.
				"content": obj{"application/json": obj{"schema": obj{"anyOf": []any{
					obj{"allOf": []any{okSchema, errSchema}}, errSchema,
				}}}},
			},
			"500": errorResp("The command failed (exit code 1)."),
			"502": errorResp("An upstream service (the Hugging Face Hub) failed or refused."),
			"503": errorResp("The server is busy, or the model needs the network and the server is offline."),
			"504": errorResp("The request took longer than the server's timeout."),
		}
		summary := c.Summary
		if summary == "" {
			summary = "gpuplan " + name
		}
		get := obj{
			"operationId": opID("get", name), "summary": summary, "description": c.Description,
			"tags": []string{"commands"}, "parameters": params, "responses": responses,
		}
		if len(params) == 0 {
			delete(get, "parameters")
		}
		post := obj{
			"operationId": opID("post", name), "summary": summary, "description": c.Description,
			"tags": []string{"commands"}, "responses": responses,
			"requestBody": obj{"required": false, "content": obj{"application/json": obj{"schema": bodySchema}}},
		}
		paths["/api/v1/"+name] = obj{"get": get, "post": post}
	}
	paths["/healthz"] = obj{"get": obj{
		"operationId": "healthz", "summary": "Liveness: the server answers", "tags": []string{"operations"},
		"responses": obj{"200": obj{"description": "ok", "content": obj{"application/json": obj{"schema": obj{"type": "object"}}}}},
	}}
	paths["/metrics"] = obj{"get": obj{
		"operationId": "metrics", "summary": "Prometheus metrics (text exposition format 0.0.4)", "tags": []string{"operations"},
		"responses": obj{"200": obj{"description": "metrics", "content": obj{"text/plain": obj{"schema": obj{"type": "string"}}}}},
	}}
	paths["/api/v1/openapi.json"] = obj{"get": obj{
		"operationId": "openapi", "summary": "This document", "tags": []string{"operations"},
		"responses": obj{"200": obj{"description": "OpenAPI 3.0 document", "content": obj{"application/json": obj{"schema": obj{"type": "object"}}}}},
	}}
	schemas := obj{"Error": obj{
		"type": "object", "required": []string{"error"},
		"properties": obj{"error": obj{"type": "string", "description": "What went wrong and what to do next."}},
	}}
	for k, v := range gen.components {
		schemas[k] = v
	}
	doc := obj{
		"openapi": "3.0.3",
		"info": obj{
			"title":   "gpuplan API",
			"version": s.opts.Version,
			"description": "Each endpoint runs the gpuplan command of the same name with -o json and returns what it prints. " +
				"Parameters are the command's flags in snake_case (--input-tokens → input_tokens) and its positional argument " +
				"(MODEL → model), as GET query parameters or as a POST JSON object. Unknown parameters and wrong types are rejected with 400 before anything runs.",
		},
		"servers":    []obj{{"url": "/"}},
		"paths":      paths,
		"components": obj{"schemas": schemas},
	}
	return marshalIndent(doc)
}

func paramSchema(p param) (map[string]any, string) {
	type obj = map[string]any
	if p.arg != nil {
		desc := p.arg.Description
		if desc == "" {
			desc = "positional argument " + p.arg.Name
		}
		return obj{"type": "string", "maxLength": maxValueBytes}, desc
	}
	f := p.flag
	desc := f.Usage + " (CLI flag --" + f.Name + ")"
	var s obj
	switch f.Type {
	case Int:
		s = obj{"type": "integer", "format": "int64"}
	case Float:
		s = obj{"type": "number", "format": "double"}
	case Bool:
		s = obj{"type": "boolean"}
	case StringSlice:
		s = obj{"type": "array", "items": obj{"type": "string"}, "maxItems": maxSliceItems}
	default:
		s = obj{"type": "string", "maxLength": maxValueBytes}
	}
	if d, ok := typedDefault(f); ok {
		s["default"] = d
	}
	if len(f.Enum) > 0 && f.Type != Int && f.Type != Float && f.Type != Bool && f.Type != StringSlice {
		s["enum"] = f.Enum
	}
	return s, desc
}

func schemaWithDesc(s map[string]any, desc string) map[string]any {
	out := make(map[string]any, len(s)+1)
	for k, v := range s {
		out[k] = v
	}
	out["description"] = desc
	return out
}

// typedDefault turns a CLI default into a JSON value of the flag's type;
// empty and zero-valued "unset" defaults are left out.
func typedDefault(f *Flag) (any, bool) {
	if f.Default == "" || f.Default == "[]" {
		return nil, false
	}
	p := param{name: ParamName(f.Name), flag: f}
	norm, err := normalizeText(p, f.Default)
	if err != nil {
		return nil, false
	}
	switch f.Type {
	case Int, Float:
		return jsonNumber(norm), true
	case Bool:
		return norm == "true", true
	case StringSlice:
		return strings.Split(strings.Trim(norm, "[]"), ","), true
	}
	return norm, true
}

// jsonNumber is a number literal that encoding/json writes verbatim.
type jsonNumber string

func (n jsonNumber) MarshalJSON() ([]byte, error) { return []byte(n), nil }

func opID(method, name string) string {
	var b strings.Builder
	b.WriteString(method)
	for _, part := range strings.Split(name, "-") {
		if part != "" {
			b.WriteString(strings.ToUpper(part[:1]) + part[1:])
		}
	}
	return b.String()
}
