package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/hearthfn/hearth/sdk/client"
)

// invokeFlags are the flags of `hearth invoke`.
type invokeFlags struct {
	data        string
	verbose     bool
	async       bool
	wait        bool
	idempotency string
	method      string
	path        string
	headers     []string
	query       []string
	contentType string
	callback    string
	timeout     time.Duration
	output      string // a file for the result; "" or "-": stdout
}

func newInvokeCmd(a *app) *cobra.Command {
	var (
		cf clientFlags
		f  invokeFlags
	)
	cmd := &cobra.Command{
		Use:   "invoke NAME [--data DATA | --data @FILE | < input]",
		Short: "Call a function, synchronously or queued",
		Long: `Invoke calls the function NAME (NAME@VERSION, NAME:ALIAS) with an input and
prints its output. The input is --data, the file --data @FILE, or stdin when
it is not a terminal.

The call goes to POST /v1/functions/NAME/invoke; with -X METHOD (other than
POST) or --path it goes through the HTTP passthrough, /fn/NAME/PATH, where
the function sees the method and path and its CGI headers shape the answer.
Headers (-H) and query parameters (--query) reach the function on both.

--async queues the call and prints its id; --wait queues it and waits for
its result; --callback URL has the gateway POST the result there.`,
		Example: `  hearth invoke hello --data world
  echo world | hearth invoke hello
  hearth invoke hello:prod --data @input.json --content-type application/json -v
  hearth invoke api -X GET --path /users/42 --query verbose=1 -H 'Accept: text/html'
  hearth invoke resize --data @big.png --async --callback https://example.com/done
  hearth invoke report --wait --timeout 2m
  hearth invoke thumbnail --data @photo.png --output thumb.png`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usagef("want one function NAME, e.g. `hearth invoke hello --data world`")
			}
			req, err := f.request()
			if err != nil {
				return err
			}
			if err := checkOutputFile(f.output); err != nil {
				return err
			}
			emit := func(out []byte) error { return writeOutput(a.stdout, f.output, out) }
			input, err := readInput(f.data, cmd.Flags().Changed("data"))
			if err != nil {
				return err
			}
			cf.progress = true
			cl, err := cf.client()
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			if f.timeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, f.timeout)
				defer cancel()
			}
			resp, out, err := req.do(ctx, cl, args[0], input)
			if f.verbose && resp != nil {
				fmt.Fprintf(a.stderr, "invocation %s cold=%t timing: %s\n", resp.Header.Get("Hearth-Invocation-Id"),
					resp.Header.Get("Hearth-Cold-Start") == "true", resp.Header.Get("Server-Timing"))
				if req.passthrough {
					fmt.Fprintf(a.stderr, "HTTP %s, Content-Type %s\n", resp.Status, resp.Header.Get("Content-Type"))
				}
			}
			if err != nil {
				var failed *functionFailedError
				if errors.As(err, &failed) {
					_ = emit(out) // the function's own answer
					return err
				}
				if errors.Is(err, context.DeadlineExceeded) && f.timeout > 0 {
					return fmt.Errorf("no answer within --timeout %s: %w", f.timeout, err)
				}
				return cf.explain(err)
			}
			if !req.async {
				return emit(out)
			}
			id := string(out)
			if !f.wait {
				fmt.Fprintln(a.stdout, id)
				return nil
			}
			out, err = waitResult(ctx, cl, id, a.stderr)
			if err != nil {
				var failed *functionFailedError
				if errors.As(err, &failed) || errors.Is(err, context.DeadlineExceeded) {
					return err
				}
				return cf.explain(err)
			}
			return emit(out)
		},
	}
	clientCmd(a, cmd, &cf, true)
	fs := cmd.Flags()
	fs.StringVarP(&f.data, "data", "d", "", "input: a string, or @FILE to read a file; default stdin when it is not a terminal")
	fs.BoolVarP(&f.verbose, "verbose", "v", false, "print the invocation id, cold start and timings to stderr")
	fs.BoolVar(&f.async, "async", false, "queue the call and print its id instead of waiting")
	fs.BoolVar(&f.wait, "wait", false, "queue the call, wait for it to finish and print its result (progress on stderr)")
	fs.StringVar(&f.idempotency, "idempotency-key", "", "with --async: a key that makes retried submissions count once")
	fs.StringVarP(&f.method, "method", "X", "", "HTTP method; other than POST, the call goes through /fn/NAME (the passthrough)")
	fs.StringVar(&f.path, "path", "", "call /fn/NAME/PATH (the passthrough) with this path, e.g. /users/42")
	fs.StringArrayVarP(&f.headers, "header", "H", nil, `request header "NAME: VALUE" the function sees (repeatable)`)
	fs.StringArrayVar(&f.query, "query", nil, "query parameter KEY=VALUE the function sees (repeatable)")
	fs.StringVar(&f.contentType, "content-type", "", "the input's Content-Type (default application/octet-stream)")
	fs.StringVar(&f.callback, "callback", "", "queue the call (as --async) and have the gateway POST its result to this URL")
	fs.StringVar(&f.output, "output", "", "write the result to this `FILE` (binary-safe; - for stdout) instead of stdout")
	fs.DurationVar(&f.timeout, "timeout", 0, "give up after this long, with exit code 5 (default: no limit of the CLI's own)")
	_ = cmd.RegisterFlagCompletionFunc("method", cobra.FixedCompletions([]cobra.Completion{"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"}, cobra.ShellCompDirectiveNoFileComp))
	fs.SetNormalizeFunc(renamedFlags(map[string]string{"v": "verbose"}))
	return cmd
}

// invokeRequest is how a call goes to the gateway.
type invokeRequest struct {
	passthrough bool // /fn/NAME/PATH instead of /v1/functions/NAME/invoke
	method      string
	path        string
	query       url.Values
	header      http.Header
	async       bool
	idempotency string
	callback    string
}

// request checks the flags and makes the request they ask for.
func (f *invokeFlags) request() (*invokeRequest, error) {
	r := &invokeRequest{method: http.MethodPost, path: f.path, query: url.Values{}, header: http.Header{},
		async: f.async || f.wait || f.callback != "", idempotency: f.idempotency, callback: f.callback}
	if f.method != "" {
		m := strings.ToUpper(f.method)
		if strings.ContainsAny(m, " \t/:()<>@,;\\\"[]?={}") {
			return nil, usagef("-X %q is not an HTTP method; use GET, POST, PUT, PATCH, DELETE …", f.method)
		}
		r.method = m
	}
	r.passthrough = r.method != http.MethodPost || f.path != ""
	if r.passthrough {
		if r.async {
			return nil, usagef("--async, --wait and --callback queue calls through POST /v1/functions/NAME/invoke; they do not go with -X %s or --path (the passthrough answers at once)", r.method)
		}
		if r.path == "" {
			r.path = "/"
		}
		if !strings.HasPrefix(r.path, "/") {
			r.path = "/" + r.path
		}
		if strings.ContainsAny(r.path, "?#") {
			return nil, usagef("--path %q: give the query with --query KEY=VALUE, not in the path", f.path)
		}
	}
	if f.idempotency != "" && !r.async {
		return nil, usagef("--idempotency-key goes with --async (or --wait, --callback): only queued calls are deduplicated")
	}
	if f.callback != "" {
		u, err := url.Parse(f.callback)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, usagef("--callback %q: give an absolute http(s) URL", f.callback)
		}
	}
	for _, h := range f.headers {
		name, value, ok := strings.Cut(h, ":")
		name = strings.TrimSpace(name)
		if !ok || name == "" || strings.ContainsAny(name, " \t") {
			return nil, usagef(`-H %q: give "NAME: VALUE", e.g. -H 'Accept: text/html'`, h)
		}
		r.header.Add(name, strings.TrimSpace(value))
	}
	if f.contentType != "" {
		r.header.Set("Content-Type", f.contentType)
	}
	for _, q := range f.query {
		k, v, _ := strings.Cut(q, "=")
		if k == "" {
			return nil, usagef("--query %q: give KEY=VALUE, e.g. --query page=2", q)
		}
		r.query.Add(k, v)
	}
	return r, nil
}

// do sends the call. A sync call returns its output; an async one the
// invocation id; a passthrough call whose function answered an error
// status returns its body with a *functionFailedError.
func (r *invokeRequest) do(ctx context.Context, cl *client.Client, name string, input []byte) (*http.Response, []byte, error) {
	route := "/v1/functions/" + url.PathEscape(name) + "/invoke"
	if r.passthrough {
		route = "/fn/" + url.PathEscape(name) + r.path
	}
	u := cl.BaseURL + route
	if len(r.query) > 0 {
		u += "?" + r.query.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, r.method, u, bytes.NewReader(input))
	if err != nil {
		return nil, nil, usagef("%v", err)
	}
	if !r.passthrough || len(input) > 0 {
		req.Header.Set("Content-Type", "application/octet-stream")
	}
	for k, vs := range r.header {
		req.Header[k] = vs
	}
	if cl.Namespace != "" {
		req.Header.Set("Hearth-Namespace", cl.Namespace)
	}
	if cl.APIKey != "" && req.Header.Get("Authorization") == "" {
		req.Header.Set("Authorization", "Bearer "+cl.APIKey)
	}
	if r.async {
		req.Header.Set("Prefer", "respond-async")
		if r.idempotency != "" {
			req.Header.Set("Idempotency-Key", r.idempotency)
		}
		if r.callback != "" {
			req.Header.Set("Hearth-Callback-Url", r.callback)
		}
	}
	hc := cl.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, nil, fmt.Errorf("invoke %s: %w", name, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp, nil, fmt.Errorf("read the answer of %s: %w", name, err)
	}
	switch {
	case r.async && resp.StatusCode == http.StatusAccepted:
		var out struct {
			ID string `json:"id"`
		}
		if err := json.Unmarshal(body, &out); err != nil || out.ID == "" {
			return resp, nil, fmt.Errorf("the gateway accepted the call but sent no invocation id: %q", body)
		}
		return resp, []byte(out.ID), nil
	case !r.async && !r.passthrough && resp.StatusCode == http.StatusOK:
		return resp, body, nil
	case r.passthrough && resp.StatusCode < 400:
		return resp, body, nil
	}
	if apiErr := decodeAPIError(resp.StatusCode, body); apiErr != nil {
		return resp, nil, apiErr
	}
	if r.passthrough {
		return resp, body, &functionFailedError{msg: fmt.Sprintf("%s answered HTTP %s", name, resp.Status), status: resp.StatusCode}
	}
	return resp, nil, &client.Error{Status: resp.StatusCode, Code: "http_" + strconv.Itoa(resp.StatusCode), Message: strings.TrimSpace(string(body))}
}

// decodeAPIError reads the API's error shape, nil when body is not one.
func decodeAPIError(status int, body []byte) *client.Error {
	var e struct {
		Error client.Error `json:"error"`
	}
	if err := json.Unmarshal(body, &e); err != nil || e.Error.Code == "" {
		return nil
	}
	e.Error.Status = status
	return &e.Error
}

// waitResult waits for the async invocation id to finish, showing its
// status on w, and returns its output; a failed or dead invocation is a
// *functionFailedError.
func waitResult(ctx context.Context, cl *client.Client, id string, w io.Writer) ([]byte, error) {
	p := newProgress(w, "invocation "+id, 0)
	defer p.done()
	delay := 50 * time.Millisecond
	timer := time.NewTimer(0)
	defer timer.Stop()
	status := "queued"
	for {
		select {
		case <-ctx.Done():
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return nil, fmt.Errorf("gave up waiting for invocation %s, %s; follow it with `hearth invocation %s`: %w", id, status, id, ctx.Err())
			}
			return nil, ctx.Err()
		case <-timer.C:
		}
		inv, err := cl.Invocation(ctx, id)
		if err != nil {
			if ctx.Err() != nil {
				continue // reported above
			}
			return nil, err
		}
		status = inv.Status
		switch status {
		case "succeeded":
			p.finish(status)
			return cl.Result(ctx, id)
		case "failed", "dead":
			p.finish(status)
			msg := fmt.Sprintf("invocation %s %s after %d attempt(s)", id, status, inv.Attempts)
			code := ""
			if inv.Error != nil {
				code = inv.Error.Code
				msg += ": " + inv.Error.Code + ": " + inv.Error.Message
			}
			return nil, &functionFailedError{msg: msg + "\n(its logs: hearth invocation " + id + "; hearth logs " + inv.Function + ")", errCode: code}
		}
		p.set(0, status)
		timer.Reset(delay)
		delay = min(delay*2, time.Second)
	}
}

// readInput is the invocation input: --data, --data @file, or piped stdin.
func readInput(data string, dataSet bool) ([]byte, error) {
	switch {
	case strings.HasPrefix(data, "@"):
		b, err := os.ReadFile(data[1:])
		if err != nil {
			return nil, fmt.Errorf("read input: %w", err)
		}
		return b, nil
	case dataSet:
		return []byte(data), nil
	}
	if fi, err := os.Stdin.Stat(); err == nil && fi.Mode()&os.ModeCharDevice == 0 {
		b, err := io.ReadAll(os.Stdin)
		if err != nil {
			return nil, fmt.Errorf("read stdin: %w", err)
		}
		return b, nil
	}
	return nil, nil
}

// checkOutputFile refuses, before the call, an --output that cannot be
// written: a directory, or a file in a folder that does not exist.
func checkOutputFile(path string) error {
	if path == "" || path == "-" {
		return nil
	}
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		return usagef("--output %s is a directory; give a file name, e.g. %s", path, filepath.Join(path, "result.out"))
	}
	dir := filepath.Dir(path)
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return usagef("--output %s: the folder %s does not exist; create it first or give another path", path, dir)
	}
	return nil
}

// writeOutput writes a result to stdout, or to the file path through a
// temporary file renamed over it, so that a failed write never leaves
// half a result.
func writeOutput(stdout io.Writer, path string, out []byte) error {
	if path == "" || path == "-" {
		_, err := stdout.Write(out)
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".hearth-output-*")
	if err != nil {
		return fmt.Errorf("--output %s: %w", path, err)
	}
	if _, err := tmp.Write(out); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return fmt.Errorf("--output %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("--output %s: %w", path, err)
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("--output %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("--output %s: %w", path, err)
	}
	return nil
}
