package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/gpuplan/gpuplan/bench"
	"github.com/gpuplan/gpuplan/boundedfile"
)

// benchFlags are the parsed flags of `gpuplan bench`.
type benchFlags struct {
	url, model, api, apiKeyEnv  string
	azureDeployment, apiVersion string
	noStream, allowRemote       bool
	concurrency                 []int
	rps                         []float64
	requests, warmup            int
	maxErrorRate                float64
	duration, timeout           time.Duration
	inputTokens, outputTokens   int
	promptsFile                 string
	seed                        uint64
	force                       string
	ttftSLO, tpotSLO, e2eSLO    float64
	maxInflight                 int
	planFile, calibFile         string
	reportFile                  string
	quiet                       bool
	key                         bench.CalibrationKey
	engine                      string
	format                      outputFormat
}

// maxBenchRequests bounds one level: every record (with one timestamp per
// output chunk) is kept until the level's metrics are computed, so 100,000
// requests of 128 tokens hold about 100 MiB.
const maxBenchRequests = 100_000

// maxSyntheticPrompts bounds the distinct synthetic prompts of a run (about
// 3 KiB each at 512 tokens, kept with their encoded bodies); past it they
// repeat, far enough apart that a server's prefix cache has moved on.
const maxSyntheticPrompts = 8192

func newBenchCmd(a *app) *cobra.Command {
	f := &benchFlags{}
	cmd := &cobra.Command{
		Use:   "bench --url URL --model NAME",
		Short: "Measure a live OpenAI-compatible endpoint (TTFT, TPOT, throughput, goodput) against the plan",
		Long: `bench sends a controlled load to a running OpenAI-compatible server (vLLM,
SGLang, TGI, llama.cpp server, Ollama, OpenAI, Azure OpenAI) and reports, per
load level, time to first token, time per output token, inter-token latency,
end-to-end latency, output tokens/s, requests/s, goodput under SLOs and errors
by class, with the definitions of vllm bench serve (docs/bench.md).

Load is a closed-loop concurrency sweep (--concurrency 1,4,16) or open-loop
Poisson arrivals (--rps 2.5); each level warms up, then stops at --requests or
--duration, whichever comes first. Only loopback targets are allowed unless
--allow-remote is given.

With --plan, measurements are set next to the plan's predictions; with
--write-calibration they are written as calibration points for perf.

"bench quality" compares a quantized candidate with its baseline on the same
prompts and fails (exit 4) when accuracy drops too much.`,
		Example: `  gpuplan bench --url http://127.0.0.1:8000/v1 --model meta-llama/Llama-3.1-8B-Instruct \
      --concurrency 1,8,32 --input-tokens 1024 --output-tokens 256 --report bench.html
  gpuplan bench --url https://myres.openai.azure.com --azure-deployment gpt-4o --allow-remote --rps 1 --requests 60
  gpuplan bench --url http://127.0.0.1:8000/v1 --model m --plan plan.json --write-calibration calib.json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runBench(cmd, a, f) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.url, "url", "", "API base URL, e.g. http://127.0.0.1:8000/v1 (Azure: https://NAME.openai.azure.com)")
	fl.StringVar(&f.model, "model", "", "model name the server serves (the request's \"model\")")
	fl.StringVar(&f.api, "api", "chat", "endpoint: chat (/chat/completions) or completions (/completions)")
	fl.StringVar(&f.apiKeyEnv, "api-key-env", "", "environment variable holding the API key (default OPENAI_API_KEY, or AZURE_OPENAI_API_KEY with --azure-deployment)")
	fl.StringVar(&f.azureDeployment, "azure-deployment", "", "Azure OpenAI deployment name: use /openai/deployments/NAME/... and the api-key header")
	fl.StringVar(&f.apiVersion, "api-version", bench.DefaultAzureAPIVersion, "Azure OpenAI api-version")
	fl.BoolVar(&f.noStream, "no-stream", false, "do not stream (only end-to-end latency can be measured)")
	fl.BoolVar(&f.allowRemote, "allow-remote", false, "allow a target that is not on this machine")
	fl.IntSliceVar(&f.concurrency, "concurrency", nil, "closed-loop concurrency levels, comma-separated (default 1,4,16)")
	fl.Float64SliceVar(&f.rps, "rps", nil, "open-loop Poisson request rates per second, comma-separated")
	fl.IntVar(&f.requests, "requests", 200, "measured requests per level")
	fl.DurationVar(&f.duration, "duration", 60*time.Second, "longest time a level keeps starting requests")
	fl.IntVar(&f.warmup, "warmup", -1, "unmeasured warm-up requests per level (default: one per concurrent slot)")
	fl.Float64Var(&f.maxErrorRate, "max-error-rate", 0.01, "largest fraction of failed measured requests before the run exits 1 (0.01 = 1%)")
	fl.DurationVar(&f.timeout, "timeout", 300*time.Second, "limit on one request, from sending to the last byte")
	fl.IntVar(&f.inputTokens, "input-tokens", 512, "synthetic prompt length in tokens (approximate; see docs/bench.md)")
	fl.IntVar(&f.outputTokens, "output-tokens", 128, "max_tokens per request")
	fl.StringVar(&f.promptsFile, "prompts", "", "JSON Lines file of prompts ({\"prompt\": ..., \"output_tokens\": ...} per line) instead of synthetic ones")
	fl.Uint64Var(&f.seed, "seed", 1, "seed for synthetic prompts and Poisson arrivals")
	fl.StringVar(&f.force, "force-output-length", "auto", "send ignore_eos and min_tokens so every answer has --output-tokens tokens: auto (drop them if the server rejects them), on, off")
	fl.Float64Var(&f.ttftSLO, "ttft-slo-ms", 0, "goodput objective: time to first token, ms")
	fl.Float64Var(&f.tpotSLO, "tpot-slo-ms", 0, "goodput objective: time per output token, ms")
	fl.Float64Var(&f.e2eSLO, "e2e-slo-ms", 0, "goodput objective: end-to-end latency, ms")
	fl.IntVar(&f.maxInflight, "max-inflight", 1024, "cap on requests in flight in --rps levels")
	fl.StringVar(&f.planFile, "plan", "", "plan JSON whose predictions to compare with (docs/bench.md)")
	fl.StringVar(&f.calibFile, "write-calibration", "", "write measured points as a calibration FILE for perf")
	fl.StringVar(&f.reportFile, "report", "", "write a self-contained HTML report to FILE")
	fl.BoolVar(&f.quiet, "quiet", false, "no progress line on stderr")
	fl.StringVar(&f.key.GPU, "gpu", "", "calibration key: GPU id the endpoint runs on")
	fl.IntVar(&f.key.GPUCount, "gpu-count", 0, "calibration key: GPUs serving the model (default tp×pp)")
	fl.IntVar(&f.key.TP, "tp", 0, "calibration key: tensor-parallel degree")
	fl.IntVar(&f.key.PP, "pp", 0, "calibration key: pipeline-parallel degree (default 1)")
	fl.StringVar(&f.engine, "engine", "", "calibration key: engine, optionally with its version (vllm@0.19.1)")
	fl.StringVar(&f.key.EngineVersion, "engine-version", "", "calibration key: engine version")
	fl.StringVar(&f.key.Precision, "precision", "", "calibration key: weights precision (bf16, fp8, int4, ...)")
	fl.StringVar(&f.key.KVDType, "kv-dtype", "", "calibration key: KV-cache dtype (default auto)")
	addOutputFlag(cmd, &f.format)
	cmd.AddCommand(newBenchQualityCmd(a))
	return cmd
}

// targetCheck validates a URL and the remote rule.
func targetCheck(raw string, allowRemote bool, flag string) error {
	if strings.TrimSpace(raw) == "" {
		return usageErrf("%s is required, e.g. %s http://127.0.0.1:8000/v1", flag, flag)
	}
	if _, err := (bench.Target{URL: raw}).Endpoint(); err != nil {
		return usageErr(err)
	}
	if !allowRemote {
		if err := bench.CheckLoopback(raw); err != nil {
			return usageErr(fmt.Errorf("%s: %w", flag, err))
		}
	}
	return nil
}

func parseAPI(s string) (bench.API, error) {
	switch strings.ToLower(s) {
	case "chat":
		return bench.APIChat, nil
	case "completions":
		return bench.APICompletions, nil
	}
	return "", usageErrf("--api %q: use chat or completions", s)
}

func (f *benchFlags) levels() ([]bench.Level, error) {
	if len(f.concurrency) > 0 && len(f.rps) > 0 {
		return nil, usageErrf("--concurrency and --rps are exclusive: a run is either closed-loop or open-loop")
	}
	var out []bench.Level
	// Values are range-checked with every other flag (flagcheck.go).
	for _, c := range f.rps {
		out = append(out, bench.Level{RPS: c})
	}
	conc := f.concurrency
	if len(f.rps) == 0 && len(conc) == 0 {
		conc = []int{1, 4, 16}
	}
	for _, c := range conc {
		out = append(out, bench.Level{Concurrency: c})
	}
	return out, nil
}

// calibrationKey merges the plan's key with explicit flags (flags win) and
// validates it; it is only called when --write-calibration is set.
func (f *benchFlags) calibrationKey(cmd *cobra.Command, plan *bench.PlanPrediction) (bench.CalibrationKey, error) {
	var k bench.CalibrationKey
	if plan != nil {
		k = plan.CalibrationKey
	}
	fl := cmd.Flags()
	if k.Model == "" {
		k.Model = f.model
	}
	if fl.Changed("gpu") {
		k.GPU = f.key.GPU
	}
	if fl.Changed("gpu-count") {
		k.GPUCount = f.key.GPUCount
	}
	if fl.Changed("tp") {
		k.TP = f.key.TP
	}
	if fl.Changed("pp") {
		k.PP = f.key.PP
	}
	if fl.Changed("engine") {
		name, ver, hasVer := strings.Cut(f.engine, "@")
		k.Engine = name
		if hasVer {
			k.EngineVersion = ver
		}
	}
	if fl.Changed("engine-version") {
		k.EngineVersion = f.key.EngineVersion
	}
	if fl.Changed("precision") {
		k.Precision = f.key.Precision
	}
	if fl.Changed("kv-dtype") {
		k.KVDType = f.key.KVDType
	}
	if err := k.Normalize(); err != nil {
		return k, usageErr(fmt.Errorf("--write-calibration needs the deployment it measured: %w; give them with --plan or --gpu, --tp, --engine NAME@VERSION, --precision", err))
	}
	return k, nil
}

// maxInputFileBytes bounds the prompts and dataset files bench
// reads (each parser bounds its lines and items further).
const maxInputFileBytes = 512 << 20

func readFileLimited(path string, what string) ([]byte, error) {
	b, err := boundedfile.ReadFile(path, maxInputFileBytes)
	if err != nil {
		return nil, fmt.Errorf("%s file: %w", what, err)
	}
	return b, nil
}

func runBench(cmd *cobra.Command, a *app, f *benchFlags) error {
	ctx := cmd.Context()
	if err := targetCheck(f.url, f.allowRemote, "--url"); err != nil {
		return err
	}
	api, err := parseAPI(f.api)
	if err != nil {
		return err
	}
	if f.model == "" && f.azureDeployment == "" {
		return usageErrf("--model is required: the model name the server serves (GET %s/models lists them)", strings.TrimRight(f.url, "/"))
	}
	levels, err := f.levels()
	if err != nil {
		return err
	}
	// Ranges of the numeric flags are checked in flagcheck.go.
	switch {
	case f.promptsFile != "" && cmd.Flags().Changed("input-tokens"):
		return usageErrf("--input-tokens applies to synthetic prompts; drop it or --prompts")
	case f.noStream && (f.ttftSLO > 0 || f.tpotSLO > 0):
		return usageErrf("--ttft-slo-ms and --tpot-slo-ms need streaming; drop --no-stream")
	}
	force := bench.ForceMode(strings.ToLower(f.force))
	if force != bench.ForceAuto && force != bench.ForceOn && force != bench.ForceOff {
		return usageErrf("--force-output-length %q: use auto, on or off", f.force)
	}
	var plan *bench.PlanPrediction
	if f.planFile != "" {
		// LoadPlanPrediction bounds the read by plan.MaxFileBytes, the one
		// limit for plan files.
		pf, err := os.Open(f.planFile)
		if err != nil {
			return fmt.Errorf("plan file: %w", err)
		}
		plan, err = bench.LoadPlanPrediction(pf)
		pf.Close()
		if err != nil {
			return fmt.Errorf("%s: %w", f.planFile, err)
		}
	}
	var key bench.CalibrationKey
	if f.calibFile != "" {
		if key, err = f.calibrationKey(cmd, plan); err != nil {
			return err
		}
	}
	var prompts []bench.Prompt
	promptsName := "synthetic"
	counting := "server usage (stream_options.include_usage); where a server reports none, output tokens are counted as content chunks and input tokens as the synthetic word count"
	if f.promptsFile != "" {
		b, err := readFileLimited(f.promptsFile, "prompts")
		if err != nil {
			return err
		}
		if prompts, err = bench.LoadPrompts(bytes.NewReader(b), f.promptsFile); err != nil {
			return err
		}
		promptsName = filepath.Base(f.promptsFile)
		counting = "server usage (stream_options.include_usage); where a server reports none, output tokens are counted as content chunks and input tokens are the file's input_tokens"
	} else {
		// One distinct prompt per request of the whole run (probe, warm-ups,
		// levels), up to maxSyntheticPrompts, so prefix caching never serves
		// a measured prompt from cache.
		need := 2 + len(levels)*(f.requests+f.warmupCount(levels))
		prompts = bench.SyntheticPrompts(min(need, maxSyntheticPrompts), f.inputTokens, f.seed)
	}

	keyEnv := f.apiKeyEnv
	if keyEnv == "" {
		keyEnv = "OPENAI_API_KEY"
		if f.azureDeployment != "" {
			keyEnv = "AZURE_OPENAI_API_KEY"
		}
	}
	getenv := a.Getenv
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	target := bench.Target{URL: f.url, Model: f.model, API: api, Stream: !f.noStream, APIKey: getenv(keyEnv),
		AzureDeployment: f.azureDeployment, AzureAPIVersion: f.apiVersion}
	maxConns := 1
	for _, l := range levels {
		maxConns = max(maxConns, l.Concurrency, min(f.maxInflight, int(math.Ceil(l.RPS))*4))
	}
	client, err := bench.NewClient(target, nil, a.Now, maxConns)
	if err != nil {
		return usageErr(err)
	}
	slo := bench.SLO{TTFTms: f.ttftSLO, TPOTms: f.tpotSLO, E2Ems: f.e2eSLO}
	started := a.Now()
	prog := newProgressPrinter(a.Stderr, f.quiet)
	res, runErr := bench.Run(ctx, bench.RunConfig{
		Client: client, Prompts: prompts, OutputTokens: f.outputTokens, Force: force, Levels: levels,
		Requests: f.requests, Duration: f.duration, Warmup: f.warmup, Timeout: f.timeout, MaxInflight: f.maxInflight,
		Seed: f.seed, SLO: slo, Progress: prog.update, KeepRecords: f.reportFile != "",
	})
	prog.finish()
	if res == nil {
		return runErr
	}
	rep := &bench.Report{
		SchemaVersion: bench.ReportSchemaVersion, StartedAt: started.UTC(),
		Target: bench.ReportTarget{Endpoint: client.Endpoint(), API: api, Model: f.model, Stream: target.Stream, Azure: target.Azure()},
		Workload: bench.ReportWorkload{Prompts: promptsName, OutputTokens: f.outputTokens, TokenCounting: counting,
			ForceOutputLength: res.ForceLength, RequestsPerLevel: f.requests, DurationS: f.duration.Seconds(),
			Warmup: f.warmup, TimeoutS: f.timeout.Seconds(), Seed: f.seed},
		Levels: res.Levels, Notes: res.Notes, Interrupted: res.Interrupted,
	}
	if f.promptsFile == "" {
		rep.Workload.InputTokens = f.inputTokens
	}
	if slo.Set() {
		rep.SLO = &slo
	}
	if plan != nil {
		rep.Comparison = bench.Compare(res.Levels, plan.Predictions)
		rep.Predictions = plan.Predictions
		pk := plan.CalibrationKey
		rep.Plan = &pk
		if len(rep.Comparison) == 0 {
			rep.Notes = append(rep.Notes, "the plan has no prediction for any measured level (match by concurrency or rps)")
		}
	}
	if f.reportFile != "" {
		var buf bytes.Buffer
		if err := bench.WriteHTML(&buf, rep); err != nil {
			return fmt.Errorf("render report: %w", err)
		}
		if err := bench.WriteFileAtomic(f.reportFile, buf.Bytes()); err != nil {
			return err
		}
	}
	if f.calibFile != "" {
		var preds []bench.Prediction
		if plan != nil {
			preds = plan.Predictions
		}
		pts := bench.CalibrationPoints(key, res.Levels, preds, started, "gpuplan bench "+version)
		// The points measured so far are written even after Ctrl-C; the
		// wait for another writer's lock is bounded.
		lockCtx, cancel := context.WithTimeout(context.WithoutCancel(cmd.Context()), 30*time.Second)
		total, err := bench.AppendCalibrationFile(lockCtx, f.calibFile, pts)
		cancel()
		if err != nil {
			return err
		}
		if !f.quiet {
			fmt.Fprintf(a.Stderr, "Calibration: %d point(s) added to %s (%d in all)\n", len(pts), f.calibFile, total)
		}
	}
	if err := render(a.Stdout, f.format, rep, func(tw *tabwriter.Writer) error { return benchTable(tw, rep) }); err != nil {
		return err
	}
	if runErr != nil {
		if errors.Is(runErr, context.Canceled) {
			return fmt.Errorf("interrupted; the results above hold every request that completed: %w", runErr)
		}
		return runErr
	}
	return checkErrorRate(res.Levels, f.maxErrorRate)
}

// checkErrorRate fails a run (exit 1) whose measured requests failed more
// often than maxRate, naming the error classes: a benchmark whose numbers
// come from a tenth of its requests is not a measurement to act on. The
// results are printed first.
func checkErrorRate(levels []bench.LevelResult, maxRate float64) error {
	sent, failed := 0, 0
	classes := map[bench.ErrorClass]int{}
	for _, l := range levels {
		sent += l.Requests
		failed += l.Failed
		for k, v := range l.Errors {
			classes[k] += v
		}
	}
	if sent == 0 || float64(failed)/float64(sent) <= maxRate {
		return nil
	}
	return fmt.Errorf("%d of %d measured requests failed (%.1f%%, more than --max-error-rate %g): %s; the figures above are not reliable, fix the errors or raise --max-error-rate",
		failed, sent, 100*float64(failed)/float64(sent), maxRate, errSummary(classes))
}

func (f *benchFlags) warmupCount(levels []bench.Level) int {
	if f.warmup >= 0 {
		return f.warmup
	}
	n := 0
	for _, l := range levels {
		n = max(n, l.Concurrency, int(math.Ceil(l.RPS)))
	}
	return n
}

func fmtLat(l *bench.Latency, pick func(*bench.Latency) float64) string {
	if l == nil {
		return "unknown"
	}
	return fmt.Sprintf("%.1f", pick(l))
}

func p50(l *bench.Latency) float64 { return l.P50 }
func p99(l *bench.Latency) float64 { return l.P99 }

func benchTable(tw *tabwriter.Writer, rep *bench.Report) error {
	fmt.Fprintf(tw, "Endpoint %s  model %s  api %s  stream %v\n", rep.Target.Endpoint, rep.Target.Model, rep.Target.API, rep.Target.Stream)
	fmt.Fprintln(tw, "LEVEL\tOK/SENT\tTTFT p50/p99 ms\tTPOT p50/p99 ms\tITL p50 ms\tE2E p50/p99 ms\tOUT TOK/S\tREQ/S\tGOODPUT/S\tERRORS")
	for _, l := range rep.Levels {
		name := fmt.Sprintf("c=%d", l.Concurrency)
		if l.Mode == "rps" {
			name = fmt.Sprintf("rps=%g", l.RPS)
		}
		good := "-"
		if l.GoodputPerS != nil {
			good = fmt.Sprintf("%.2f", *l.GoodputPerS)
		}
		fmt.Fprintf(tw, "%s\t%d/%d\t%s/%s\t%s/%s\t%s\t%s/%s\t%.1f\t%.2f\t%s\t%s\n", name, l.Completed, l.Requests,
			fmtLat(l.TTFT, p50), fmtLat(l.TTFT, p99), fmtLat(l.TPOT, p50), fmtLat(l.TPOT, p99), fmtLat(l.ITL, p50),
			fmtLat(l.E2E, p50), fmtLat(l.E2E, p99), l.OutputTokensPerS, l.RequestsPerS, good, errSummary(l.Errors))
	}
	if len(rep.Comparison) > 0 {
		fmt.Fprintln(tw)
		fmt.Fprintln(tw, "LEVEL\tMETRIC\tMEASURED\tPREDICTED\tERROR\tIN BAND")
		for _, c := range rep.Comparison {
			name := fmt.Sprintf("c=%d", c.Concurrency)
			if c.Mode == "rps" {
				name = fmt.Sprintf("rps=%g", c.RPS)
			}
			band := "-"
			if c.WithinBand != nil {
				band = map[bool]string{true: "yes", false: "no"}[*c.WithinBand]
			}
			fmt.Fprintf(tw, "%s\t%s\t%.2f\t%.2f\t%+.1f%%\t%s\n", name, c.Metric, c.Measured, c.Predicted, c.ErrorPct, band)
		}
	}
	for _, n := range rep.Notes {
		fmt.Fprintf(tw, "\nNote: %s\n", n)
	}
	return nil
}

func errSummary(m map[bench.ErrorClass]int) string {
	if len(m) == 0 {
		return "none"
	}
	var parts []string
	for k, v := range m {
		parts = append(parts, fmt.Sprintf("%s:%d", k, v))
	}
	slices.Sort(parts)
	return strings.Join(parts, ",")
}

// progressPrinter keeps one status line on stderr: rewritten in place with
// \r on a terminal; elsewhere (a log file, CI) as whole lines, one when the
// level or phase changes and at most one per progressEvery in between, so
// a log holds no carriage returns and no thousand-line runs.
type progressPrinter struct {
	mu       sync.Mutex
	w        io.Writer
	quiet    bool
	terminal bool
	wrote    bool
	last     time.Time
	lastKey  string
}

// progressEvery spaces the progress lines written to a non-terminal.
const progressEvery = 10 * time.Second

func newProgressPrinter(w io.Writer, quiet bool) *progressPrinter {
	return &progressPrinter{w: w, quiet: quiet || w == nil, terminal: isTerminal(w)}
}

func (p *progressPrinter) update(pr bench.Progress) {
	if p.quiet {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	phase := "measuring"
	if pr.Warmup {
		phase = "warming up"
	}
	rate := 0.0
	if s := pr.Elapsed.Seconds(); s > 0 {
		rate = float64(pr.Done) / s
	}
	line := fmt.Sprintf("level %d/%d %s %s: %d/%d done, %d failed, %.1f req/s, %s elapsed",
		pr.Level, pr.Levels, pr.Load, phase, pr.Done, pr.Target, pr.Failed, rate, pr.Elapsed.Round(time.Second))
	if p.terminal {
		fmt.Fprintf(p.w, "\r%s   ", line)
		p.wrote = true
		return
	}
	key := fmt.Sprintf("%d/%s", pr.Level, phase)
	if now := time.Now(); key != p.lastKey || now.Sub(p.last) >= progressEvery || pr.Done == pr.Target {
		fmt.Fprintln(p.w, line)
		p.last, p.lastKey = now, key
	}
}

func (p *progressPrinter) finish() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.wrote {
		fmt.Fprintln(p.w)
		p.wrote = false
	}
}

// qualityFlags are the parsed flags of `gpuplan bench quality`.
type qualityFlags struct {
	baseURL, baseModel, baseKeyEnv, baseAzure string
	candURL, candModel, candKeyEnv, candAzure string
	apiVersion, api, dataset                  string
	maxDrop                                   float64
	minN, builtinN, concurrency, retries      int
	seed                                      uint64
	timeout                                   time.Duration
	allowRemote, quiet                        bool
	format                                    outputFormat
}

func newBenchQualityCmd(a *app) *cobra.Command {
	f := &qualityFlags{}
	cmd := &cobra.Command{
		Use:   "quality --baseline URL --baseline-model NAME --candidate URL --candidate-model NAME",
		Short: "Quality gate: does the quantized candidate lose accuracy against its baseline?",
		Long: `quality sends the same prompts at temperature 0 to a baseline endpoint and a
candidate (typically the quantized model), scores both against reference
answers, and reports each accuracy, how often they agree, and the accuracy drop
with a paired confidence interval (Newcombe's square-and-add interval for
paired proportions). It exits 4 when the one-sided 95% upper bound on the drop
exceeds --max-drop, and 2 when fewer than --min-n prompts were scored.

Without --dataset it generates a dataset of arithmetic, string and lookup tasks
whose answers are known by construction (docs/bench.md).`,
		Example: `  gpuplan bench quality --baseline http://127.0.0.1:8000/v1 --baseline-model llama-bf16 \
      --candidate http://127.0.0.1:8001/v1 --candidate-model llama-fp8 --max-drop 0.02`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runQuality(cmd, a, f) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.baseURL, "baseline", "", "baseline API base URL")
	fl.StringVar(&f.baseModel, "baseline-model", "", "baseline model name")
	fl.StringVar(&f.baseKeyEnv, "baseline-key-env", "", "environment variable with the baseline's API key (default OPENAI_API_KEY or AZURE_OPENAI_API_KEY)")
	fl.StringVar(&f.baseAzure, "baseline-azure-deployment", "", "baseline is this Azure OpenAI deployment")
	fl.StringVar(&f.candURL, "candidate", "", "candidate API base URL")
	fl.StringVar(&f.candModel, "candidate-model", "", "candidate model name")
	fl.StringVar(&f.candKeyEnv, "candidate-key-env", "", "environment variable with the candidate's API key")
	fl.StringVar(&f.candAzure, "candidate-azure-deployment", "", "candidate is this Azure OpenAI deployment")
	fl.StringVar(&f.apiVersion, "api-version", bench.DefaultAzureAPIVersion, "Azure OpenAI api-version")
	fl.StringVar(&f.api, "api", "chat", "endpoint: chat or completions")
	fl.StringVar(&f.dataset, "dataset", "", "JSON Lines dataset ({\"prompt\", \"answer\", \"match\"} per line); default: the built-in generated one")
	fl.Float64Var(&f.maxDrop, "max-drop", 0.02, "largest tolerated accuracy drop, as a fraction (0.02 = 2 points)")
	fl.IntVar(&f.minN, "min-n", 200, "fewest scored prompts the gate decides on")
	fl.IntVar(&f.builtinN, "builtin-n", 300, "size of the built-in dataset")
	fl.Uint64Var(&f.seed, "seed", 1, "seed of the built-in dataset")
	fl.IntVar(&f.concurrency, "concurrency", 8, "parallel requests per endpoint")
	fl.IntVar(&f.retries, "retries", 3, "retries per request after 429, 5xx, timeouts or cut connections (with backoff, honouring Retry-After)")
	fl.DurationVar(&f.timeout, "timeout", 120*time.Second, "limit on one request")
	fl.BoolVar(&f.allowRemote, "allow-remote", false, "allow endpoints that are not on this machine")
	fl.BoolVar(&f.quiet, "quiet", false, "no progress line on stderr")
	addOutputFlag(cmd, &f.format)
	return cmd
}

func runQuality(cmd *cobra.Command, a *app, f *qualityFlags) error {
	ctx := cmd.Context()
	if err := targetCheck(f.baseURL, f.allowRemote, "--baseline"); err != nil {
		return err
	}
	if err := targetCheck(f.candURL, f.allowRemote, "--candidate"); err != nil {
		return err
	}
	if f.baseModel == "" && f.baseAzure == "" {
		return usageErrf("--baseline-model is required")
	}
	if f.candModel == "" && f.candAzure == "" {
		return usageErrf("--candidate-model is required")
	}
	api, err := parseAPI(f.api)
	if err != nil {
		return err
	}
	// Ranges of the numeric flags are checked in flagcheck.go.
	var items []bench.QualityItem
	name := fmt.Sprintf("built-in (n=%d, seed=%d)", f.builtinN, f.seed)
	if f.dataset != "" {
		b, err := readFileLimited(f.dataset, "dataset")
		if err != nil {
			return err
		}
		if items, err = bench.LoadDataset(bytes.NewReader(b), f.dataset); err != nil {
			return err
		}
		name = filepath.Base(f.dataset)
	} else {
		items = bench.BuiltinDataset(f.builtinN, f.seed)
	}
	if len(items) < f.minN {
		return usageErrf("the dataset has %d items, fewer than --min-n %d: the gate cannot decide on so few; add items or lower --min-n", len(items), f.minN)
	}
	getenv := a.Getenv
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	mk := func(url, model, keyEnv, azure string) (*bench.Client, error) {
		if keyEnv == "" {
			keyEnv = "OPENAI_API_KEY"
			if azure != "" {
				keyEnv = "AZURE_OPENAI_API_KEY"
			}
		}
		cl, err := bench.NewClient(bench.Target{URL: url, Model: model, API: api, APIKey: getenv(keyEnv), AzureDeployment: azure, AzureAPIVersion: f.apiVersion}, nil, a.Now, f.concurrency)
		if err != nil {
			return nil, usageErr(err)
		}
		cl.KeepText = true
		return cl, nil
	}
	base, err := mk(f.baseURL, f.baseModel, f.baseKeyEnv, f.baseAzure)
	if err != nil {
		return err
	}
	cand, err := mk(f.candURL, f.candModel, f.candKeyEnv, f.candAzure)
	if err != nil {
		return err
	}
	var progress func(done, total int)
	if !f.quiet && a.Stderr != nil {
		var last time.Time
		progress = func(done, total int) {
			if now := time.Now(); done == total || now.Sub(last) > 500*time.Millisecond {
				last = now
				fmt.Fprintf(a.Stderr, "\rquality: %d/%d prompts scored on both endpoints   ", done, total)
				if done == total {
					fmt.Fprintln(a.Stderr)
				}
			}
		}
	}
	res, runErr := bench.RunQuality(ctx, bench.QualityConfig{Baseline: base, Candidate: cand, Items: items, MaxDrop: f.maxDrop,
		MinN: f.minN, Concurrency: f.concurrency, Timeout: f.timeout, Retries: f.retries, Progress: progress})
	if res == nil {
		return runErr
	}
	out := bench.QualityReport{Dataset: name, Baseline: bench.QualityEndpoint{Endpoint: base.Endpoint(), Model: f.baseModel},
		Candidate: bench.QualityEndpoint{Endpoint: cand.Endpoint(), Model: f.candModel}, QualityResult: res}
	if err := render(a.Stdout, f.format, out, func(tw *tabwriter.Writer) error { return qualityTable(tw, out) }); err != nil {
		return err
	}
	switch {
	case errors.Is(runErr, bench.ErrTooFewPairs):
		return usageErr(fmt.Errorf("%w; failed requests: %s", runErr, errSummary(res.Errors)))
	case runErr != nil:
		return runErr
	case !res.Passed:
		return &codedError{exitGateFailed, fmt.Errorf("quality gate failed: the accuracy drop could be as large as %.1f points (one-sided 95%% bound), above --max-drop %.1f points", res.DropUpper95*100, f.maxDrop*100)}
	}
	return nil
}

func qualityTable(tw *tabwriter.Writer, q bench.QualityReport) error {
	r := q.QualityResult
	verdict := "PASS"
	if !r.Passed {
		verdict = "FAIL"
	}
	fmt.Fprintf(tw, "Dataset\t%s\n", q.Dataset)
	fmt.Fprintf(tw, "Scored pairs\t%d of %d items (min %d)\n", r.N, r.Items, r.MinN)
	fmt.Fprintf(tw, "Baseline accuracy\t%.1f%%\t%s (%s)\n", r.BaselineAccuracy*100, q.Baseline.Model, q.Baseline.Endpoint)
	fmt.Fprintf(tw, "Candidate accuracy\t%.1f%%\t%s (%s)\n", r.CandidateAccuracy*100, q.Candidate.Model, q.Candidate.Endpoint)
	fmt.Fprintf(tw, "Agreement\t%.1f%%\n", r.AgreementRate*100)
	fmt.Fprintf(tw, "Drop\t%.2f points\t95%% CI [%.2f, %.2f]; one-sided 95%% upper bound %.2f\n", r.Drop*100, r.DropCI95[0]*100, r.DropCI95[1]*100, r.DropUpper95*100)
	fmt.Fprintf(tw, "Gate\t%s\tupper bound %s --max-drop %.2f points\n", verdict, map[bool]string{true: "≤", false: ">"}[r.DropUpper95 <= r.MaxDrop], r.MaxDrop*100)
	if len(r.Errors) > 0 {
		fmt.Fprintf(tw, "Left out\t%s\n", errSummary(r.Errors))
	}
	if len(r.ByTask) > 0 {
		fmt.Fprintln(tw, "\nTASK\tN\tBASELINE\tCANDIDATE")
		for _, t := range r.ByTask {
			fmt.Fprintf(tw, "%s\t%d\t%.1f%%\t%.1f%%\n", t.Task, t.N, t.Baseline*100, t.Candidate*100)
		}
	}
	return nil
}
