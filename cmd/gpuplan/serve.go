package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"regexp"
	"slices"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/gpuplan/gpuplan/model"
	"github.com/gpuplan/gpuplan/model/hfhub"
	"github.com/gpuplan/gpuplan/model/safetensors"
	"github.com/gpuplan/gpuplan/server"
)

// apiExcludedCommands are never served: they write files (deploy), open
// connections to other servers (bench), serve (serve) or are cobra's
// own helpers. Subcommands are never served either (`prices refresh`
// touches the network and writes the cache).
var apiExcludedCommands = map[string]bool{
	"serve": true, "bench": true, "deploy": true, "completion": true, "help": true,
	// probe measures the machine it runs on: never the server's, for strangers.
	"probe": true,
}

func newServeCmd(a *app) *cobra.Command {
	var (
		addr          string
		timeout       time.Duration
		maxConcurrent int
		maxConns      int
		logFormat     string
	)
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "HTTP JSON API and web calculator",
		Long: `Serve the web calculator at / and a JSON API under /api/v1/: one endpoint per
command (models, size, gpus, prices, plan, ptu, perf, guide, ... whichever this
binary has), taking the command's flags in snake_case as GET query parameters or
a POST JSON body, and returning exactly what the command prints with -o json.

Also served: the OpenAPI document at /api/v1/openapi.json, Prometheus metrics at
/metrics and a liveness check at /healthz. The page and the API need no network;
--catalog and --offline apply to every request. Stops gracefully on SIGINT or
SIGTERM. See docs/server.md.`,
		Example: `  gpuplan serve
  gpuplan serve --addr 0.0.0.0:8080 --offline
  curl 'http://127.0.0.1:8080/api/v1/size?model=llama-3.1-8b&gpu=h100-sxm&context=8192'`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var h slog.Handler
			switch logFormat {
			case "json":
				h = slog.NewJSONHandler(a.Stderr, nil)
			case "text":
				h = slog.NewTextHandler(a.Stderr, nil)
			default:
				return usageErrf("unknown --log-format %q (use text or json)", logFormat)
			}
			if _, _, err := a.loadCatalogs(); err != nil {
				return err
			}
			srv, err := a.apiServer(cmd.Root(), server.Options{Logger: slog.New(h), Timeout: timeout, MaxConcurrent: maxConcurrent, MaxConns: maxConns})
			if err != nil {
				return err
			}
			ln, err := net.Listen("tcp", addr)
			if err != nil {
				return fmt.Errorf("listen on %s (choose another with --addr): %w", addr, err)
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			fmt.Fprintf(a.Stderr, "gpuplan %s serving http://%s/ (API: /api/v1/, %s)\n", version, ln.Addr(), strings.Join(srv.Commands(), ", "))
			return srv.Serve(ctx, ln)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&addr, "addr", "127.0.0.1:8080", "host:port to listen on (0.0.0.0:8080 for every interface)")
	fl.DurationVar(&timeout, "timeout", server.DefaultTimeout, "longest time one API request may take")
	fl.IntVar(&maxConcurrent, "max-concurrent", 0, "commands running at once; more wait their turn (default: the number of CPUs)")
	fl.StringVar(&logFormat, "log-format", "text", "log format on stderr: text or json")
	fl.IntVar(&maxConns, "max-connections", server.DefaultMaxConns, "open client connections at once; more wait to be accepted")
	return cmd
}

// apiServer builds the server for the command tree under root: Run,
// Commands, Version and Now are filled in; o carries the rest.
func (a *app) apiServer(root *cobra.Command, o server.Options) (*server.Server, error) {
	o.Run = a.apiRun()
	o.Commands = apiCommands(root, a)
	o.Version = version
	o.Now = a.Now
	return server.New(o)
}

// apiRun runs one API request as the CLI: the command line Run would
// execute, with --output=json and the server's --catalog and --offline
// appended, so the response is what the command prints. It shares Run's
// execute (TestAPIMatchesCLI compares the two), except that the catalogs are
// loaded once for all requests, and it keeps the error value,
// so that failures whose cause is outside the request (the Hugging Face
// Hub) get the server's extra exit codes.
func (a *app) apiRun() server.RunFunc {
	var globals []string
	if a.catalogFile != "" {
		globals = append(globals, "--catalog="+a.catalogFile)
	}
	if a.offline {
		globals = append(globals, "--offline")
	}
	// The catalogs (embedded plus --catalog) are loaded once and shared:
	// their lookups take locks and return copies, so requests may read them
	// at once (TestAPIConcurrentRequests runs under the race detector). A
	// changed --catalog file is read when the server restarts.
	shared, loadErr := a.loadAll()
	var pathRes []*regexp.Regexp
	for _, p := range a.serverPaths() {
		// Whole path components only: "/root" in "acme/root" is a model id.
		pathRes = append(pathRes, regexp.MustCompile(`(?m)(^|[^\w.\-/])`+regexp.QuoteMeta(p)+`((?:/[^\s"']*)?)($|[^\w.\-])`))
	}
	redact := func(s string) string {
		for _, re := range pathRes {
			s = re.ReplaceAllString(s, "${1}<server path>${3}")
		}
		return s
	}
	return func(ctx context.Context, args []string, stdout, stderr io.Writer) int {
		full := make([]string, 0, len(args)+1+len(globals))
		full = append(append(append(full, args...), "--output=json"), globals...)
		req := &app{Options: Options{Stdin: strings.NewReader(""), Stdout: stdout, Stderr: stderr, Now: a.Now, Getenv: a.Getenv}, api: true}
		if loadErr == nil {
			req.cats.once.Do(func() { req.cats.c = shared })
		}
		var errBuf bytes.Buffer
		req.Stderr = &errBuf
		err := req.execute(ctx, full)
		_, _ = io.WriteString(stderr, redact(errBuf.String()))
		if err != nil {
			return apiExitCode(err)
		}
		return exitOK
	}
}

// serverPaths are the server's own directories that may appear in an
// error's wrapped cause (an *os.PathError from the cache); redact replaces
// them before a message leaves the server.
func (a *app) serverPaths() []string {
	var out []string
	if d, err := a.cacheDir(); err == nil && d != "" {
		out = append(out, d)
	}
	if d, err := os.UserHomeDir(); err == nil && d != "" && d != "/" {
		out = append(out, d)
	}
	if d, err := os.Getwd(); err == nil && d != "/" {
		out = append(out, d)
	}
	// Longest first, so a cache under $HOME is named as the cache.
	sort.Slice(out, func(i, j int) bool { return len(out[i]) > len(out[j]) })
	return out
}

// apiExitCode is the CLI's exit code for err, refined for Hugging Face Hub
// failures: a missing repository (404), a Hub that cannot be reached or
// refuses (502), and a model the offline server has not cached (503).
func apiExitCode(err error) int {
	code := exitCode(err)
	if code != exitError {
		return code
	}
	switch {
	case errors.Is(err, hfhub.ErrNotFound):
		return server.ExitNotFound
	case errors.Is(err, hfhub.ErrNotCached):
		return server.ExitUnavailable
	case errors.Is(err, hfhub.ErrNetwork), errors.Is(err, hfhub.ErrAccess), errors.Is(err, hfhub.ErrHTTP), errors.Is(err, hfhub.ErrTooLarge),
		errors.Is(err, safetensors.ErrHeaderBudget):
		return server.ExitUpstream
	}
	return code
}

// apiCommands describes the served commands by walking the real cobra tree,
// so the API's parameters, validation and OpenAPI document follow the flags
// the binary has. A command added to the tree appears automatically.
func apiCommands(root *cobra.Command, a *app) []server.Command {
	var out []server.Command
	for _, c := range apiServedCommands(root) {
		sc := server.Command{Name: c.Name(), Summary: c.Short, Description: c.Long, Outputs: apiOutputs[c.Name()]}
		subs := map[string]bool{}
		for _, sub := range c.Commands() {
			subs[sub.Name()] = true
			for _, al := range sub.Aliases {
				subs[al] = true
			}
		}
		for _, tok := range strings.Fields(c.Use)[1:] {
			name := strings.Trim(tok, "[]")
			if strings.Contains(name, "...") || strings.EqualFold(name, "flags") {
				continue
			}
			arg := server.Arg{Name: name, Required: !strings.HasPrefix(tok, "[")}
			arg.Description, arg.Validate = argDoc(c, name, subs, a)
			sc.Args = append(sc.Args, arg)
		}
		c.LocalFlags().VisitAll(func(f *pflag.Flag) {
			// apiFlags (api.go) decides per flag; a flag it does not
			// name is not served.
			if f.Hidden || !apiExposed(f.Name) {
				return
			}
			_, usage := pflag.UnquoteUsage(f)
			def := f.DefValue
			if def == "[]" {
				def = ""
			}
			sc.Flags = append(sc.Flags, server.Flag{Name: f.Name, Type: apiFlagType(f.Value.Type()), Default: def, Usage: usage, Enum: apiEnum(f)})
		})
		out = append(out, sc)
	}
	return out
}

// apiEnum is the closed set of a flag's values for the API schema: the
// engine annotation (ids and aliases), else an enum flag's extras and
// registry choices. A list-valued enum flag (plan's --gpu, --region) has
// none: a comma-separated value is not one of its items.
func apiEnum(f *pflag.Flag) []string {
	if e := f.Annotations[enumAnnotation]; len(e) > 0 {
		return e
	}
	if ef, ok := f.Value.(*enumFlag); ok && !ef.list {
		return slices.Clone(ef.all())
	}
	return nil
}

// apiServedCommands are the commands of root that the API serves: the
// runnable, visible top-level commands not in apiExcludedCommands.
func apiServedCommands(root *cobra.Command) []*cobra.Command {
	var out []*cobra.Command
	for _, c := range root.Commands() {
		if apiExcludedCommands[c.Name()] || c.Hidden || c.Deprecated != "" || !c.Runnable() {
			continue
		}
		out = append(out, c)
	}
	return out
}

func apiFlagType(pflagType string) server.FlagType {
	switch pflagType {
	case "int", "int8", "int16", "int32", "int64", "uint", "uint8", "uint16", "uint32", "uint64":
		return server.Int
	case "float32", "float64":
		return server.Float
	case "bool":
		return server.Bool
	case "stringSlice", "stringArray":
		return server.StringSlice
	}
	return server.String
}

// argDoc describes a positional argument and returns its check: a MODEL
// may be a catalog id or a Hugging Face id, never a local path or a URL (a
// server must not read its own files or fetch arbitrary addresses for a
// client), and no argument may name a subcommand.
func argDoc(c *cobra.Command, name string, subs map[string]bool, a *app) (string, func(string) error) {
	desc := fmt.Sprintf("%s, the positional argument of `gpuplan %s`", name, c.Use)
	checkSub := func(v string) error {
		if subs[v] {
			return fmt.Errorf("%q names a subcommand, which the API does not serve", v)
		}
		return nil
	}
	if name != "MODEL" {
		return desc, checkSub
	}
	desc = "MODEL: a catalog id or alias (see /api/v1/models) or a Hugging Face id org/name[@revision]" +
		"; local paths and URLs are not accepted over the API (positional argument of `gpuplan " + c.Use + "`)"
	return desc, func(v string) error {
		if err := checkSub(v); err != nil {
			return err
		}
		return a.checkAPIModelRef(v)
	}
}

var errModelRef = errors.New("give a catalog id or alias (see /api/v1/models) or a Hugging Face id org/name[@revision]; the API does not read local files or fetch URLs")

// checkAPIModelRef accepts exactly what the API resolves: a catalog id or
// alias, or a well-formed Hugging Face id. It checks model.NormalizeRef(ref),
// the value model.Resolve would use, so surrounding spaces cannot carry a
// path past it, and it never looks at the file system, so its answers say
// nothing about which files the server has. The request itself resolves
// with model.ResolveOptions.CatalogAndHubOnly, which refuses any name that
// is neither.
func (a *app) checkAPIModelRef(raw string) error {
	ref := model.NormalizeRef(raw)
	if ref == "" {
		return fmt.Errorf("is blank: %w", errModelRef)
	}
	low := strings.ToLower(ref)
	if strings.Contains(low, "://") || strings.ContainsAny(ref, `\`) {
		return fmt.Errorf("%q: %w", ref, errModelRef)
	}
	if strings.HasPrefix(ref, "/") || strings.HasPrefix(ref, ".") || strings.HasPrefix(ref, "~") {
		return fmt.Errorf("%q looks like a path: %w", ref, errModelRef)
	}
	switch {
	case strings.HasSuffix(low, ".json"), strings.HasSuffix(low, ".gguf"), strings.HasSuffix(low, ".safetensors"):
		return fmt.Errorf("%q looks like a file: %w", ref, errModelRef)
	}
	mc, _, err := a.loadCatalogs()
	if err != nil {
		return err
	}
	_, _, err = mc.Lookup(ref)
	switch {
	case err == nil:
		return nil
	case !errors.Is(err, model.ErrNotInCatalog):
		return err
	case !strings.Contains(ref, "/"):
		// Not an open model in the catalog: the command decides (ptu's
		// MODEL is an Azure OpenAI model); model.Resolve, run with
		// CatalogAndHubOnly for API requests, rejects it without looking
		// at the file system.
		return nil
	}
	if _, _, err := hfhub.ParseRef(ref); err != nil {
		return err
	}
	return nil
}
