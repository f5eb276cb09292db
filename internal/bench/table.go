package bench

import (
	"bytes"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
)

// WriteTable prints the report as markdown: the table, the machine and
// settings, the CPU comparisons, and what one operation of each case is.
func (r *Report) WriteTable(w io.Writer) error {
	var buf bytes.Buffer
	fmt.Fprintf(&buf, "| case | req/s | p50 µs | p99 µs | ratio to bare-nethttp | CPU µs/op (process) | CPU µs/op (server) | cores busy | load avg |\n")
	fmt.Fprintf(&buf, "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n")
	for _, c := range r.Cases {
		if c.Failed != "" {
			fmt.Fprintf(&buf, "| %s | failed: %s | | | | | | | |\n", c.Name, strings.ReplaceAll(strings.SplitN(c.Failed, "\n", 2)[0], "|", "\\|"))
			continue
		}
		fmt.Fprintf(&buf, "| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", c.Name, formatRate(c.RPS), formatOpt(c.P50, 0), formatOpt(c.P99, 0),
			formatRatio(c.Ratio), formatOpt(c.CPUPerOp, 1), formatOpt(c.ServerCPUPerOp, 1), formatFixed(c.CPUCores, 2), formatFixed(c.Load1, 2))
	}
	loop := fmt.Sprintf("concurrency %d", r.Concurrency)
	if r.Rate > 0 {
		loop = fmt.Sprintf("open loop at %s req/s (throughput cases; at most %d in flight; latency from when each request was due)", formatRate(r.Rate), r.Concurrency)
	}
	fmt.Fprintf(&buf, "\n%s, %s/%s, %d CPUs (GOMAXPROCS %d)%s; %s, %s per case, %d-byte body; wazero %s; %s.\n",
		r.GoVersion, r.OS, r.Arch, r.NumCPU, r.GOMAXPROCS, orEmpty(", "+r.CPU, r.CPU != ""), loop, r.Duration, r.BodyBytes, orEmpty(r.Wazero, r.Wazero != ""), r.Date)

	base := find(r.Cases, "bare-nethttp")
	if base != nil && base.CPUPerOp != nil {
		var lines []string
		for _, name := range []string{"hearth-warm-reactor", "hearth-warm-command"} {
			if c := find(r.Cases, name); c != nil && c.CPUPerOp != nil {
				lines = append(lines, fmt.Sprintf("%s %.1f µs (%.1f× bare, +%.1f µs)", name, *c.CPUPerOp, *c.CPUPerOp / *base.CPUPerOp, *c.CPUPerOp-*base.CPUPerOp))
			}
		}
		if len(lines) > 0 {
			fmt.Fprintf(&buf, "\nCPU per request, whole process (load generator, HTTP client and server, NATS, runner): bare-nethttp %.1f µs; %s. The client's share is the same in every HTTP case, so the difference is what Hearth adds.\n", *base.CPUPerOp, strings.Join(lines, "; "))
		}
	}
	if base != nil && base.ServerCPUPerOp != nil {
		var lines []string
		for _, c := range r.Cases {
			if c.Name != base.Name && c.ServerCPUPerOp != nil && *c.ServerCPUPerOp > 0 {
				lines = append(lines, fmt.Sprintf("%s %.1f µs (%.2f×)", c.Name, *c.ServerCPUPerOp, *base.ServerCPUPerOp / *c.ServerCPUPerOp))
			}
		}
		if len(lines) > 0 {
			fmt.Fprintf(&buf, "\nServer CPU per request (the process's CPU less the load generator's share of the case's CPU profile, ±3 %%), and bare-nethttp's as a ratio to it: bare-nethttp %.1f µs; %s.\n", *base.ServerCPUPerOp, strings.Join(lines, "; "))
		}
	}
	writeProcessLine(&buf, r.Cases)
	writeAuthLine(&buf, r.Cases)
	fmt.Fprintf(&buf, "\ncores busy: the process's CPU time per second of the case (at most GOMAXPROCS); below it, the case was bound by latency or other processes had the CPUs. load avg: the system's one-minute load average at the end of the case.\n")
	fmt.Fprintf(&buf, "\nWhat one operation is:\n\n")
	for _, c := range r.Cases {
		note := c.Measure
		if c.Note != "" {
			note += " (" + c.Note + ")"
		}
		if c.Errors > 0 {
			note += fmt.Sprintf(" — %d failed operations", c.Errors)
		}
		fmt.Fprintf(&buf, "- %s: %s.\n", c.Name, note)
	}
	_, err := w.Write(buf.Bytes())
	return err
}

func orEmpty(s string, ok bool) string {
	if ok {
		return s
	}
	return "?"
}

func formatRate(v float64) string {
	switch {
	case v >= 100:
		return strconv.FormatFloat(math.Round(v), 'f', 0, 64)
	case v >= 10:
		return strconv.FormatFloat(v, 'f', 1, 64)
	default:
		return strconv.FormatFloat(v, 'f', 2, 64)
	}
}

func formatOpt(v *float64, decimals int) string {
	if v == nil {
		return "—"
	}
	if *v < 10 && decimals == 0 {
		decimals = 1
	}
	return strconv.FormatFloat(*v, 'f', decimals, 64)
}

func formatFixed(v *float64, decimals int) string {
	if v == nil {
		return "—"
	}
	return strconv.FormatFloat(*v, 'f', decimals, 64)
}

func formatRatio(v *float64) string {
	if v == nil {
		return "—"
	}
	switch {
	case *v >= 10:
		return strconv.FormatFloat(*v, 'f', 1, 64) + "×"
	case *v >= 0.01:
		return strconv.FormatFloat(*v, 'f', 3, 64) + "×"
	default:
		return strconv.FormatFloat(*v, 'g', 2, 64) + "×"
	}
}

// writeAuthLine compares hearth-warm-reactor-auth with hearth-warm-reactor
// when both ran: what checking an API key on every call costs.
func writeAuthLine(buf *bytes.Buffer, cases []Result) {
	plain, keyed := find(cases, "hearth-warm-reactor"), find(cases, "hearth-warm-reactor-auth")
	if plain == nil || keyed == nil || plain.Failed != "" || keyed.Failed != "" || plain.RPS <= 0 {
		return
	}
	fmt.Fprintf(buf, "\nAPI keys (hearth-warm-reactor-auth against hearth-warm-reactor): %s against %s req/s (%.3f×)", formatRate(keyed.RPS), formatRate(plain.RPS), keyed.RPS/plain.RPS)
	if keyed.ServerCPUPerOp != nil && plain.ServerCPUPerOp != nil {
		fmt.Fprintf(buf, "; server CPU per request %.1f against %.1f µs (%+.1f µs)", *keyed.ServerCPUPerOp, *plain.ServerCPUPerOp, *keyed.ServerCPUPerOp-*plain.ServerCPUPerOp)
	}
	if keyed.CPUPerOp != nil && plain.CPUPerOp != nil {
		fmt.Fprintf(buf, "; process CPU per request %.1f against %.1f µs (%+.1f µs)", *keyed.CPUPerOp, *plain.CPUPerOp, *keyed.CPUPerOp-*plain.CPUPerOp)
	}
	fmt.Fprintf(buf, ". The two run one after the other on the same platform and runner, each through a gateway of its own; on a shared machine compare several runs.\n")
}

// writeProcessLine gives the cluster cases' server CPU per request by
// process.
func writeProcessLine(buf *bytes.Buffer, cases []Result) {
	var lines []string
	for _, c := range cases {
		if c.Failed != "" || len(c.ProcessCPUPerOp) == 0 {
			continue
		}
		var parts []string
		for _, role := range clusterRoles {
			if v, ok := c.ProcessCPUPerOp[role]; ok {
				parts = append(parts, fmt.Sprintf("%s %.1f", role, v))
			}
		}
		lines = append(lines, fmt.Sprintf("%s: %s", c.Name, strings.Join(parts, ", ")))
	}
	if len(lines) > 0 {
		fmt.Fprintf(buf, "\nServer CPU per request by process, µs (from /proc, over the measured period): %s.\n", strings.Join(lines, "; "))
	}
}
