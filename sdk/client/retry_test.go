package client_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hearthfn/hearth/sdk/client"
)

// refusing is a real HTTP server that answers the first refusals requests
// with status, Retry-After and an error of code, then 200 with answer.
// It keeps the body of every request it was sent.
type refusing struct {
	srv        *httptest.Server
	status     int
	code       string
	retryAfter func() string // "" sends no Retry-After
	refusals   int
	answer     string

	mu      sync.Mutex
	bodies  []string
	arrived chan struct{} // a value per request
}

func newRefusing(t *testing.T, status int, code string, retryAfter func() string, refusals int, answer string) *refusing {
	t.Helper()
	r := &refusing{status: status, code: code, retryAfter: retryAfter, refusals: refusals, answer: answer, arrived: make(chan struct{}, 100)}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.bodies = append(r.bodies, string(body))
		n := len(r.bodies)
		r.mu.Unlock()
		r.arrived <- struct{}{}
		if n <= r.refusals {
			if r.retryAfter != nil {
				if v := r.retryAfter(); v != "" {
					w.Header().Set("Retry-After", v)
				}
			}
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(r.status)
			fmt.Fprintf(w, `{"error":{"code":%q,"message":"refused, attempt %d"}}`, r.code, n)
			return
		}
		switch {
		case req.Method == http.MethodPut && strings.HasPrefix(req.URL.Path, "/v1/functions/"):
			w.WriteHeader(http.StatusCreated)
		default:
			w.WriteHeader(http.StatusOK)
		}
		io.WriteString(w, r.answer)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *refusing) attempts() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.bodies)
}

func (r *refusing) sent() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.bodies...)
}

func fixed(v string) func() string { return func() string { return v } }

// TestRetryAfterSeconds: a sync call refused twice with 429 and
// Retry-After: 1 is sent three times, with the same body each time, and
// the client waited at least the two seconds it was told to.
func TestRetryAfterSeconds(t *testing.T) {
	r := newRefusing(t, http.StatusTooManyRequests, "overloaded", fixed("1"), 2, "done")
	c := client.New(r.srv.URL)
	start := time.Now()
	out, _, err := c.Invoke(context.Background(), "hello", []byte("the input"))
	elapsed := time.Since(start)
	if err != nil || string(out) != "done" {
		t.Fatalf("Invoke: %q, %v", out, err)
	}
	if n := r.attempts(); n != 3 {
		t.Fatalf("%d attempts, want 3", n)
	}
	for i, b := range r.sent() {
		if b != "the input" {
			t.Errorf("attempt %d sent body %q, want the input again", i+1, b)
		}
	}
	if elapsed < 2*time.Second {
		t.Errorf("done after %v; Retry-After: 1 twice asks for at least 2s", elapsed)
	}
}

// TestRetryAfterDate: a 503 with Retry-After as an HTTP-date is resent
// no earlier than that date, and a multipart deploy refused with 429 is
// sent again whole.
func TestRetryAfterDate(t *testing.T) {
	var at time.Time
	r := newRefusing(t, http.StatusServiceUnavailable, "no_runners", func() string {
		at = time.Now().Add(2 * time.Second).Truncate(time.Second) // HTTP-dates have whole seconds
		return at.UTC().Format(http.TimeFormat)
	}, 1, `{"name":"x"}`)
	c := client.New(r.srv.URL)
	if _, err := c.Get(context.Background(), "x"); err != nil {
		t.Fatal(err)
	}
	if time.Now().Before(at) {
		t.Errorf("answered before the Retry-After date %v", at)
	}
	if n := r.attempts(); n != 2 {
		t.Errorf("%d attempts, want 2", n)
	}

	d := newRefusing(t, http.StatusTooManyRequests, "rate_limited", fixed("0"), 1, `{"name":"x","version":1}`)
	c = client.New(d.srv.URL)
	if _, err := c.Deploy(context.Background(), "x", []byte("\x00asm-module"), &client.Spec{MemoryMB: 64}); err != nil {
		t.Fatal(err)
	}
	sent := d.sent()
	if len(sent) != 2 || sent[0] != sent[1] || !strings.Contains(sent[1], "\x00asm-module") || !strings.Contains(sent[1], `"memory_mb":64`) {
		t.Errorf("deploy bodies %q, want the same multipart body twice", sent)
	}
}

// TestRetryBackoff: without Retry-After the client still waits before it
// sends again.
func TestRetryBackoff(t *testing.T) {
	r := newRefusing(t, http.StatusServiceUnavailable, "storage_unavailable", nil, 1, "[]")
	c := client.New(r.srv.URL)
	start := time.Now()
	if _, err := c.Logs(context.Background(), "id"); err != nil {
		t.Fatal(err)
	}
	if elapsed := time.Since(start); elapsed < 250*time.Millisecond {
		t.Errorf("resent after %v, want a backoff of at least 250ms", elapsed)
	}
	if n := r.attempts(); n != 2 {
		t.Errorf("%d attempts, want 2", n)
	}
}

// TestRetryLimits: what is not resent, and how often what is.
func TestRetryLimits(t *testing.T) {
	for _, tt := range []struct {
		name       string
		status     int
		code       string
		retryAfter string
		retries    int
		maxWait    time.Duration
		call       func(*client.Client) error
		attempts   int
	}{
		{"retries off", 429, "overloaded", "0", 0, 0, invoke, 1},
		{"three retries, then the error", 429, "overloaded", "0", 3, 0, invoke, 4},
		{"one retry", 503, "no_runners", "0", 1, 0, invoke, 2},
		{"Retry-After past MaxRetryWait", 429, "rate_limited", "120", 3, time.Second, invoke, 1},
		{"Retry-After past the default cap", 429, "rate_limited", "3600", 3, 0, invoke, 1},
		{"a call whose runner was lost may have run", 503, "runner_lost", "0", 3, 0, invoke, 1},
		{"async: 503 means not queued", 503, "no_runners", "0", 2, 0, invokeAsync(""), 3},
		{"async with an idempotency key", 503, "runner_lost", "0", 2, 0, invokeAsync("k1"), 3},
		{"a deploy's 503 is not resent", 503, "storage_unavailable", "0", 3, 0, deploy, 1},
		{"a deploy's 429 is", 429, "rate_limited", "0", 3, 0, deploy, 4},
		{"a key's creation: 503 not resent", 503, "storage_unavailable", "0", 3, 0, createKey, 1},
		{"a GET's 503 is", 503, "storage_unavailable", "0", 2, 0, get, 3},
		{"a DELETE's 503 is", 503, "storage_unavailable", "0", 2, 0, del, 3},
		{"a secret's PUT 503 is", 503, "storage_unavailable", "0", 2, 0, putSecret, 3},
		{"a trigger's DELETE 503 is not", 503, "storage_unavailable", "0", 2, 0, deleteTrigger, 1},
		{"other statuses are not", 500, "internal", "0", 3, 0, get, 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := newRefusing(t, tt.status, tt.code, fixed(tt.retryAfter), 100, "")
			c := client.New(r.srv.URL)
			c.MaxRetries, c.MaxRetryWait = tt.retries, tt.maxWait
			err := tt.call(c)
			var apiErr *client.Error
			if !errors.As(err, &apiErr) || apiErr.Status != tt.status || apiErr.Code != tt.code {
				t.Fatalf("error %v, want an *client.Error %d %s", err, tt.status, tt.code)
			}
			if n := r.attempts(); n != tt.attempts {
				t.Errorf("%d attempts, want %d", n, tt.attempts)
			}
		})
	}
}

func invoke(c *client.Client) error {
	_, _, err := c.Invoke(context.Background(), "f", []byte("x"))
	return err
}

func invokeAsync(key string) func(*client.Client) error {
	return func(c *client.Client) error {
		_, err := c.InvokeAsync(context.Background(), "f", []byte("x"), key, "")
		return err
	}
}

func deploy(c *client.Client) error {
	_, err := c.Deploy(context.Background(), "f", []byte("\x00asm"), nil)
	return err
}

func createKey(c *client.Client) error {
	_, err := c.CreateKey(context.Background(), client.KeyRequest{Name: "k", Scopes: []string{client.ScopeRead}, Namespace: "default"})
	return err
}

func get(c *client.Client) error {
	_, err := c.Get(context.Background(), "f")
	return err
}

func del(c *client.Client) error { return c.Delete(context.Background(), "f") }

func putSecret(c *client.Client) error {
	_, _, err := c.PutSecret(context.Background(), "s", []byte("v"))
	return err
}

func deleteTrigger(c *client.Client) error {
	_, err := c.DeleteTrigger(context.Background(), "f", 1)
	return err
}

// TestRetryWaitCanceled: cancelling the context while the client waits
// out a Retry-After ends the call at once with the context's error.
func TestRetryWaitCanceled(t *testing.T) {
	r := newRefusing(t, http.StatusTooManyRequests, "overloaded", fixed("3600"), 100, "")
	c := client.New(r.srv.URL)
	c.MaxRetryWait = 2 * time.Hour
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	errc := make(chan error, 1)
	go func() {
		_, _, err := c.Invoke(ctx, "f", nil)
		errc <- err
	}()
	<-r.arrived // the first attempt was answered 429: the client waits an hour
	cancel()
	select {
	case err := <-errc:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("error %v, want context.Canceled", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Invoke still waiting 30s after its context was cancelled")
	}
	if n := r.attempts(); n != 1 {
		t.Errorf("%d attempts, want 1", n)
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 12, 4, 18, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"120", 120 * time.Second, true},
		{" 3 ", 3 * time.Second, true},
		{"0", 0, true},
		{"Fri, 04 Dec 2026 18:00:30 GMT", 30 * time.Second, true},
		{"Friday, 04-Dec-26 18:01:00 GMT", time.Minute, true}, // RFC 850
		{"Fri Dec  4 18:00:05 2026", 5 * time.Second, true},   // asctime
		{"Fri, 04 Dec 2026 17:00:00 GMT", 0, true},            // past
		{"99999999999999999999999", 100 * 365 * 24 * time.Hour, true},
		{"", 0, false},
		{"-1", 0, false},
		{"1.5", 0, false},
		{"12s", 0, false},
		{"tomorrow", 0, false},
	} {
		got, ok := client.ParseRetryAfter(tt.in, now)
		if got != tt.want || ok != tt.ok {
			t.Errorf("ParseRetryAfter(%q) = %v, %t; want %v, %t", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func FuzzParseRetryAfter(f *testing.F) {
	for _, s := range []string{"120", "0", " 7", "Fri, 04 Dec 2026 18:00:30 GMT", "Friday, 04-Dec-26 18:01:00 GMT", "Fri Dec  4 18:00:05 2026", "-1", "1e3", "99999999999999999999999", ""} {
		f.Add(s)
	}
	now := time.Date(2026, 12, 4, 18, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, s string) {
		d, ok := client.ParseRetryAfter(s, now)
		if d < 0 || d > 100*365*24*time.Hour {
			t.Fatalf("ParseRetryAfter(%q) = %v: out of range", s, d)
		}
		if !ok && d != 0 {
			t.Fatalf("ParseRetryAfter(%q) = %v, false: a wait with no value", s, d)
		}
		if n, err := strconv.ParseUint(strings.TrimSpace(s), 10, 32); err == nil && !strings.HasPrefix(strings.TrimSpace(s), "+") {
			if want := min(time.Duration(n)*time.Second, 100*365*24*time.Hour); !ok || d != want {
				t.Fatalf("ParseRetryAfter(%q) = %v, %t; want %ds", s, d, ok, n)
			}
		}
	})
}
