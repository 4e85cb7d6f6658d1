package deploy

import (
	"fmt"
	"regexp"
	"strings"
	"unicode"
)

// Escaping rules for generated files (docs/security.md, "Generated
// files"). Values that come from outside gpuplan (a plan.json someone
// shared, a GGUF's general.name, a --catalog overlay, flags) reach the
// artifacts in three ways, each with one owner here:
//
//   - identifiers the artifacts use as values (the model id vLLM loads, its
//     revision, the image, Kubernetes names) are validated against what
//     they allow before anything is generated (checkIdentifiers, checkName);
//   - display text in comment lines (shell "#", YAML "#", Bicep "//") and
//     in Markdown is passed through commentText, which keeps it on one
//     line, so it can never end the comment and start a command;
//   - values in shell commands are validated names or shellQuote'd /
//     shellEscapeDQ'd; YAML values are written by the YAML encoder only.

// commentText makes s safe to print inside one comment line or Markdown
// line: every control character and every Unicode line or paragraph
// separator (U+0085, U+2028, U+2029, which some YAML and editor parsers
// treat as line breaks) becomes a space.
func commentText(s string) string {
	var b strings.Builder
	for _, r := range s {
		if unicode.IsControl(r) || unicode.In(r, unicode.Zl, unicode.Zp) || r == '\u0085' || r == '\ufeff' {
			b.WriteByte(' ')
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// commentf formats one comment line: prefix ("# " or "// "), then the
// formatted text made safe by commentText, then a newline.
func commentf(b *strings.Builder, prefix, format string, args ...any) {
	b.WriteString(prefix)
	b.WriteString(commentText(fmt.Sprintf(format, args...)))
	b.WriteByte('\n')
}

// modelIDPattern is what the engine accepts as a model: a Hugging Face id
// (namespace/name, each part letters, digits, '_', '-', '.'), a catalog
// name, or a path inside the container. It never starts with '-' (vLLM
// would read a flag) and holds no space, quote, '$', '`', '#' or line
// break.
var modelIDPattern = regexp.MustCompile(`^[A-Za-z0-9_./][A-Za-z0-9_./-]{0,199}$`)

// revisionPattern is a branch, tag or commit (Hugging Face revisions).
var revisionPattern = regexp.MustCompile(`^[A-Za-z0-9_.][A-Za-z0-9_./-]{0,99}$`)

// imagePattern is an OCI image reference: registry/repository:tag or
// @sha256:digest.
var imagePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9._/:-]{0,254}(@sha256:[a-f0-9]{64})?$`)

// versionPattern is an engine version profile such as "0.19".
var versionPattern = regexp.MustCompile(`^(v?[0-9][0-9A-Za-z.+-]{0,31})?$`)

// checkIdentifiers validates the plan's values that the artifacts use as
// values, not text: a plan.json may come from anyone.
func checkIdentifiers(c planValues, image string) error {
	if !modelIDPattern.MatchString(c.modelID) || strings.Contains(c.modelID, "..") {
		return invalid("plan model.id %q is not a model id the engine can load (letters, digits, '_', '-', '.', '/'; e.g. meta-llama/Llama-3.1-8B-Instruct); set model.id to the Hugging Face repository to serve", commentText(c.modelID))
	}
	if c.revision != "" && (!revisionPattern.MatchString(c.revision) || strings.Contains(c.revision, "..")) {
		return invalid("plan model.revision %q is not a branch, tag or commit", commentText(c.revision))
	}
	if !versionPattern.MatchString(c.version) {
		return invalid("plan engine.version %q is not a version such as 0.19", commentText(c.version))
	}
	if image != "" && !imagePattern.MatchString(image) {
		return invalid("image %q is not an image reference (registry/repository:tag)", commentText(image))
	}
	return nil
}

// planValues are the plan fields checkIdentifiers looks at.
type planValues struct {
	modelID, revision, version string
}
