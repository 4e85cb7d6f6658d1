// Package provenance holds the repository-wide test that every source the
// embedded data and the code cite resolves: to a public http(s) URL, to a
// file of a public GitHub repository at a commit ("owner/repo · path ·
// commit"), or to a file (and Markdown section) inside this repository.
// It has no non-test code; see docs/contributing.md ("Sources").
package provenance
