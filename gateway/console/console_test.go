package console_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/hearthfn/hearth/gateway"
	"github.com/hearthfn/hearth/internal/stack"
	"github.com/hearthfn/hearth/internal/stack/stacktest"
	"github.com/hearthfn/hearth/internal/testmodules"
	"github.com/hearthfn/hearth/runner"
)

// The example modules the tests deploy, as files: the deploy page uploads
// one from disk.
var (
	helloPath   = filepath.Join("..", "..", "functions", "hello", "hello.wasm")
	reverseCPat = filepath.Join("..", "..", "functions", "reverse-c", "reverse.wasm")
)

func readFile(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func invoke(t *testing.T, base, fn, input string) *http.Response {
	t.Helper()
	resp, body := stacktest.Call(t, http.MethodPost, base+"/v1/functions/"+fn+"/invoke", "", []byte(input))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("invoke %s: %d %s", fn, resp.StatusCode, body)
	}
	return resp
}

// consoleStack is a dev stack with the functions the console tests look
// at: greeter (hello), flip (reverse-c) in two versions with an alias
// splitting calls between them, broken (a trap) with a dead letter, and
// the autoscaler running with a short minute.
type consoleStack struct {
	s      *stack.Stack
	base   string
	deadID string
}

func newConsoleStack(t *testing.T) *consoleStack {
	t.Helper()
	tick := 250 * time.Millisecond
	s := stacktest.DevWith(t, stack.DevConfig{
		Gateway: gateway.Config{MaxAttempts: 1, RetryBase: 10 * time.Millisecond, Autoscale: "predictive", AutoscaleTick: tick},
		Runner:  runner.Config{IdleTTL: 3 * tick}, // instances go between bursts, so there are cold starts and prewarms to show
	})
	base := s.GatewayURL
	stacktest.MustDeploy(t, base, "greeter", readFile(t, helloPath), `{"description":"Greets its input (functions/hello)"}`)
	flip := readFile(t, reverseCPat)
	stacktest.MustDeploy(t, base, "flip", flip, `{"description":"Reverses its input (functions/reverse-c)"}`)
	stacktest.MustDeploy(t, base, "flip", flip, `{"description":"Reverses its input (functions/reverse-c)","memory_mb":32}`)
	if resp, body := stacktest.Call(t, http.MethodPut, base+"/v1/functions/flip/aliases/canary", "application/json", []byte(`{"weights":{"1":80,"2":20}}`)); resp.StatusCode != http.StatusCreated {
		t.Fatalf("alias: %d %s", resp.StatusCode, body)
	}
	stacktest.MustDeploy(t, base, "broken", testmodules.Trap, "")
	for i := 0; i < 4; i++ {
		invoke(t, base, "greeter", fmt.Sprintf("caller %d", i))
		invoke(t, base, "flip:canary", "stressed")
	}
	dead := stacktest.Submit(t, base, "broken", "x", nil)
	stacktest.WaitStatus(t, base, dead, "dead")
	return &consoleStack{s: s, base: base, deadID: dead}
}

// TestConsole drives every page of the console in a real Chromium against
// a dev stack: what each shows comes from the API, a live invocation made
// from the page shows up, logs and placement are there, the DLQ replay
// and the upload deploy work, and no page logs an error; then the same
// pages at a phone's width, none wider than the screen.
func TestConsole(t *testing.T) {
	b := startBrowser(t)
	cs := newConsoleStack(t)
	base := cs.base
	flip := readFile(t, reverseCPat)
	tb := b.tab(1280, 900)

	// Functions, with versions and the alias's split.
	tb.open(base + "/")
	tb.until("the functions list shows greeter, flip and broken with flip's canary split",
		`(() => { const q = (s) => document.querySelector(s);
			const flip = q('#functions tr[data-function="flip"]');
			return !!(q('#functions tr[data-function="greeter"]') && q('#functions tr[data-function="broken"]') && flip &&
				flip.querySelector('.split') && flip.innerText.includes('canary') && flip.innerText.includes('v1 80%') && flip.innerText.includes('v2 20%')); })()`, 15*time.Second)
	tb.noErrors("functions")
	tb.screenshot("functions")

	// A function: charts with data, recent invocations, a live call from
	// the page with its log and placement.
	tb.open(base + "/#/functions/greeter")
	tb.until("greeter's page shows its 4 invocations and charts with data",
		`document.querySelectorAll('#invocations tr[data-invocation]').length >= 4 &&
		 ['chart-rate', 'chart-latency', 'chart-cold'].every((id) => { const s = document.querySelector('#' + id + ' svg'); return s && Number(s.dataset.points) > 0; })`, 15*time.Second)
	tb.do(
		chromedp.SetValue(chromedp.ID("invoke-input"), "console"),
		chromedp.Click(chromedp.ID("invoke-button")),
	)
	tb.until("the page shows the output of its call", `(() => { const o = document.querySelector('#invoke-output pre'); return !!o && o.textContent.includes('Hello, console!'); })()`, 15*time.Second)
	id := eval[string](tb, `(document.querySelector('#invoke-output .lines').textContent.match(/Hearth-Invocation-Id: (\S+)/) || [])[1] || ''`)
	if id == "" {
		t.Fatalf("the page does not show the call's Hearth-Invocation-Id: %s", tb.mainText())
	}
	row := `#invocations tr[data-invocation=` + js(id) + `]`
	tb.until("the live invocation is listed with its status, timings and placement",
		`(() => { const r = document.querySelector('`+row+`'); return !!r && r.innerText.includes('succeeded') && r.innerText.includes('run ') && !!r.querySelector('.chip'); })()`, 15*time.Second)
	tb.do(chromedp.Click(chromedp.CSS(row)))
	tb.until("its log is shown", `(() => { const l = document.querySelector('[data-log=`+js(id)+`]'); return !!l && l.textContent.length > 0; })()`, 15*time.Second)
	placement := eval[string](tb, `document.querySelector('`+row+` .chip').title`)
	if placement == "" {
		t.Error("the placement chip has no explanation")
	}
	tb.noErrors("function page")
	tb.screenshot("function")

	// Runners, with the runner of the dev stack and its warm set.
	_, body := stacktest.Call(t, http.MethodGet, base+"/v1/runners", "", nil)
	var rs struct{ Runners []struct{ ID string } }
	if err := json.Unmarshal(body, &rs); err != nil || len(rs.Runners) == 0 {
		t.Fatalf("/v1/runners: %s", body)
	}
	tb.open(base + "/#/runners")
	tb.until("the runners page lists the runner with its load and warm set",
		`(() => { const r = document.querySelector('section[data-runner=`+js(rs.Runners[0].ID)+`]'); return !!r && !!r.querySelector('.meter') && r.innerText.includes('Warm set'); })()`, 15*time.Second)
	tb.noErrors("runners")
	tb.screenshot("runners")

	// The autoscaler: demand against the forecast, with the prewarms. A
	// runner keeps the instances the autoscaler asks for warm, so that a
	// prewarm is sure to start one, flip gets a new version while it is
	// forecast warm: the next minute's prewarm is of that version (which
	// the deploy does not warm itself).
	for i := 0; i < 3; i++ {
		invoke(t, base, "flip", "again")
	}
	stacktest.MustDeployUnwarmed(t, base, "flip", flip, `{"description":"Reverses its input (functions/reverse-c)","memory_mb":48}`)
	tb.open(base + "/#/autoscaler")
	tb.until("the autoscaler page plots flip's minutes and lists a prewarm",
		`(() => { const f = document.querySelector('section[data-function="flip"] svg');
			return !!f && Number(f.dataset.points) > 0 && !!f.querySelector('rect.band') && !!document.querySelector('#autoscaler-events tr[data-op="prewarm"]'); })()`, 30*time.Second)
	tb.noErrors("autoscaler")
	tb.screenshot("autoscaler")

	// The dead-letter queue, and a replay from the page.
	tb.open(base + "/#/dlq")
	tb.until("the DLQ page lists the dead letter", `!!document.querySelector('#dlq tr[data-dead=`+js(cs.deadID)+`]')`, 15*time.Second)
	tb.screenshot("dlq")
	tb.do(chromedp.Click(chromedp.CSS(`button[data-replay=` + js(cs.deadID) + `]`)))
	tb.until("the page says the dead letter was replayed", `(() => { const s = document.querySelector('[data-replay-status=`+js(cs.deadID)+`]'); return !!s && s.textContent.startsWith('Replayed'); })()`, 15*time.Second)
	_, body = stacktest.Call(t, http.MethodGet, base+"/v1/audit?action=dlq.replay", "", nil)
	if !strings.Contains(string(body), `"target":"`+cs.deadID+`"`) || !strings.Contains(string(body), `"outcome":"success"`) {
		t.Fatalf("no successful dlq.replay of %s in the audit log: %s", cs.deadID, body)
	}
	tb.noErrors("dlq")

	// Deploy by upload, with a spec.
	abs, err := filepath.Abs(helloPath)
	if err != nil {
		t.Fatal(err)
	}
	tb.open(base + "/#/deploy")
	tb.do(
		chromedp.WaitVisible(chromedp.ID("deploy-form")),
		chromedp.SendKeys(chromedp.ID("deploy-name"), "uploaded"),
		chromedp.SetUploadFiles(chromedp.ID("deploy-module"), []string{abs}),
		chromedp.SetValue(chromedp.ID("deploy-spec"), `{"memory_mb":64,"env":{"FROM":"console"}}`),
		chromedp.Click(chromedp.ID("deploy-button")),
	)
	tb.until("the page says uploaded was deployed", `(() => { const d = document.querySelector('[data-deployed="uploaded"]'); return !!d && d.textContent.includes('version 1'); })()`, 15*time.Second)
	tb.screenshot("deploy")
	resp, body := stacktest.Call(t, http.MethodGet, base+"/v1/functions/uploaded", "", nil)
	var fn struct {
		Version int
		Spec    struct {
			MemoryMB int `json:"memory_mb"`
			Env      map[string]string
		}
	}
	if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &fn) != nil || fn.Version != 1 || fn.Spec.MemoryMB != 64 || fn.Spec.Env["FROM"] != "console" {
		t.Fatalf("GET /v1/functions/uploaded: %d %s", resp.StatusCode, body)
	}
	if out := invoke(t, base, "uploaded", "upload"); out.Header.Get("Hearth-Function-Version") != "1" {
		t.Fatalf("the uploaded function answers as version %q", out.Header.Get("Hearth-Function-Version"))
	}
	tb.noErrors("deploy")

	// A phone: every page fits its width.
	phone := b.tab(390, 844)
	for _, p := range []struct{ hash, ready, shot string }{
		{"#/functions", `!!document.querySelector('#functions tr[data-function="flip"] .split')`, "phone-functions"},
		{"#/functions/flip", `(() => { const s = document.querySelector('#chart-rate svg'); return !!s && Number(s.dataset.points) > 0 && !!document.querySelector('#invocations tr[data-invocation]'); })()`, "phone-function"},
		{"#/runners", `!!document.querySelector('section[data-runner] .meter')`, ""},
		{"#/autoscaler", `!!document.querySelector('section[data-function] svg')`, "phone-autoscaler"},
		{"#/dlq", `!!document.querySelector('#dlq tr[data-dead], #dlq tr[data-replayed], #dlq td.empty')`, ""},
		{"#/deploy", `!!document.querySelector('#deploy-form')`, ""},
	} {
		phone.open(base + "/" + p.hash)
		phone.until(p.hash+" at 390 px", p.ready, 15*time.Second)
		phone.fitsWidth(p.hash + " at 390 px")
		phone.noErrors(p.hash + " at 390 px")
		if p.shot != "" {
			phone.screen(p.shot)
		}
	}
}

const adminKey = "console-test-admin-key-0123456789abcdef"

// TestConsoleWithKeys: with auth on, the page loads without a key, asks
// for one when the API answers 401, uses it (Authorization: Bearer) and
// keeps it in sessionStorage only: not in localStorage, not in the URL; a
// reload does not ask again, and a new tab asks anew.
func TestConsoleWithKeys(t *testing.T) {
	b := startBrowser(t)
	s := stacktest.DevWith(t, stack.DevConfig{Gateway: gateway.Config{Auth: true, AdminKey: adminKey}})
	base := s.GatewayURL

	tb := b.tab(1280, 900)
	// The 401 that makes the page ask is logged by the browser as a
	// failed resource load; nothing else may be.
	tb.expected = func(e string) bool { return strings.Contains(e, "401") }
	tb.open(base + "/")
	tb.until("the key prompt opens", `document.getElementById('key-dialog').open`, 15*time.Second)
	if n := eval[int](tb, `document.querySelectorAll('#functions tr[data-function]').length`); n != 0 {
		t.Fatalf("the list shows %d functions before a key was given", n)
	}
	tb.docScreen("key-prompt")
	tb.do(
		chromedp.SendKeys(chromedp.ID("key-input"), adminKey),
		chromedp.Click(chromedp.ID("key-submit")),
	)
	tb.until("the list shows the examples once the key is given", `!document.getElementById('key-dialog').open && !!document.querySelector('#functions tr[data-function="hello"]')`, 15*time.Second)
	stored := eval[struct {
		Session, URL string
		Local        int
	}](tb, `({session: sessionStorage.getItem('hearth.key') || '', local: localStorage.length, url: location.href})`)
	if stored.Session != adminKey || stored.Local != 0 || strings.Contains(stored.URL, adminKey) {
		t.Fatalf("the key is kept as %+v; want it in sessionStorage only", stored)
	}
	if !eval[bool](tb, `!document.getElementById('key-button').hidden`) {
		t.Error("no Forget key button once a key is given")
	}

	// The other pages use the key without asking.
	tb.open(base + "/#/runners")
	tb.until("the runners page loads with the key", `!!document.querySelector('section[data-runner]') && !document.getElementById('key-dialog').open`, 15*time.Second)
	tb.do(chromedp.Reload(), chromedp.WaitVisible(chromedp.ID("main")))
	tb.until("after a reload the key is still used", `!!document.querySelector('section[data-runner]') && !document.getElementById('key-dialog').open`, 15*time.Second)
	tb.noErrors("with a key")

	// A wrong key is refused and asked for again.
	other := b.tab(1280, 900)
	other.expected = tb.expected
	other.open(base + "/#/functions")
	other.until("a new tab asks for a key", `document.getElementById('key-dialog').open`, 15*time.Second)
	other.do(chromedp.SendKeys(chromedp.ID("key-input"), "hk_wrong"), chromedp.Click(chromedp.ID("key-submit")))
	other.until("a wrong key is refused and asked for again", `document.getElementById('key-dialog').open && !document.getElementById('key-error').hidden`, 15*time.Second)
	if v := eval[string](other, `sessionStorage.getItem('hearth.key') || ''`); v != "" {
		t.Errorf("the refused key is kept: %q", v)
	}
	other.noErrors("wrong key")
}
