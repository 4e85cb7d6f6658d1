package server

import (
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"strings"
)

// FlagType is the value type of a command flag as the API sees it.
type FlagType string

// The flag types the API accepts. Any other CLI value type (durations,
// enumerations) is described as String and validated by the command.
const (
	String      FlagType = "string"
	Int         FlagType = "int"
	Float       FlagType = "float"
	Bool        FlagType = "bool"
	StringSlice FlagType = "stringSlice"
)

// Command describes one CLI command that the API exposes as
// /api/v1/{Name}.
type Command struct {
	// Name is the command name, e.g. "size"; it is the endpoint's last
	// path segment.
	Name string
	// Summary and Description are the command's short and long help; they
	// become the OpenAPI operation's summary and description.
	Summary, Description string
	// Args are the positional arguments in order, e.g. MODEL.
	Args []Arg
	// Flags are the command's own flags (not -o, not the global ones).
	Flags []Flag
	// Outputs are the Go types whose JSON the command prints with -o json,
	// one per shape (gpus prints one for the list and another for one
	// chip). The OpenAPI document describes the 200 answer from them, so a
	// field added to a type appears there by itself; none means an untyped
	// object.
	Outputs []reflect.Type
}

// Arg is a positional argument; the API takes it as a parameter named
// strings.ToLower(Name) (MODEL → model).
type Arg struct {
	// Name is as the usage line prints it, e.g. "MODEL".
	Name string
	// Required is documented in the OpenAPI document; the command itself
	// enforces it (some commands accept a flag instead).
	Required bool
	// Description is the parameter's description in the OpenAPI document.
	Description string
	// Validate, if set, rejects a value with 400 before the command runs,
	// e.g. a local path where only catalog and Hugging Face ids are served.
	Validate func(string) error
}

// Flag is one command flag.
type Flag struct {
	// Name is the CLI flag name without dashes, in kebab-case
	// ("input-tokens"); the API parameter is its snake_case form.
	Name string
	Type FlagType
	// Default is the CLI default as text ("" when none).
	Default string
	Usage   string
	// Enum lists the allowed values when the CLI has a closed set (the
	// registered engines); the OpenAPI schema carries it as "enum".
	Enum []string
}

// ParamName is the API parameter name of a CLI flag: kebab-case to
// snake_case ("input-tokens" → "input_tokens").
func ParamName(flag string) string { return strings.ReplaceAll(flag, "-", "_") }

// ArgParamName is the API parameter name of a positional argument
// ("MODEL" → "model").
func ArgParamName(arg string) string { return strings.ToLower(arg) }

var (
	commandName = regexp.MustCompile(`^[a-z][a-z0-9-]{0,40}$`)
	flagName    = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,60}$`)
	argName     = regexp.MustCompile(`^[A-Z][A-Z0-9_]{0,40}$`)
)

// param is one accepted request parameter of a command: either a flag or a
// positional argument.
type param struct {
	name string // snake_case API name
	flag *Flag  // nil for a positional argument
	arg  *Arg
	pos  int // index among positional args
}

func (p param) typ() FlagType {
	if p.flag != nil {
		return p.flag.Type
	}
	return String
}

// compiled is a Command with its parameter index.
type compiled struct {
	Command
	params map[string]param
	names  []string // API parameter names, in declaration order (args first)
}

func compile(c Command) (*compiled, error) {
	if !commandName.MatchString(c.Name) {
		return nil, fmt.Errorf("command name %q: want lower-case letters, digits and '-'", c.Name)
	}
	cc := &compiled{Command: c, params: map[string]param{}}
	add := func(p param) error {
		if _, dup := cc.params[p.name]; dup {
			return fmt.Errorf("command %s: parameter %q is defined twice", c.Name, p.name)
		}
		cc.params[p.name] = p
		cc.names = append(cc.names, p.name)
		return nil
	}
	for i := range c.Args {
		a := &cc.Args[i]
		if !argName.MatchString(a.Name) {
			return nil, fmt.Errorf("command %s: argument name %q: want upper-case letters, digits and '_'", c.Name, a.Name)
		}
		if err := add(param{name: ArgParamName(a.Name), arg: a, pos: i}); err != nil {
			return nil, err
		}
	}
	for i := range c.Flags {
		f := &cc.Flags[i]
		if !flagName.MatchString(f.Name) {
			return nil, fmt.Errorf("command %s: flag name %q: want lower-case letters, digits and '-'", c.Name, f.Name)
		}
		switch f.Type {
		case String, Int, Float, Bool, StringSlice:
		default:
			return nil, fmt.Errorf("command %s: flag --%s has unknown type %q", c.Name, f.Name, f.Type)
		}
		if err := add(param{name: ParamName(f.Name), flag: f}); err != nil {
			return nil, err
		}
	}
	return cc, nil
}

var errNoCommands = errors.New("server: Options.Commands is empty")
