package console_test

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// The console's tests drive a real headless Chromium (Debian's chromium
// package; `go tool task test` installs it) through chromedp. Without a
// Chromium binary they are skipped, saying so.

var (
	shotsDir   = flag.String("screenshots", "", "write the browser tests' screenshots to this directory (default: a directory under the system's temp dir, logged)")
	updateDocs = flag.Bool("update-docs", false, "also write the screenshots docs/console.md shows into docs/console/")
)

// chromiumPath finds the browser: $HEARTH_CHROMIUM, or one of the names
// Debian, Ubuntu and Chrome install it under.
func chromiumPath() (string, error) {
	if p := os.Getenv("HEARTH_CHROMIUM"); p != "" {
		return p, nil
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "headless-shell"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", errors.New("no chromium binary on PATH (chromium, chromium-browser, google-chrome, headless-shell) and HEARTH_CHROMIUM unset; `go tool task test` installs Debian's chromium")
}

// browser is one headless Chromium for a test; each tab (Tab) is a
// context of its own, with its own sessionStorage.
type browser struct {
	t     *testing.T
	alloc context.Context
}

func startBrowser(t *testing.T) *browser {
	t.Helper()
	path, err := chromiumPath()
	if err != nil {
		t.Skipf("console browser tests skipped: %v", err)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.NoSandbox, // root in CI and containers
		chromedp.DisableGPU,
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("lang", "en-GB"),
		chromedp.WindowSize(1280, 900),
	)
	alloc, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancel)
	return &browser{t: t, alloc: alloc}
}

// tab is one page of the browser, with the errors its pages logged.
type tab struct {
	t   *testing.T
	ctx context.Context

	mu     sync.Mutex
	errors []string
	// expected says which logged errors the test expects (the 401 of a
	// key prompt); nil: none.
	expected func(string) bool
}

func (b *browser) tab(width, height int64) *tab {
	b.t.Helper()
	ctx, cancel := chromedp.NewContext(b.alloc)
	b.t.Cleanup(cancel)
	tb := &tab{t: b.t, ctx: ctx}
	// The first call starts the browser (or the tab) for the context's
	// lifetime: without a deadline of its own.
	if err := chromedp.Do(ctx); err != nil {
		b.t.Fatalf("start chromium: %v", err)
	}
	tb.do(chromedp.EmulateViewport(width, height))
	messages := chromedp.Console(ctx) // subscribed from here on
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			if m.Type != chromedp.ConsoleError && m.Type != chromedp.ConsoleException && m.Type != "assert" {
				continue
			}
			tb.mu.Lock()
			tb.errors = append(tb.errors, fmt.Sprintf("%s: %s (%s:%d)", m.Type, m.Text, m.URL, m.Line+1))
			tb.mu.Unlock()
		}
	}()
	return tb
}

// do runs actions with a deadline, failing the test on an error.
func (tb *tab) do(actions ...chromedp.Action[chromedp.Void]) {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		tb.t.Fatalf("browser: %v (page errors: %v; page: %s)", err, tb.pageErrors(), tb.mainText())
	}
}

// open loads the console at url and waits for its shell.
func (tb *tab) open(url string) {
	tb.t.Helper()
	tb.do(chromedp.Navigate(url), chromedp.WaitVisible(chromedp.ID("main")))
}

// until polls a JavaScript condition in the page until it is true, for
// up to timeout.
func (tb *tab) until(what, expr string, timeout time.Duration) {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, timeout+5*time.Second)
	defer cancel()
	ok, err := chromedp.Run(ctx, chromedp.Poll[bool](expr, chromedp.WithPollingTimeout(timeout), chromedp.WithPollingInterval(50*time.Millisecond)))
	if err != nil || !ok {
		tb.t.Fatalf("%s: not so after %s (%v); page errors %v; the page says:\n%s", what, timeout, err, tb.pageErrors(), tb.mainText())
	}
}

func (tb *tab) mainText() string {
	ctx, cancel := context.WithTimeout(tb.ctx, 5*time.Second)
	defer cancel()
	s, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector('main') ? document.querySelector('main').innerText.slice(0, 2000) : ''`))
	return s
}

// eval evaluates an expression.
func eval[T any](tb *tab, expr string) T {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, 30*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr, chromedp.EvalAsValue))
	if err != nil {
		tb.t.Fatalf("evaluate %.80s: %v", expr, err)
	}
	return v
}

func (tb *tab) pageErrors() []string {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	var out []string
	for _, e := range tb.errors {
		if tb.expected == nil || !tb.expected(e) {
			out = append(out, e)
		}
	}
	return out
}

// noErrors fails the test if a page logged an error it did not expect.
func (tb *tab) noErrors(where string) {
	tb.t.Helper()
	if errs := tb.pageErrors(); len(errs) > 0 {
		tb.t.Errorf("%s: the page logged errors:\n%s", where, strings.Join(errs, "\n"))
	}
	tb.mu.Lock()
	tb.errors = nil
	tb.mu.Unlock()
}

// fitsWidth fails the test when the page is wider than the viewport (a
// horizontal scroll bar), naming the elements that stick out.
func (tb *tab) fitsWidth(where string) {
	tb.t.Helper()
	out := eval[struct {
		Scroll, Inner int
		Wide          []string
	}](tb, `(() => {
		const inner = document.documentElement.clientWidth;
		const wide = [];
		for (const el of document.querySelectorAll('body *')) {
			const r = el.getBoundingClientRect();
			if (r.width === 0 || r.right <= inner + 1) continue;
			let clipped = false;
			for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
				const o = getComputedStyle(p).overflowX;
				if (o === 'auto' || o === 'hidden' || o === 'scroll' || o === 'clip') { clipped = true; break; }
			}
			if (!clipped) wide.push(el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + ' right=' + Math.round(r.right));
		}
		return {scroll: document.documentElement.scrollWidth, inner, wide: wide.slice(0, 10)};
	})()`)
	if out.Scroll > out.Inner || len(out.Wide) > 0 {
		tb.t.Errorf("%s: the page is %d px wide in a %d px viewport; sticking out: %v", where, out.Scroll, out.Inner, out.Wide)
	}
}

// screenshot saves the full page as name.png in the screenshots
// directory.
func (tb *tab) screenshot(name string) { tb.capture(name, chromedp.FullScreenshot(100), false) } // 100: PNG

// screen saves what the viewport shows, as screenshot does.
func (tb *tab) screen(name string) { tb.capture(name, chromedp.CaptureScreenshot(), false) }

// docShot is screenshot, also written to docs/console/ with -update-docs;
// docScreen is screen, the same way.
func (tb *tab) docShot(name string)   { tb.capture(name, chromedp.FullScreenshot(100), true) }
func (tb *tab) docScreen(name string) { tb.capture(name, chromedp.CaptureScreenshot(), true) }

func (tb *tab) capture(name string, shot chromedp.Action[[]byte], doc bool) {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, 30*time.Second)
	defer cancel()
	// From the top, where the sticky header is.
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[chromedp.Void](`window.scrollTo(0, 0); document.activeElement && document.activeElement.blur()`)); err != nil {
		tb.t.Fatal(err)
	}
	png, err := chromedp.Run(ctx, shot)
	if err != nil {
		tb.t.Fatalf("screenshot %s: %v", name, err)
	}
	dir := *shotsDir
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "hearth-console-screenshots")
	}
	dirs := []string{dir}
	if doc && *updateDocs {
		dirs = append(dirs, filepath.Join("..", "..", "docs", "console"))
	}
	for _, d := range dirs {
		if err := os.MkdirAll(d, 0o755); err != nil {
			tb.t.Fatal(err)
		}
		p := filepath.Join(d, name+".png")
		if err := os.WriteFile(p, png, 0o644); err != nil {
			tb.t.Fatal(err)
		}
		tb.t.Logf("screenshot %s", p)
	}
}

// js quotes s as a JavaScript string.
func js(s string) string {
	return fmt.Sprintf("%q", s)
}
