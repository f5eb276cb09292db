package client

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// The retry defaults New sets (Client.MaxRetries, Client.MaxRetryWait).
const (
	DefaultMaxRetries   = 3
	DefaultMaxRetryWait = 30 * time.Second
)

// retryBackoff is the first wait before a resend when the answer has no
// Retry-After; it doubles on each attempt, up to the client's
// MaxRetryWait.
const retryBackoff = 250 * time.Millisecond

// resend says which answers of a request may be sent again.
type resend int

const (
	// resendRefused: only 429, which the gateway answers before it acts
	// on a request (rate_limited, overloaded, concurrency_limit). For
	// requests that are not idempotent: a deploy, a key's creation.
	resendRefused resend = iota
	// resendIdempotent: 429 and 503. GET, HEAD, DELETE, and PUTs that set
	// a value (a secret, an alias), whose second time does what the first
	// did.
	resendIdempotent
	// resendInvoke: 429, and 503 unless its code is runner_lost (the call
	// may have run partly); every other 503 of an invocation (no_runners,
	// draining, module_unavailable, storage_unavailable) is answered
	// before the function ran.
	resendInvoke
)

// resendFor is the default for a request's method.
func resendFor(method string) resend {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodDelete, http.MethodOptions:
		return resendIdempotent
	}
	return resendRefused
}

// retryWait is how long to wait before resending after resp, and whether
// to resend at all: when the request may be resent (how), it can be
// (a body that GetBody can make again), the attempts left (attempt counts
// from 0) and the wait is within the client's cap. raw is the error body
// of a 503 of an invocation, read to see its code.
func (c *Client) retryWait(req *http.Request, resp *http.Response, how resend, attempt int, raw []byte) (time.Duration, bool) {
	if attempt >= c.MaxRetries {
		return 0, false
	}
	switch resp.StatusCode {
	case http.StatusTooManyRequests:
	case http.StatusServiceUnavailable:
		switch how {
		case resendRefused:
			return 0, false
		case resendInvoke:
			var body struct {
				Error struct {
					Code string `json:"code"`
				} `json:"error"`
			}
			if json.Unmarshal(raw, &body) == nil && body.Error.Code == codeRunnerLost {
				return 0, false
			}
		}
	default:
		return 0, false
	}
	if req.Body != nil && req.Body != http.NoBody && req.GetBody == nil {
		return 0, false // the body cannot be sent again
	}
	wait, ok := ParseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
	if !ok {
		wait = retryBackoff << min(attempt, 16)
	}
	if wait > c.maxRetryWait() {
		return 0, false // later than the caller would wait: the answer is the error
	}
	return wait, true
}

// codeRunnerLost is the API's code of a call whose runner stopped
// answering while it ran.
const codeRunnerLost = "runner_lost"

func (c *Client) maxRetryWait() time.Duration {
	if c.MaxRetryWait > 0 {
		return c.MaxRetryWait
	}
	return DefaultMaxRetryWait
}

// roundTrip sends req, and sends it again, at most MaxRetries times, while
// the gateway answers 429 or 503 that how allows to resend, waiting as its
// Retry-After says (or backing off when it says nothing). It stops
// waiting when req's context is done. The last answer is returned.
func (c *Client) roundTrip(req *http.Request, how resend) (*http.Response, error) {
	hc := c.httpClient()
	for attempt := 0; ; attempt++ {
		resp, err := hc.Do(req)
		if err != nil {
			return nil, err
		}
		if resp.StatusCode != http.StatusTooManyRequests && resp.StatusCode != http.StatusServiceUnavailable {
			return resp, nil
		}
		var raw []byte
		if resp.StatusCode == http.StatusServiceUnavailable && how == resendInvoke && attempt < c.MaxRetries {
			raw, _ = io.ReadAll(io.LimitReader(resp.Body, 1<<20))
			resp.Body.Close()
			resp.Body = io.NopCloser(bytes.NewReader(raw))
		}
		wait, again := c.retryWait(req, resp, how, attempt, raw)
		if !again {
			return resp, nil
		}
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20)) // so the connection is reused
		resp.Body.Close()
		if err := sleepCtx(req.Context(), wait); err != nil {
			return nil, fmt.Errorf("waiting %s to send again after HTTP %d: %w", wait, resp.StatusCode, err)
		}
		if req.GetBody != nil {
			body, err := req.GetBody()
			if err != nil {
				return nil, err
			}
			next := req.Clone(req.Context())
			next.Body = body
			req = next
		}
	}
}

// sleepCtx waits d, or until ctx is done (its error).
func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// maxRetryAfter bounds what ParseRetryAfter returns, so that a huge
// number of seconds does not overflow a Duration.
const maxRetryAfter = 100 * 365 * 24 * time.Hour

// ParseRetryAfter reads a Retry-After header (RFC 9110, 10.2.3): a number
// of seconds ("120") or an HTTP-date ("Fri, 04 Dec 2026 18:00:00 GMT"),
// from now. A date in the past is 0. ok is false when v is neither.
func ParseRetryAfter(v string, now time.Time) (d time.Duration, ok bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if v[0] >= '0' && v[0] <= '9' {
		for i := 0; i < len(v); i++ {
			if v[i] < '0' || v[i] > '9' {
				return 0, false
			}
		}
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil || n > uint64(maxRetryAfter/time.Second) {
			return maxRetryAfter, true // digits only, too many of them
		}
		return time.Duration(n) * time.Second, true
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	d = t.Sub(now)
	if d < 0 {
		return 0, true
	}
	return min(d, maxRetryAfter), true
}
