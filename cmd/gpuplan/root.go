package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/cobra"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "0.1.0-dev"

// Options is everything the commands take from the outside world, so that
// tests run the whole CLI in-process with injected streams, clock and
// environment.
type Options struct {
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	// Now is the clock; tests pin it so outputs are reproducible.
	Now func() time.Time
	// Getenv reads the environment (HF_TOKEN, HF_ENDPOINT, GPUPLAN_CACHE_DIR).
	Getenv func(string) string
}

// DefaultOptions wires the real process streams, clock and environment.
func DefaultOptions() Options {
	return Options{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, Now: time.Now, Getenv: os.Getenv}
}

// app carries the parsed global flags and the injected options to every
// subcommand.
type app struct {
	Options
	catalogFile string
	offline     bool
	wide        bool
	cats        catalogs
	// api is set for a command run on behalf of an API client: MODEL
	// resolves to catalog and Hugging Face ids only, and Hub errors do not
	// quote the Hub's own messages (docs/security.md).
	api bool
}

// Run executes the CLI with args and returns the process exit code
// (docs/cli.md, "Exit codes").
func Run(ctx context.Context, args []string, opts Options) int {
	a := &app{Options: opts}
	if err := a.execute(ctx, args); err != nil {
		return exitCode(err)
	}
	return exitOK
}

// execute runs one command line against a's streams, printing a failure as
// one "Error:" line on stderr. Run and the API server both go through it.
func (a *app) execute(ctx context.Context, args []string) error {
	root := newRootCmd(a)
	if isCompletionRun(args) {
		registerCompletions(root)
	}
	root.SetArgs(args)
	root.SetIn(a.Stdin)
	root.SetOut(a.Stdout)
	root.SetErr(a.Stderr)
	err := root.ExecuteContext(ctx)
	if err != nil && exitCode(err) == exitError && isUnknownCommand(err) {
		err = usageErr(err)
	}
	if err != nil {
		fmt.Fprintln(a.Stderr, "Error:", err)
	}
	return err
}

func newRootCmd(a *app) *cobra.Command {
	root := &cobra.Command{
		Use:   "gpuplan",
		Short: "Size, place, price, deploy and verify LLM inference on GPUs",
		Long: `gpuplan answers the questions asked before serving an LLM on GPUs: will the
model fit, on which GPU and Azure VM, how fast will it be, what will it cost,
is Azure OpenAI cheaper, and how to deploy and verify it.

Every figure states its source and date; the built-in catalog works offline.`,
		Version:       version,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageErr(err) })
	// Numeric flags are range-checked in one place (flagcheck.go), after
	// parsing and before any command runs or touches the network.
	root.PersistentPreRunE = func(cmd *cobra.Command, _ []string) error { return checkFlagRanges(cmd) }
	pf := root.PersistentFlags()
	pf.StringVar(&a.catalogFile, "catalog", "", "overlay `FILE` (JSON or YAML) adding or overriding models, GPUs, VM sizes and prices; see docs/catalog.md")
	pf.BoolVar(&a.offline, "offline", false, "never touch the network; use the embedded catalog and the on-disk cache only")
	pf.BoolVar(&a.wide, "wide", false, "print every table column in full, even when the terminal (or COLUMNS) is narrower")

	root.AddCommand(
		newModelsCmd(a),
		newSizeCmd(a),
		newPerfCmd(a),
		newGPUsCmd(a),
		newPricesCmd(a),
		newBenchCmd(a),
		newPlanCmd(a),
		newPTUCmd(a),
		newGuideCmd(a),
		newServeCmd(a),
		newDeployCmd(a),
		newProbeCmd(a),
	)
	wrapArgsErrors(root)
	return root
}

// Exit codes, documented in docs/cli.md.
const (
	exitOK         = 0
	exitError      = 1
	exitUsage      = 2
	exitInfeasible = 3 // does not fit / no feasible plan / refused as undeployable
	exitGateFailed = 4 // quality gate failed
)

// codedError carries an exit code through cobra's error return.
type codedError struct {
	code int
	err  error
}

func (e *codedError) Error() string { return e.err.Error() }
func (e *codedError) Unwrap() error { return e.err }

func usageErr(err error) error { return &codedError{exitUsage, err} }

func usageErrf(format string, args ...any) error { return usageErr(fmt.Errorf(format, args...)) }

func infeasibleErr(err error) error { return &codedError{exitInfeasible, err} }

func exitCode(err error) int {
	var ce *codedError
	if errors.As(err, &ce) {
		return ce.code
	}
	return exitError
}
