// Package server is gpuplan's HTTP face: a JSON API under /api/v1/ with one
// endpoint per CLI command, an OpenAPI 3 document generated from the same
// command descriptions, Prometheus metrics, and one embedded web page (the
// calculator) that works without network access.
//
// The package holds no business logic. Each API request is turned into the
// argument list of a CLI command (query or JSON body parameters in
// snake_case become --kebab-case flags) and run in-process through
// Options.Run with -o json, so a response body is byte for byte what
// `gpuplan CMD ... -o json` prints. The command descriptions (Command) are
// built by the caller from the real cobra tree, so validation and the
// OpenAPI document follow the flags the binary has.
package server
