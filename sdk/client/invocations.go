package client

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// Invocation is an invocation record (GET /v1/invocations/{id}).
type Invocation struct {
	ID         string     `json:"id"`
	Namespace  string     `json:"namespace"`
	Function   string     `json:"function"`
	Version    int        `json:"version"`
	Mode       string     `json:"mode"`
	Status     string     `json:"status"`
	Attempts   int        `json:"attempts"`
	QueuedAt   time.Time  `json:"queued_at"`
	StartedAt  *time.Time `json:"started_at,omitempty"`
	FinishedAt *time.Time `json:"finished_at,omitempty"`
	Timings    struct {
		QueuedMs float64 `json:"queued_ms"`
		WaitMs   float64 `json:"wait_ms"`
		InitMs   float64 `json:"init_ms"`
		RunMs    float64 `json:"run_ms"`
	} `json:"timings"`
	Cold       bool   `json:"cold"`
	Runner     string `json:"runner,omitempty"`
	Placement  string `json:"placement,omitempty"`
	StatusCode int    `json:"status_code,omitempty"`
	Error      *Error `json:"error,omitempty"`
	Logs       *struct {
		Size int `json:"size"`
	} `json:"logs,omitempty"`
}

// InvokeAsync queues an invocation and returns its id. A non-empty
// idempotencyKey makes retried submissions count once; callbackURL, if set,
// gets the result POSTed.
func (c *Client) InvokeAsync(ctx context.Context, name string, input []byte, idempotencyKey, callbackURL string) (string, error) {
	req, err := c.request(ctx, http.MethodPost, "/v1/functions/"+url.PathEscape(name)+"/invoke", "application/octet-stream", bytesReader(input))
	if err != nil {
		return "", err
	}
	req.Header.Set("Prefer", "respond-async")
	how := resendInvoke
	if idempotencyKey != "" {
		req.Header.Set("Idempotency-Key", idempotencyKey)
		how = resendIdempotent // the gateway counts the submissions once
	}
	if callbackURL != "" {
		req.Header.Set("Hearth-Callback-Url", callbackURL)
	}
	var out struct {
		ID string `json:"id"`
	}
	if err := c.send(req, how, http.StatusAccepted, &out); err != nil {
		return "", err
	}
	return out.ID, nil
}

// Invocation reads an invocation record.
func (c *Client) Invocation(ctx context.Context, id string) (*Invocation, error) {
	var out Invocation
	err := c.do(ctx, http.MethodGet, "/v1/invocations/"+url.PathEscape(id), "", nil, http.StatusOK, &out)
	return &out, err
}

// Result reads the stored output of a finished async invocation.
func (c *Client) Result(ctx context.Context, id string) ([]byte, error) {
	return c.getBytes(ctx, "/v1/invocations/"+url.PathEscape(id)+"/result")
}

// Logs reads the captured log of an invocation.
func (c *Client) Logs(ctx context.Context, id string) ([]byte, error) {
	return c.getBytes(ctx, "/v1/invocations/"+url.PathEscape(id)+"/logs")
}

// Invocations lists the newest invocations of a function, newest first.
func (c *Client) Invocations(ctx context.Context, name string, limit int) ([]Invocation, error) {
	var out struct {
		Invocations []Invocation `json:"invocations"`
	}
	err := c.do(ctx, http.MethodGet, "/v1/functions/"+url.PathEscape(name)+"/invocations?limit="+strconv.Itoa(limit), "", nil, http.StatusOK, &out)
	return out.Invocations, err
}

// DeadLetter is an async invocation that ran out of attempts.
type DeadLetter struct {
	ID        string    `json:"id"`
	Namespace string    `json:"namespace"`
	Function  string    `json:"function"`
	Attempts  int       `json:"attempts"`
	LastError string    `json:"last_error"`
	QueuedAt  time.Time `json:"queued_at"`
	DeadAt    time.Time `json:"dead_at"`
}

// DeadLetters lists the dead-letter queue, optionally of one function.
func (c *Client) DeadLetters(ctx context.Context, function string) ([]DeadLetter, error) {
	var out struct {
		DeadLetters []DeadLetter `json:"dead_letters"`
	}
	path := "/v1/dlq"
	if function != "" {
		path += "?function=" + url.QueryEscape(function)
	}
	err := c.do(ctx, http.MethodGet, path, "", nil, http.StatusOK, &out)
	return out.DeadLetters, err
}

// Replay queues a dead-lettered invocation again, with fresh attempts.
func (c *Client) Replay(ctx context.Context, id string) error {
	return c.do(ctx, http.MethodPost, "/v1/dlq/"+url.PathEscape(id)+"/replay", "", nil, http.StatusAccepted, nil)
}

func (c *Client) getBytes(ctx context.Context, path string) ([]byte, error) {
	req, err := c.request(ctx, http.MethodGet, path, "", nil)
	if err != nil {
		return nil, err
	}
	resp, err := c.roundTrip(req, resendIdempotent)
	if err != nil {
		return nil, fmt.Errorf("hearth: GET %s: %w", path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, decodeError(resp)
	}
	return io.ReadAll(resp.Body)
}

func bytesReader(b []byte) io.Reader { return bytes.NewReader(b) }

// send does a prepared request and decodes a JSON answer of status want.
func (c *Client) send(req *http.Request, how resend, want int, out any) error {
	resp, err := c.roundTrip(req, how)
	if err != nil {
		return fmt.Errorf("hearth: %s %s: %w", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != want {
		return decodeError(resp)
	}
	if out == nil {
		return nil
	}
	return json.NewDecoder(resp.Body).Decode(out)
}
