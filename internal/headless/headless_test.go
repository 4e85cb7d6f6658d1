package headless

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"
)

// TestPage drives a small page through every call the end-to-end tests
// use: typing, select-all and delete, evaluation into Go values, waiting,
// the exception and console-error log, and a PNG screenshot.
func TestPage(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test skipped with -short")
	}
	chrome, err := Find()
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI=true and %v; .ci/run installs Debian's chromium", err)
		}
		t.Skip(err)
	}
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.Write([]byte(`<!doctype html><html><body><input id="q" autofocus>
<script>
document.getElementById("q").focus();
setTimeout(() => { document.body.dataset.state = "ready"; }, 200);
console.error("boom", 7);
setTimeout(() => { throw new Error("late failure"); }, 0);
</script></body></html>`))
	}))
	defer ts.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	b, err := Launch(ctx, chrome)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	p, err := b.NewPage(ctx, 390, 844)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Navigate(ctx, ts.URL); err != nil {
		t.Fatal(err)
	}
	if err := p.WaitFor(ctx, `document.body.dataset.state === "ready"`); err != nil {
		t.Fatal(err)
	}
	var width int
	if err := p.Eval(ctx, `window.innerWidth`, &width); err != nil || width != 390 {
		t.Errorf("viewport width %d (%v), want 390", width, err)
	}
	if err := p.InsertText(ctx, "llama"); err != nil {
		t.Fatal(err)
	}
	if err := p.PressKey(ctx, "a", ModCtrl); err != nil {
		t.Fatal(err)
	}
	if err := p.InsertText(ctx, "qwen"); err != nil {
		t.Fatal(err)
	}
	if err := p.PressKey(ctx, "Backspace", 0); err != nil {
		t.Fatal(err)
	}
	var value string
	if err := p.Eval(ctx, `document.getElementById("q").value`, &value); err != nil || value != "qwe" {
		t.Errorf("input holds %q (%v), want %q: select-all replaced the text, Backspace removed one letter", value, err, "qwe")
	}
	var sum int
	if err := p.Eval(ctx, `Promise.resolve(40 + 2)`, &sum); err != nil || sum != 42 {
		t.Errorf("awaited promise gave %d (%v), want 42", sum, err)
	}
	if err := p.Eval(ctx, `undefinedName + 1`, nil); err == nil || !strings.Contains(err.Error(), "undefinedName") {
		t.Errorf("a failing expression gave %v, want a ReferenceError naming undefinedName", err)
	}
	ex := strings.Join(p.Exceptions(), "\n")
	for _, want := range []string{"console.error", "boom", "late failure"} {
		if !strings.Contains(ex, want) {
			t.Errorf("exceptions %q lack %q", ex, want)
		}
	}
	png, err := p.Screenshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(png), "\x89PNG\r\n\x1a\n") {
		t.Errorf("screenshot is not a PNG (%d bytes)", len(png))
	}
}
