// Package ollamatest runs a real Ollama server for end-to-end tests: on
// loopback only, on a free port, with its models and home in a temporary
// directory, explicit parallelism and flash-attention settings, and killed
// when the test ends.
//
// The binary is $OLLAMA_BIN, else $(go env GOPATH)/bin/ollama (where
// `go install github.com/ollama/ollama@v0.9.0` puts it, as .ci/run does),
// else ollama on PATH. When none exists the test is skipped, except under
// CI=true, where it fails: CI must exercise the real engine.
package ollamatest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Version is the Ollama release the tests are written against; it vendors
// llama.cpp at de4c07f.
const Version = "0.9.0"

// Binary finds the ollama executable.
func Binary() (string, bool) {
	if p := os.Getenv("OLLAMA_BIN"); p != "" {
		if _, err := os.Stat(p); err == nil {
			return p, true
		}
	}
	gopath := os.Getenv("GOPATH")
	if gopath == "" {
		if out, err := exec.Command("go", "env", "GOPATH").Output(); err == nil {
			gopath = strings.TrimSpace(string(out))
		}
	}
	for _, dir := range filepath.SplitList(gopath) {
		p := filepath.Join(dir, "bin", "ollama")
		if _, err := os.Stat(p); err == nil {
			return p, true
		}
	}
	if p, err := exec.LookPath("ollama"); err == nil {
		return p, true
	}
	return "", false
}

// Require returns the ollama binary, skipping the test when it is absent
// outside CI and failing it under CI=true.
func Require(t testing.TB) string {
	t.Helper()
	if testing.Short() && os.Getenv("CI") != "true" {
		t.Skip("end-to-end Ollama test skipped in -short mode")
	}
	p, ok := Binary()
	if !ok {
		msg := "ollama not found: install it with `go install github.com/ollama/ollama@v" + Version + "` (about 10 minutes on 2 cores) or set OLLAMA_BIN"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg + " (CI=true: end-to-end tests must run)")
		}
		t.Skip(msg)
	}
	return p
}

// Options configure the server.
type Options struct {
	// Parallel is OLLAMA_NUM_PARALLEL (slots per model); 1 when zero.
	Parallel int
	// FlashAttention is OLLAMA_FLASH_ATTENTION.
	FlashAttention bool
	// Threads is passed as num_thread when positive (see Generate).
	Threads int
}

// Server is a running `ollama serve`.
type Server struct {
	URL  string // http://127.0.0.1:PORT
	bin  string
	env  []string
	dir  string
	cmd  *exec.Cmd
	mu   sync.Mutex
	log  bytes.Buffer
	done chan struct{}
}

// Start runs `ollama serve` and waits until it answers.
func Start(t testing.TB, bin string, o Options) *Server {
	t.Helper()
	if o.Parallel <= 0 {
		o.Parallel = 1
	}
	dir := t.TempDir()
	port, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	fa := "0"
	if o.FlashAttention {
		fa = "1"
	}
	s := &Server{URL: "http://127.0.0.1:" + strconv.Itoa(port), bin: bin, dir: dir, done: make(chan struct{})}
	s.env = []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + dir,
		"OLLAMA_HOST=127.0.0.1:" + strconv.Itoa(port),
		"OLLAMA_MODELS=" + filepath.Join(dir, "models"),
		"OLLAMA_NUM_PARALLEL=" + strconv.Itoa(o.Parallel),
		"OLLAMA_FLASH_ATTENTION=" + fa,
		"OLLAMA_MAX_LOADED_MODELS=1",
		"OLLAMA_KEEP_ALIVE=5m",
		"OLLAMA_NOPRUNE=1",
	}
	cmd := exec.Command(bin, "serve")
	cmd.Env = s.env
	cmd.Dir = dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s serve: %v", bin, err)
	}
	s.cmd = cmd
	go func() {
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			s.mu.Lock()
			s.log.Write(sc.Bytes())
			s.log.WriteByte('\n')
			s.mu.Unlock()
		}
		close(s.done)
	}()
	go func() { cmd.Wait(); pw.Close() }()
	t.Cleanup(s.Stop)
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(s.URL + "/api/version")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return s
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("ollama serve did not answer on %s within 30 s; log:\n%s", s.URL, s.Log())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Stop kills the server and its runners (the whole process group).
func (s *Server) Stop() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
	select {
	case <-s.done:
	case <-time.After(5 * time.Second):
	}
	s.cmd = nil
}

// Log returns everything the server and its runners printed so far.
func (s *Server) Log() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.log.String()
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// Create registers a GGUF file as model name with num_ctx per slot and a
// template that passes the prompt through (`ollama create NAME -f
// Modelfile`).
func (s *Server) Create(t testing.TB, name, gguf string, numCtx int) {
	t.Helper()
	mf := filepath.Join(s.dir, name+".Modelfile")
	body := fmt.Sprintf("FROM %s\nTEMPLATE \"{{ .Prompt }}\"\nPARAMETER num_ctx %d\n", gguf, numCtx)
	if err := os.WriteFile(mf, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, s.bin, "create", name, "-f", mf)
	cmd.Env = s.env
	cmd.Dir = s.dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("ollama create %s: %v\n%s\nserver log:\n%s", name, err, out, s.Log())
	}
}

// GenerateResult is /api/generate's final non-streamed reply.
type GenerateResult struct {
	Response           string `json:"response"`
	PromptEvalCount    int    `json:"prompt_eval_count"`
	PromptEvalDuration int64  `json:"prompt_eval_duration"` // ns
	EvalCount          int    `json:"eval_count"`
	EvalDuration       int64  `json:"eval_duration"` // ns
	LoadDuration       int64  `json:"load_duration"`
}

// Generate calls /api/generate without streaming. options are Ollama
// model options (num_predict, num_thread, temperature, ...).
func (s *Server) Generate(t testing.TB, name, prompt string, options map[string]any) GenerateResult {
	t.Helper()
	req := map[string]any{"model": name, "prompt": prompt, "stream": false, "raw": true, "options": options}
	b, _ := json.Marshal(req)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	hr, _ := http.NewRequestWithContext(ctx, "POST", s.URL+"/api/generate", bytes.NewReader(b))
	hr.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(hr)
	if err != nil {
		t.Fatalf("generate %s: %v\nserver log:\n%s", name, err, s.Log())
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("generate %s: %s: %s\nserver log:\n%s", name, resp.Status, raw, s.Log())
	}
	var out GenerateResult
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("generate %s: %v: %s", name, err, raw)
	}
	return out
}

// Unload asks the server to unload a model now (keep_alive 0).
func (s *Server) Unload(name string) {
	b, _ := json.Marshal(map[string]any{"model": name, "keep_alive": 0})
	if resp, err := http.Post(s.URL+"/api/generate", "application/json", bytes.NewReader(b)); err == nil {
		resp.Body.Close()
	}
}

// Buffers are llama.cpp's start-up memory lines, in MiB as printed
// (two decimals), and the KV cell count.
type Buffers struct {
	ModelMiB   float64 `json:"model_mib"`
	KVMiB      float64 `json:"kv_mib"`
	ComputeMiB float64 `json:"compute_mib"`
	OutputMiB  float64 `json:"output_mib"`
	KVSize     int64   `json:"kv_size"`
	// Lines are the log lines the figures came from.
	Lines []string `json:"lines"`
}

var (
	reModel   = regexp.MustCompile(`load_tensors:\s+CPU model buffer size =\s+([0-9.]+) MiB`)
	reKV      = regexp.MustCompile(`llama_kv_cache_unified:\s+CPU KV buffer size =\s+([0-9.]+) MiB`)
	reCompute = regexp.MustCompile(`llama_context:\s+CPU compute buffer size =\s+([0-9.]+) MiB`)
	reOutput  = regexp.MustCompile(`llama_context:\s+CPU\s+output buffer size =\s+([0-9.]+) MiB`)
	reKVSize  = regexp.MustCompile(`llama_kv_cache_unified: kv_size = ([0-9]+),`)
)

// ParseBuffers reads the last load's buffer lines from a server log. It
// reports false when any of the four is missing.
func ParseBuffers(log string) (Buffers, bool) {
	var b Buffers
	found := 0
	for _, line := range strings.Split(log, "\n") {
		for _, p := range []struct {
			re  *regexp.Regexp
			dst *float64
		}{{reModel, &b.ModelMiB}, {reKV, &b.KVMiB}, {reCompute, &b.ComputeMiB}, {reOutput, &b.OutputMiB}} {
			if m := p.re.FindStringSubmatch(line); m != nil {
				v, _ := strconv.ParseFloat(m[1], 64)
				if p.dst == &b.ModelMiB {
					// A new load starts: forget the previous one's lines.
					b, found = Buffers{}, 0
				}
				*p.dst = v
				found++
				b.Lines = append(b.Lines, strings.TrimSpace(line[strings.Index(line, p.re.FindString(line)):]))
			}
		}
		if m := reKVSize.FindStringSubmatch(line); m != nil {
			b.KVSize, _ = strconv.ParseInt(m[1], 10, 64)
		}
	}
	return b, found == 4
}

// RunnerOptions start Ollama's llama.cpp runner directly, the way `ollama
// serve` starts it (llm/server.go: --ctx-size is num_ctx × parallel,
// --batch-size 512, --no-mmap for CPU loads).
type RunnerOptions struct {
	CtxSize, Parallel, Threads int
	FlashAttention             bool
	// KVCacheType is --kv-cache-type ("q8_0", "q4_0"; empty for f16);
	// llama.cpp accepts it only with flash attention.
	KVCacheType string
}

// RunnerBuffers starts `ollama runner` on a GGUF file, waits until
// llama.cpp has logged its buffers, and kills it. Ollama v0.9.0's serve
// never passes --flash-attn on a CPU-only machine (llm/server.go checks
// the GPU list), so flash-attention and quantized-cache layouts can only
// be observed this way.
func RunnerBuffers(t testing.TB, bin, gguf string, o RunnerOptions) Buffers {
	t.Helper()
	port, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	if o.Parallel <= 0 {
		o.Parallel = 1
	}
	if o.Threads <= 0 {
		o.Threads = 2
	}
	args := []string{"runner", "--model", gguf, "--ctx-size", strconv.Itoa(o.CtxSize), "--batch-size", "512",
		"--threads", strconv.Itoa(o.Threads), "--no-mmap", "--parallel", strconv.Itoa(o.Parallel), "--port", strconv.Itoa(port)}
	if o.FlashAttention {
		args = append(args, "--flash-attn")
	}
	if o.KVCacheType != "" {
		args = append(args, "--kv-cache-type", o.KVCacheType)
	}
	dir := t.TempDir()
	cmd := exec.Command(bin, args...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir}
	cmd.Dir = dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	var mu sync.Mutex
	var log bytes.Buffer
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	if err := cmd.Start(); err != nil {
		t.Fatalf("start ollama runner: %v", err)
	}
	done := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			mu.Lock()
			log.Write(sc.Bytes())
			log.WriteByte('\n')
			mu.Unlock()
		}
		close(done)
	}()
	exited := make(chan struct{})
	go func() { cmd.Wait(); pw.Close(); close(exited) }()
	defer func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-exited
		<-done
	}()
	deadline := time.After(3 * time.Minute)
	for {
		mu.Lock()
		s := log.String()
		mu.Unlock()
		if b, ok := ParseBuffers(s); ok {
			return b
		}
		select {
		case <-exited:
			<-done
			t.Fatalf("ollama runner %v exited before logging its buffers:\n%s", args, log.String())
		case <-deadline:
			t.Fatalf("ollama runner %v logged no buffers within 3 minutes:\n%s", args, s)
		case <-time.After(100 * time.Millisecond):
		}
	}
}
