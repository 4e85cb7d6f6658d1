// Package headless drives a headless Chromium through the Chrome DevTools
// Protocol over --remote-debugging-pipe, with only the standard library. It
// covers what gpuplan's end-to-end test of the web page needs: open a page,
// evaluate JavaScript, type and press keys, and take a screenshot.
//
// The protocol: the browser reads JSON commands, each terminated by a NUL
// byte, from file descriptor 3 and writes responses and events the same way
// to file descriptor 4 (https://chromedevtools.github.io/devtools-protocol/).
// Commands for a page carry the sessionId from Target.attachToTarget with
// flatten set.
package headless

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sync"
	"time"
)

// Flags are the Chromium flags used on every launch: headless, no GPU, and
// no background traffic (first-run, component updates, sync, QUIC), so
// that a machine without network access sees no connection attempts.
// --no-sandbox is added when running as root, where Chromium refuses to
// start sandboxed.
var Flags = []string{
	"--headless",
	"--disable-gpu",
	"--disable-quic",
	"--no-first-run",
	"--no-default-browser-check",
	"--disable-background-networking",
	"--disable-component-update",
	"--disable-sync",
	"--disable-extensions",
	"--disable-dev-shm-usage",
	"--hide-scrollbars",
	"--mute-audio",
	"--remote-debugging-pipe",
}

// Find returns the path of a Chromium or Chrome binary: $CHROMIUM if set,
// else the first of chromium, chromium-browser, google-chrome on PATH.
func Find() (string, error) {
	if p := os.Getenv("CHROMIUM"); p != "" {
		return exec.LookPath(p)
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", errors.New("no chromium binary on PATH (Debian: apt-get install chromium; or set CHROMIUM)")
}

// Browser is a running Chromium.
type Browser struct {
	cmd     *exec.Cmd
	out     *os.File // our end of the browser's fd 3
	in      *os.File // our end of the browser's fd 4
	dataDir string

	writeMu sync.Mutex
	mu      sync.Mutex
	nextID  int64
	waiting map[int64]chan response
	events  []Event
	readErr error
	done    chan struct{}
	stderr  *limitedBuffer
}

// Event is a protocol event the browser sent.
type Event struct {
	Method    string          `json:"method"`
	Params    json.RawMessage `json:"params"`
	SessionID string          `json:"sessionId"`
}

type response struct {
	Result json.RawMessage
	Err    error
}

type message struct {
	ID        int64           `json:"id,omitempty"`
	Method    string          `json:"method,omitempty"`
	Params    json.RawMessage `json:"params,omitempty"`
	SessionID string          `json:"sessionId,omitempty"`
	Result    json.RawMessage `json:"result,omitempty"`
	Error     *struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	} `json:"error,omitempty"`
}

// Launch starts the browser at path with Flags, extra flags and a fresh
// profile directory (removed by Close).
func Launch(ctx context.Context, path string, extra ...string) (*Browser, error) {
	dir, err := os.MkdirTemp("", "gpuplan-chromium-")
	if err != nil {
		return nil, fmt.Errorf("create a profile directory: %w", err)
	}
	args := append(append([]string{}, Flags...), "--user-data-dir="+dir)
	if os.Geteuid() == 0 {
		args = append(args, "--no-sandbox")
	}
	args = append(args, extra...)
	args = append(args, "about:blank")

	// Browser reads commands from fd 3 (cmdR) and writes to fd 4 (evW).
	cmdR, cmdW, err := os.Pipe()
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	evR, evW, err := os.Pipe()
	if err != nil {
		cmdR.Close()
		cmdW.Close()
		os.RemoveAll(dir)
		return nil, err
	}
	cmd := exec.Command(path, args...)
	cmd.ExtraFiles = []*os.File{cmdR, evW}
	stderr := &limitedBuffer{max: 64 << 10}
	cmd.Stderr = stderr
	cmd.Stdout = stderr
	if err := cmd.Start(); err != nil {
		cmdR.Close()
		cmdW.Close()
		evR.Close()
		evW.Close()
		os.RemoveAll(dir)
		return nil, fmt.Errorf("start %s: %w", path, err)
	}
	cmdR.Close()
	evW.Close()
	b := &Browser{cmd: cmd, out: cmdW, in: evR, dataDir: dir, waiting: map[int64]chan response{}, done: make(chan struct{}), stderr: stderr}
	go b.readLoop()
	// The first answer proves the pipe works.
	vctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if _, err := b.call(vctx, "", "Browser.getVersion", nil); err != nil {
		b.Close()
		return nil, fmt.Errorf("talk to %s over the DevTools pipe: %w (stderr: %s)", path, err, stderr.String())
	}
	return b, nil
}

func (b *Browser) readLoop() {
	defer close(b.done)
	r := bufio.NewReaderSize(b.in, 1<<20)
	for {
		raw, err := r.ReadBytes(0)
		if err != nil {
			b.mu.Lock()
			b.readErr = fmt.Errorf("browser pipe closed: %w", err)
			for id, ch := range b.waiting {
				ch <- response{Err: b.readErr}
				delete(b.waiting, id)
			}
			b.mu.Unlock()
			return
		}
		raw = raw[:len(raw)-1]
		var m message
		if err := json.Unmarshal(raw, &m); err != nil {
			continue
		}
		b.mu.Lock()
		if m.ID != 0 {
			if ch, ok := b.waiting[m.ID]; ok {
				delete(b.waiting, m.ID)
				var rerr error
				if m.Error != nil {
					rerr = fmt.Errorf("%s (code %d)", m.Error.Message, m.Error.Code)
				}
				ch <- response{Result: m.Result, Err: rerr}
			}
		} else if m.Method != "" && len(b.events) < 10000 {
			b.events = append(b.events, Event{Method: m.Method, Params: m.Params, SessionID: m.SessionID})
		}
		b.mu.Unlock()
	}
}

// call sends one command and waits for its answer.
func (b *Browser) call(ctx context.Context, session, method string, params any) (json.RawMessage, error) {
	var p json.RawMessage
	if params != nil {
		var err error
		if p, err = json.Marshal(params); err != nil {
			return nil, err
		}
	}
	ch := make(chan response, 1)
	b.mu.Lock()
	if b.readErr != nil {
		b.mu.Unlock()
		return nil, b.readErr
	}
	b.nextID++
	id := b.nextID
	b.waiting[id] = ch
	b.mu.Unlock()
	msg, err := json.Marshal(message{ID: id, Method: method, Params: p, SessionID: session})
	if err != nil {
		return nil, err
	}
	b.writeMu.Lock()
	_, err = b.out.Write(append(msg, 0))
	b.writeMu.Unlock()
	if err != nil {
		return nil, fmt.Errorf("send %s: %w", method, err)
	}
	select {
	case r := <-ch:
		if r.Err != nil {
			return nil, fmt.Errorf("%s: %w", method, r.Err)
		}
		return r.Result, nil
	case <-ctx.Done():
		b.mu.Lock()
		delete(b.waiting, id)
		b.mu.Unlock()
		return nil, fmt.Errorf("%s: %w", method, ctx.Err())
	}
}

// Events returns the events received so far for session ("" for all) with
// the given method ("" for all).
func (b *Browser) Events(session, method string) []Event {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []Event
	for _, e := range b.events {
		if (session == "" || e.SessionID == session) && (method == "" || e.Method == method) {
			out = append(out, e)
		}
	}
	return out
}

// Close ends the browser and removes its profile directory.
func (b *Browser) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	_, _ = b.call(ctx, "", "Browser.close", nil)
	cancel()
	exited := make(chan error, 1)
	go func() { exited <- b.cmd.Wait() }()
	select {
	case <-exited:
	case <-time.After(5 * time.Second):
		_ = b.cmd.Process.Kill()
		<-exited
	}
	b.out.Close()
	b.in.Close()
	return os.RemoveAll(b.dataDir)
}

// Page is one browser tab.
type Page struct {
	b       *Browser
	session string
}

// NewPage opens a blank tab with a viewport of width × height CSS pixels.
func (b *Browser) NewPage(ctx context.Context, width, height int) (*Page, error) {
	res, err := b.call(ctx, "", "Target.createTarget", map[string]any{"url": "about:blank"})
	if err != nil {
		return nil, err
	}
	var t struct {
		TargetID string `json:"targetId"`
	}
	if err := json.Unmarshal(res, &t); err != nil {
		return nil, err
	}
	res, err = b.call(ctx, "", "Target.attachToTarget", map[string]any{"targetId": t.TargetID, "flatten": true})
	if err != nil {
		return nil, err
	}
	var s struct {
		SessionID string `json:"sessionId"`
	}
	if err := json.Unmarshal(res, &s); err != nil {
		return nil, err
	}
	p := &Page{b: b, session: s.SessionID}
	for _, m := range []string{"Page.enable", "Runtime.enable"} {
		if _, err := p.Call(ctx, m, nil); err != nil {
			return nil, err
		}
	}
	if _, err := p.Call(ctx, "Emulation.setDeviceMetricsOverride", map[string]any{
		"width": width, "height": height, "deviceScaleFactor": 1, "mobile": false,
	}); err != nil {
		return nil, err
	}
	return p, nil
}

// Call sends a protocol command to this page.
func (p *Page) Call(ctx context.Context, method string, params any) (json.RawMessage, error) {
	return p.b.call(ctx, p.session, method, params)
}

// Navigate loads url.
func (p *Page) Navigate(ctx context.Context, url string) error {
	res, err := p.Call(ctx, "Page.navigate", map[string]any{"url": url})
	if err != nil {
		return err
	}
	var r struct {
		ErrorText string `json:"errorText"`
	}
	_ = json.Unmarshal(res, &r)
	if r.ErrorText != "" {
		return fmt.Errorf("navigate to %s: %s", url, r.ErrorText)
	}
	return nil
}

// Eval evaluates a JavaScript expression (awaiting a promise) and decodes
// its JSON value into out (which may be nil).
func (p *Page) Eval(ctx context.Context, expr string, out any) error {
	res, err := p.Call(ctx, "Runtime.evaluate", map[string]any{"expression": expr, "returnByValue": true, "awaitPromise": true})
	if err != nil {
		return err
	}
	var r struct {
		Result struct {
			Type  string          `json:"type"`
			Value json.RawMessage `json:"value"`
		} `json:"result"`
		ExceptionDetails *struct {
			Text      string `json:"text"`
			Exception struct {
				Description string `json:"description"`
			} `json:"exception"`
		} `json:"exceptionDetails"`
	}
	if err := json.Unmarshal(res, &r); err != nil {
		return err
	}
	if r.ExceptionDetails != nil {
		return fmt.Errorf("javascript %q: %s %s", truncate(expr, 80), r.ExceptionDetails.Text, r.ExceptionDetails.Exception.Description)
	}
	if out == nil || len(r.Result.Value) == 0 {
		return nil
	}
	return json.Unmarshal(r.Result.Value, out)
}

// WaitFor polls a JavaScript expression until it is true.
func (p *Page) WaitFor(ctx context.Context, expr string) error {
	for {
		var ok bool
		err := p.Eval(ctx, "Boolean("+expr+")", &ok)
		if err == nil && ok {
			return nil
		}
		select {
		case <-ctx.Done():
			if err != nil {
				return fmt.Errorf("wait for %s: %w (last error: %v)", expr, ctx.Err(), err)
			}
			return fmt.Errorf("wait for %s: %w", expr, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// InsertText types text into the focused element, as an input method
// would (one input event).
func (p *Page) InsertText(ctx context.Context, text string) error {
	_, err := p.Call(ctx, "Input.insertText", map[string]any{"text": text})
	return err
}

// keys maps the key names PressKey knows to their DOM code and Windows
// virtual key code.
var keys = map[string]struct {
	code string
	vk   int
	text string
}{
	"Tab":        {"Tab", 9, ""},
	"Enter":      {"Enter", 13, "\r"},
	"Backspace":  {"Backspace", 8, ""},
	"ArrowDown":  {"ArrowDown", 40, ""},
	"ArrowUp":    {"ArrowUp", 38, ""},
	"ArrowRight": {"ArrowRight", 39, ""},
	"ArrowLeft":  {"ArrowLeft", 37, ""},
	"Space":      {"Space", 32, " "},
	"a":          {"KeyA", 65, "a"},
}

// Modifier bits of Input.dispatchKeyEvent.
const (
	ModAlt   = 1
	ModCtrl  = 2
	ModMeta  = 4
	ModShift = 8
)

// PressKey presses and releases a key (Tab, Enter, Backspace, arrows,
// Space, a) with the given modifiers.
func (p *Page) PressKey(ctx context.Context, key string, modifiers int) error {
	k, ok := keys[key]
	if !ok {
		return fmt.Errorf("PressKey: unknown key %q", key)
	}
	domKey := key
	if key == "Space" {
		domKey = " "
	}
	down := map[string]any{"type": "keyDown", "key": domKey, "code": k.code, "windowsVirtualKeyCode": k.vk, "modifiers": modifiers}
	if k.text != "" && modifiers&(ModCtrl|ModAlt|ModMeta) == 0 {
		down["text"] = k.text
	}
	if key == "a" && modifiers&ModCtrl != 0 {
		down["commands"] = []string{"selectAll"}
	}
	if _, err := p.Call(ctx, "Input.dispatchKeyEvent", down); err != nil {
		return err
	}
	_, err := p.Call(ctx, "Input.dispatchKeyEvent", map[string]any{"type": "keyUp", "key": domKey, "code": k.code, "windowsVirtualKeyCode": k.vk, "modifiers": modifiers})
	return err
}

// Screenshot captures the whole page as PNG.
func (p *Page) Screenshot(ctx context.Context) ([]byte, error) {
	res, err := p.Call(ctx, "Page.captureScreenshot", map[string]any{"format": "png", "captureBeyondViewport": true})
	if err != nil {
		return nil, err
	}
	var r struct {
		Data string `json:"data"`
	}
	if err := json.Unmarshal(res, &r); err != nil {
		return nil, err
	}
	return base64.StdEncoding.DecodeString(r.Data)
}

// Exceptions returns the uncaught JavaScript exceptions and console errors
// this page reported.
func (p *Page) Exceptions() []string {
	var out []string
	for _, e := range p.b.Events(p.session, "Runtime.exceptionThrown") {
		var x struct {
			ExceptionDetails struct {
				Text      string `json:"text"`
				Exception struct {
					Description string `json:"description"`
				} `json:"exception"`
			} `json:"exceptionDetails"`
		}
		_ = json.Unmarshal(e.Params, &x)
		out = append(out, x.ExceptionDetails.Text+" "+x.ExceptionDetails.Exception.Description)
	}
	for _, e := range p.b.Events(p.session, "Runtime.consoleAPICalled") {
		var x struct {
			Type string `json:"type"`
			Args []struct {
				Value any `json:"value"`
			} `json:"args"`
		}
		_ = json.Unmarshal(e.Params, &x)
		if x.Type == "error" || x.Type == "assert" {
			out = append(out, fmt.Sprintf("console.%s %v", x.Type, x.Args))
		}
	}
	return out
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// limitedBuffer keeps the first max bytes written to it.
type limitedBuffer struct {
	mu  sync.Mutex
	buf []byte
	max int
}

func (l *limitedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if room := l.max - len(l.buf); room > 0 {
		if len(p) < room {
			room = len(p)
		}
		l.buf = append(l.buf, p[:room]...)
	}
	return len(p), nil
}

func (l *limitedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return string(l.buf)
}

var _ io.Writer = (*limitedBuffer)(nil)
