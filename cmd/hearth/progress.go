package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"golang.org/x/term"
)

// progressThreshold is the request body size from which an upload shows
// its progress.
const progressThreshold = 4 << 20

// isTerminal reports whether w is a terminal (a bar can redraw there).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// progress shows how far a long piece of work has come on w: on a
// terminal, one line redrawn in place (a bar when the total is known);
// elsewhere, plain lines, at most one a quarter of the way or every few
// seconds, so that a log keeps a record without filling up.
type progress struct {
	w     io.Writer
	tty   bool
	what  string
	total int64

	mu       sync.Mutex
	start    time.Time
	lastDraw time.Time
	lastStep int64 // quarters printed, in plain mode
	drawn    bool
}

func newProgress(w io.Writer, what string, total int64) *progress {
	return &progress{w: w, tty: isTerminal(w), what: what, total: total, start: time.Now()}
}

// set shows done (of total) with a status word.
func (p *progress) set(done int64, status string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := time.Now()
	if p.tty {
		if now.Sub(p.lastDraw) < 100*time.Millisecond && (p.total == 0 || done < p.total) {
			return
		}
		p.lastDraw = now
		fmt.Fprintf(p.w, "\r\033[K%s", p.line(done, status, now))
		p.drawn = true
		return
	}
	if p.total > 0 {
		step := min(done*4/p.total, 4)
		if p.drawn && step <= p.lastStep {
			return
		}
		p.lastStep = step
	} else if p.drawn && now.Sub(p.lastDraw) < 5*time.Second {
		return
	}
	p.lastDraw = now
	p.drawn = true
	fmt.Fprintln(p.w, p.line(done, status, now))
}

// line is the text of one update.
func (p *progress) line(done int64, status string, now time.Time) string {
	elapsed := now.Sub(p.start).Round(100 * time.Millisecond)
	if p.total <= 0 {
		return fmt.Sprintf("%s: %s (%s)", p.what, status, elapsed)
	}
	frac := min(float64(done)/float64(p.total), 1)
	if !p.tty {
		return fmt.Sprintf("%s: %3.0f%% (%s of %s, %s)", p.what, frac*100, humanBytes(int(done)), humanBytes(int(p.total)), elapsed)
	}
	const width = 30
	filled := int(frac * width)
	bar := strings.Repeat("=", filled) + strings.Repeat(" ", width-filled)
	if filled < width {
		bar = bar[:filled] + ">" + bar[filled+1:]
	}
	return fmt.Sprintf("%s [%s] %3.0f%% %s/%s", p.what, bar, frac*100, humanBytes(int(done)), humanBytes(int(p.total)))
}

// finish shows the final status: a plain line, or on a terminal the
// line cleared.
func (p *progress) finish(status string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.tty {
		if p.drawn {
			fmt.Fprint(p.w, "\r\033[K")
		}
		return
	}
	fmt.Fprintln(p.w, p.line(0, status, time.Now()))
	p.drawn = true
}

// done ends the line on a terminal.
func (p *progress) done() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.tty && p.drawn {
		fmt.Fprint(p.w, "\r\033[K")
	}
}

// progressTransport shows the upload progress of request bodies of
// progressThreshold bytes or more.
type progressTransport struct {
	next http.RoundTripper
	w    io.Writer
}

func (t *progressTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body == nil || req.ContentLength < progressThreshold {
		return t.next.RoundTrip(req)
	}
	p := newProgress(t.w, "uploading "+req.URL.Path, req.ContentLength)
	p.set(0, "")
	body := &countingReader{r: req.Body, c: req.Body, p: p}
	req = req.Clone(req.Context())
	req.Body = body
	resp, err := t.next.RoundTrip(req)
	p.done()
	return resp, err
}

// countingReader reports what has been read of a body.
type countingReader struct {
	r io.Reader
	c io.Closer
	n int64
	p *progress
}

func (r *countingReader) Read(b []byte) (int, error) {
	n, err := r.r.Read(b)
	r.n += int64(n)
	r.p.set(r.n, "")
	return n, err
}

func (r *countingReader) Close() error { return r.c.Close() }
