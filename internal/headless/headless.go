// Package headless is the small test-side face of github.com/chromedp/chromedp
// that gpuplan's end-to-end tests of the web page use: find Debian's
// Chromium, open a tab with a given viewport, evaluate JavaScript into Go
// values, wait for a condition, type and press keys, take a screenshot, and
// collect the page's uncaught exceptions and console errors. chromedp talks
// to the browser over a pipe (--remote-debugging-pipe), so no port is
// opened.
package headless

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"

	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

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
	ctx    context.Context // the chromedp browser context
	cancel func()
}

// quietFlags keep a machine without network access free of connection
// attempts and the pages identical between runs; chromedp's defaults
// already turn off background networking, sync, extensions and first-run.
var quietFlags = []chromedp.ExecAllocatorOption{
	chromedp.DisableGPU,
	chromedp.Flag("disable-quic", true),
	chromedp.Flag("disable-component-update", true),
	chromedp.Flag("hide-scrollbars", true),
	chromedp.Flag("mute-audio", true),
}

// Launch starts Chromium at path, headless, with chromedp's default flags
// plus quietFlags and extra flags ("--name" or "--name=value"). As root
// (CI containers), Chromium only starts without its sandbox.
func Launch(ctx context.Context, path string, extra ...string) (*Browser, error) {
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(path))
	opts = append(opts, quietFlags...)
	if os.Geteuid() == 0 {
		opts = append(opts, chromedp.NoSandbox)
	}
	for _, f := range extra {
		name, value, ok := strings.Cut(strings.TrimPrefix(f, "--"), "=")
		if ok {
			opts = append(opts, chromedp.Flag(name, value))
		} else {
			opts = append(opts, chromedp.Flag(name, true))
		}
	}
	actx, acancel := chromedp.NewExecAllocator(ctx, opts...)
	bctx, bcancel := chromedp.NewContext(actx)
	// The first action starts the browser and binds it to bctx, which has
	// no deadline of its own (ctx's still ends it).
	if err := chromedp.Do(bctx); err != nil {
		bcancel()
		acancel()
		return nil, fmt.Errorf("start %s: %w", path, err)
	}
	return &Browser{ctx: bctx, cancel: func() { bcancel(); acancel() }}, nil
}

// Close stops the browser and removes its profile directory.
func (b *Browser) Close() error {
	b.cancel()
	return nil
}

// Page is one browser tab.
type Page struct {
	ctx    context.Context // the chromedp tab context
	cancel func()

	mu     sync.Mutex
	errors []string // uncaught exceptions and console.error/assert calls
}

// NewPage opens a blank tab with a viewport of width × height CSS pixels.
func (b *Browser) NewPage(ctx context.Context, width, height int) (*Page, error) {
	tctx, cancel := chromedp.NewContext(b.ctx)
	p := &Page{ctx: tctx, cancel: cancel}
	// The first action on a chromedp context opens the tab and ties the
	// tab's life to the context it runs with, so it runs with tctx itself;
	// later calls use contexts derived from it.
	if err := chromedp.Do(tctx); err != nil {
		cancel()
		return nil, fmt.Errorf("open a tab: %w", err)
	}
	if err := p.do(ctx, chromedp.EmulateViewport(int64(width), int64(height))); err != nil {
		cancel()
		return nil, err
	}
	// The listener runs on the tab's reader goroutine: it only records.
	if err := chromedp.Listen(tctx, func(ev any) {
		var msg string
		switch ev := ev.(type) {
		case *runtime.EventExceptionThrown:
			if d := ev.ExceptionDetails; d != nil {
				msg = d.Text
				if d.Exception != nil {
					msg += " " + d.Exception.Description
				}
			}
		case *runtime.EventConsoleAPICalled:
			if ev.Type != runtime.ConsoleAPICalledTypeError && ev.Type != runtime.ConsoleAPICalledTypeAssert {
				return
			}
			var args []string
			for _, a := range ev.Args {
				if a.Value != nil {
					args = append(args, string(a.Value))
				} else {
					args = append(args, a.Description)
				}
			}
			msg = fmt.Sprintf("console.%s %s", ev.Type, strings.Join(args, " "))
		default:
			return
		}
		p.mu.Lock()
		p.errors = append(p.errors, msg)
		p.mu.Unlock()
	}); err != nil {
		cancel()
		return nil, err
	}
	return p, nil
}

// callCtx returns the tab's context, also ended when ctx ends, so that a
// caller's deadline bounds one call without closing the tab.
func (p *Page) callCtx(ctx context.Context) (context.Context, func()) {
	cctx, cancel := context.WithCancel(p.ctx)
	stop := context.AfterFunc(ctx, cancel)
	return cctx, func() { stop(); cancel() }
}

func (p *Page) do(ctx context.Context, actions ...chromedp.Action[chromedp.Void]) error {
	cctx, done := p.callCtx(ctx)
	defer done()
	err := chromedp.Do(cctx, actions...)
	if err != nil && ctx.Err() != nil {
		return fmt.Errorf("%w (%v)", ctx.Err(), err)
	}
	return err
}

// Navigate loads url and waits for its load event.
func (p *Page) Navigate(ctx context.Context, url string) error {
	if err := p.do(ctx, chromedp.Navigate(url)); err != nil {
		return fmt.Errorf("navigate to %s: %w", url, err)
	}
	return nil
}

// Eval evaluates a JavaScript expression (awaiting a promise) and decodes
// its JSON value into out (which may be nil).
func (p *Page) Eval(ctx context.Context, expr string, out any) error {
	cctx, done := p.callCtx(ctx)
	defer done()
	raw, err := chromedp.Run(cctx, chromedp.Evaluate[[]byte](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		return fmt.Errorf("javascript %q: %w", truncate(expr, 80), err)
	}
	if out == nil || len(raw) == 0 {
		return nil
	}
	return json.Unmarshal(raw, out)
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
	cctx, done := p.callCtx(ctx)
	defer done()
	_, err := chromedp.Call(cctx, input.InsertText, input.InsertTextParams{Text: text})
	return err
}

// keys maps the key names PressKey knows to their DOM code and Windows
// virtual key code.
var keys = map[string]struct {
	code string
	vk   int64
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
// Space, a) with the given modifiers. Ctrl+A also sends the selectAll
// editing command, which headless Chromium does not derive from the key.
func (p *Page) PressKey(ctx context.Context, key string, modifiers int) error {
	k, ok := keys[key]
	if !ok {
		return fmt.Errorf("PressKey: unknown key %q", key)
	}
	domKey := key
	if key == "Space" {
		domKey = " "
	}
	down := input.DispatchKeyEventParams{Type: input.DispatchKeyEventTypeKeyDown, Key: domKey, Code: k.code,
		WindowsVirtualKeyCode: k.vk, Modifiers: int64(modifiers)}
	if k.text != "" && modifiers&(ModCtrl|ModAlt|ModMeta) == 0 {
		down.Text = k.text
	}
	if key == "a" && modifiers&ModCtrl != 0 {
		down.Commands = []string{"selectAll"}
	}
	up := input.DispatchKeyEventParams{Type: input.DispatchKeyEventTypeKeyUp, Key: domKey, Code: k.code,
		WindowsVirtualKeyCode: k.vk, Modifiers: int64(modifiers)}
	cctx, done := p.callCtx(ctx)
	defer done()
	for _, ev := range []input.DispatchKeyEventParams{down, up} {
		if _, err := chromedp.Call(cctx, input.DispatchKeyEvent, ev); err != nil {
			return err
		}
	}
	return nil
}

// Screenshot captures the whole page as PNG.
func (p *Page) Screenshot(ctx context.Context) ([]byte, error) {
	cctx, done := p.callCtx(ctx)
	defer done()
	return chromedp.Run(cctx, chromedp.FullScreenshot(100)) // quality 100: PNG
}

// Exceptions returns the uncaught JavaScript exceptions and console errors
// this page reported.
func (p *Page) Exceptions() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.errors...)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
