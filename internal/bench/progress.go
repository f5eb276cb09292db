package bench

import (
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/hearthfn/hearth/internal/loadgen"
)

// ProgressBar is a Progress that draws one status line on a terminal-ish
// writer, redrawn in place with \r. It is also a writer for a logger:
// log lines written through it clear the bar first.
type ProgressBar struct {
	w io.Writer

	mu         sync.Mutex
	index, n   int
	name       string
	drawnWidth int
}

// NewProgressBar draws on w.
func NewProgressBar(w io.Writer) *ProgressBar { return &ProgressBar{w: w} }

// Write lets a logger share the line with the bar.
func (p *ProgressBar) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.clearLocked()
	return p.w.Write(b)
}

// Begin starts the line of a case.
func (p *ProgressBar) Begin(index, n int, name string) {
	p.mu.Lock()
	p.index, p.n, p.name = index, n, name
	p.mu.Unlock()
	p.Status("starting…")
}

// Status shows msg after the case's name.
func (p *ProgressBar) Status(msg string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.drawLocked(fmt.Sprintf("[%d/%d] %s: %s", p.index, p.n, p.name, msg))
}

// Update draws the load generator's progress: a bar of the planned time,
// or, without a plan, the elapsed time and the operations done.
func (p *ProgressBar) Update(lp loadgen.Progress) {
	const width = 24
	frac := 0.0
	if lp.Planned > 0 {
		frac = min(float64(lp.Elapsed)/float64(lp.Planned), 1)
	}
	filled := int(frac * width)
	bar := strings.Repeat("=", filled) + strings.Repeat(" ", width-filled)
	if filled < width {
		bar = bar[:filled] + ">" + bar[filled+1:]
	}
	phase := ""
	if lp.Warmup {
		phase = " warming up"
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	line := fmt.Sprintf("[%d/%d] %-26s [%s] %5.1fs%s  %d ops", p.index, p.n, p.name, bar, lp.Elapsed.Seconds(), phase, lp.Ops)
	if lp.Planned == 0 {
		line = fmt.Sprintf("[%d/%d] %-26s %5.1fs  %d done", p.index, p.n, p.name, lp.Elapsed.Seconds(), lp.Ops)
	}
	if lp.Errors > 0 {
		line += fmt.Sprintf(", %d failed", lp.Errors)
	}
	p.drawLocked(line)
}

// Done replaces the bar with the case's one-line summary.
func (p *ProgressBar) Done(r Result) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.clearLocked()
	if r.Failed != "" {
		fmt.Fprintf(p.w, "[%d/%d] %s: failed\n", p.index, p.n, p.name)
		return
	}
	fmt.Fprintf(p.w, "[%d/%d] %-26s %s/s  p50 %s µs  p99 %s µs\n", p.index, p.n, p.name, formatRate(r.RPS), formatOpt(r.P50, 0), formatOpt(r.P99, 0))
}

// Clear removes the bar's line.
func (p *ProgressBar) Clear() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.clearLocked()
}

func (p *ProgressBar) drawLocked(line string) {
	pad := ""
	if n := len([]rune(line)); n < p.drawnWidth {
		pad = strings.Repeat(" ", p.drawnWidth-n)
	}
	fmt.Fprint(p.w, "\r"+line+pad)
	p.drawnWidth = len([]rune(line))
}

func (p *ProgressBar) clearLocked() {
	if p.drawnWidth > 0 {
		fmt.Fprint(p.w, "\r"+strings.Repeat(" ", p.drawnWidth)+"\r")
		p.drawnWidth = 0
	}
}
