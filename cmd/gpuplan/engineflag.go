package main

import (
	"github.com/spf13/pflag"

	"github.com/gpuplan/gpuplan/engine"
)

// addEngineFlag registers --engine with help listing the registered
// engine profiles, so a new engine appears everywhere at once; its values
// are checked and completed from the registry (engineEnum).
func addEngineFlag(fs *pflag.FlagSet, p *enumFlag) {
	addEnumFlag(fs, p, engineEnum, "engine", engine.Default().Info().EngineName, engine.Help())
	// The API's OpenAPI schema lists the values, so the web page offers
	// the registered engines without knowing any of them.
	_ = fs.SetAnnotation("engine", enumAnnotation, append(engine.Names(), engine.IDs()...))
}

// enumAnnotation marks a flag's closed set of values for the API schema.
const enumAnnotation = "gpuplan_enum"
