package chaos

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"time"
)

// Result is what one phase (the no-fault baseline, or the run with
// faults) found.
type Result struct {
	Phase     string    `json:"phase"` // "baseline" or "faults"
	Started   time.Time `json:"started"`
	LoadS     float64   `json:"load_s"`    // how long the load ran
	AsyncRate float64   `json:"async_rps"` // submissions per second asked for
	SyncRate  float64   `json:"sync_rps"`

	Accepted         int `json:"accepted"`      // async invocations answered 202
	Completed        int `json:"completed"`     // … with one succeeded record and the right result
	Lost             int `json:"lost"`          // … with no record, or none final after the settle time
	WrongResult      int `json:"wrong_result"`  // … succeeded with another output, or none readable
	Duplicates       int `json:"duplicates"`    // … whose success was delivered (called back) more than once
	DeadLettered     int `json:"dead_lettered"` // … dead after every attempt
	Failed           int `json:"failed"`        // … failed (the function's own error)
	NotAccepted      int `json:"not_accepted"`  // submissions never answered 202 (not promised to anyone)
	Retried          int `json:"retried"`       // completed ones with more than one attempt
	ReExecuted       int `json:"re_executed"`   // completed ones a runner ran to the end more than once
	MissingCallbacks int `json:"missing_callbacks"`
	WrongCallbacks   int `json:"wrong_callbacks"`

	SyncOK     int            `json:"sync_ok"`
	SyncErrors map[string]int `json:"sync_errors"` // allowed failures, by status
	SyncBad    map[string]int `json:"sync_bad"`    // outside the contract: 500, wrong output, past the timeout, transport

	SettleS   float64 `json:"settle_s"`   // from the load's end until every accepted invocation was final
	RecoveryS float64 `json:"recovery_s"` // from the last fault's end until the cluster was healthy again
	Timeline  []Event `json:"timeline"`

	LostIDs        []string `json:"lost_ids,omitempty"`
	WrongIDs       []string `json:"wrong_ids,omitempty"`
	DuplicateIDs   []string `json:"duplicate_ids,omitempty"`
	DeadIDs        []string `json:"dead_ids,omitempty"`
	ReExecutedIDs  []string `json:"re_executed_ids,omitempty"`
	NotAcceptedIDs []string `json:"not_accepted_ids,omitempty"`
	SyncExamples   []string `json:"sync_examples,omitempty"`
}

const keepIDs = 20

func (r *Result) add(list *[]string, s string) {
	if len(*list) < keepIDs {
		*list = append(*list, s)
	}
}

// Clean reports whether the phase kept every promise: nothing lost,
// wrong, doubled or dead, no sync call outside the contract.
func (r *Result) Clean() bool {
	bad := 0
	for _, n := range r.SyncBad {
		bad += n
	}
	return r.Accepted > 0 && r.Lost == 0 && r.WrongResult == 0 && r.Duplicates == 0 && r.DeadLettered == 0 &&
		r.Failed == 0 && r.WrongCallbacks == 0 && bad == 0 && r.Completed == r.Accepted
}

// Problems lists the broken promises of the phase, one line each.
func (r *Result) Problems() []string {
	var p []string
	add := func(n int, what string, ids []string) {
		if n > 0 {
			p = append(p, fmt.Sprintf("%d %s: %s", n, what, strings.Join(ids, "; ")))
		}
	}
	add(r.Lost, "lost", r.LostIDs)
	add(r.WrongResult, "with a wrong result", r.WrongIDs)
	add(r.Duplicates, "completed twice", r.DuplicateIDs)
	add(r.DeadLettered+r.Failed, "dead or failed", r.DeadIDs)
	add(r.WrongCallbacks, "callbacks with a wrong body", nil)
	for _, k := range sortedKeys(r.SyncBad) {
		p = append(p, fmt.Sprintf("%d sync calls %s", r.SyncBad[k], k))
	}
	if len(r.SyncBad) > 0 {
		p = append(p, "sync examples: "+strings.Join(r.SyncExamples, "; "))
	}
	if r.Accepted == 0 {
		p = append(p, "no async invocation was accepted")
	}
	return p
}

// Event is one fault, or the end of one, on the run's clock.
type Event struct {
	AtS    float64 `json:"at_s"` // seconds since the load started
	Action string  `json:"action"`
	Target string  `json:"target"`
	Detail string  `json:"detail,omitempty"`
}

// Versions says what ran.
type Versions struct {
	Hearth     string `json:"hearth"` // git describe of the tree it was built from, or what the given binary says
	Wazero     string `json:"wazero,omitempty"`
	Go         string `json:"go"`
	NATSServer string `json:"nats_server"`
	MinIO      string `json:"minio"`
	OS         string `json:"os"`
	CPUs       int    `json:"cpus"`
}

// Report is bench/results/chaos.json: the run with faults at the top
// level, the baseline beside it.
type Report struct {
	Result
	Config   Config   `json:"config"`
	Baseline *Result  `json:"baseline,omitempty"`
	Versions Versions `json:"versions"`
}

// versions says what ran; built tells whether hearthBin was built from
// root's tree (or given).
func versions(root, hearthBin, natsBin, minio string, built bool) Versions {
	v := Versions{Go: runtime.Version(), OS: runtime.GOOS + "/" + runtime.GOARCH, CPUs: runtime.NumCPU()}
	first := func(dir, name string, args ...string) string {
		cmd := exec.Command(name, args...)
		cmd.Dir = dir
		out, err := cmd.Output()
		if err != nil {
			return "unknown (" + err.Error() + ")"
		}
		line, _, _ := strings.Cut(strings.TrimSpace(string(out)), "\n")
		return line
	}
	v.Hearth = first(root, "git", "describe", "--always", "--dirty")
	if out, err := exec.Command(hearthBin, "version", "-o", "json").Output(); err == nil {
		var hv struct{ Version, Commit, Wazero string }
		if json.Unmarshal(out, &hv) == nil {
			v.Wazero = hv.Wazero
			if !built {
				v.Hearth = strings.TrimSpace(hv.Version + " " + hv.Commit)
			}
		}
	}
	v.NATSServer = first(root, natsBin, "--version")
	v.MinIO = first(root, minio, "--version")
	return v
}

// WriteJSON writes the report to file.
func (r *Report) WriteJSON(file string) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(file, append(b, '\n'), 0o644)
}

// WriteMarkdown writes the summary: both phases side by side, then the
// fault timeline.
func (r *Report) WriteMarkdown(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "# Chaos run, %s\n\n", r.Started.UTC().Format("2006-01-02 15:04 MST"))
	fmt.Fprintf(&b, "Loopback cluster: 3 nats-server nodes (JetStream, R3), MinIO, %d gateways, %d runners. "+
		"Async load: %d invocations of `%s` (25 ms each) at %.0f/s per phase, each with a distinct body and a known output, an Idempotency-Key and a callback; "+
		"sync load: `%s` at %.0f/s. Hearth %s, %s, nats-server %s, %s, %d CPUs.\n\n",
		r.Config.Gateways, r.Config.Runners, r.Config.Invocations, SlowEcho, r.Config.AsyncRate, Reverse, r.Config.SyncRate,
		r.Versions.Hearth, r.Versions.Go, r.Versions.NATSServer, r.Versions.MinIO, r.Versions.CPUs)
	cols := []*Result{}
	if r.Baseline != nil {
		cols = append(cols, r.Baseline)
	}
	cols = append(cols, &r.Result)
	b.WriteString("| | ")
	for _, c := range cols {
		b.WriteString(c.Phase + " | ")
	}
	b.WriteString("\n|---|")
	for range cols {
		b.WriteString("---:|")
	}
	b.WriteString("\n")
	row := func(name string, f func(*Result) string) {
		b.WriteString("| " + name + " | ")
		for _, c := range cols {
			b.WriteString(f(c) + " | ")
		}
		b.WriteString("\n")
	}
	num := func(f func(*Result) int) func(*Result) string {
		return func(c *Result) string { return fmt.Sprint(f(c)) }
	}
	row("accepted", num(func(c *Result) int { return c.Accepted }))
	row("completed", num(func(c *Result) int { return c.Completed }))
	row("lost", num(func(c *Result) int { return c.Lost }))
	row("wrong_result", num(func(c *Result) int { return c.WrongResult }))
	row("duplicates (completed twice)", num(func(c *Result) int { return c.Duplicates }))
	row("dead_lettered", num(func(c *Result) int { return c.DeadLettered }))
	row("not accepted (never 202)", num(func(c *Result) int { return c.NotAccepted }))
	row("retried (attempts > 1)", num(func(c *Result) int { return c.Retried }))
	row("re-executed (ran to the end twice)", num(func(c *Result) int { return c.ReExecuted }))
	row("missing callbacks", num(func(c *Result) int { return c.MissingCallbacks }))
	row("sync_ok", num(func(c *Result) int { return c.SyncOK }))
	row("sync_errors", func(c *Result) string { return counts(c.SyncErrors) })
	row("sync outside the contract", func(c *Result) string { return counts(c.SyncBad) })
	row("settle_s", func(c *Result) string { return fmt.Sprintf("%.1f", c.SettleS) })
	row("recovery_s", func(c *Result) string {
		if len(c.Timeline) == 0 {
			return "–"
		}
		return fmt.Sprintf("%.1f", c.RecoveryS)
	})
	if len(r.Timeline) > 0 {
		b.WriteString("\n## Fault timeline\n\n| at (s) | action | target | detail |\n|---:|---|---|---|\n")
		for _, e := range r.Timeline {
			fmt.Fprintf(&b, "| %.1f | %s | %s | %s |\n", e.AtS, e.Action, e.Target, e.Detail)
		}
	}
	for _, c := range cols {
		if p := c.Problems(); len(p) > 0 {
			fmt.Fprintf(&b, "\n## Broken promises (%s)\n\n", c.Phase)
			for _, l := range p {
				b.WriteString("- " + l + "\n")
			}
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func counts(m map[string]int) string {
	if len(m) == 0 {
		return "0"
	}
	var parts []string
	for _, k := range sortedKeys(m) {
		parts = append(parts, fmt.Sprintf("%s: %d", k, m[k]))
	}
	return strings.Join(parts, ", ")
}
