package client

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Client talks to one Hearth gateway.
type Client struct {
	BaseURL   string       // e.g. http://127.0.0.1:8080
	Namespace string       // "" means the default namespace
	APIKey    string       // sent as a bearer token when set
	HTTP      *http.Client // default http.DefaultClient

	// MaxRetries is how many times a request is sent again after the
	// gateway answered 429 (too many requests) or 503 (unavailable), when
	// it is safe to: 429 always (the gateway refuses before it acts),
	// 503 for GET, HEAD, DELETE, the PUT of a secret or an alias, and an
	// invocation unless its code is runner_lost. Each wait is what the
	// answer's Retry-After says (seconds or an HTTP-date), or a backoff
	// from 250 ms doubling when it says nothing; it ends early when the
	// request's context is done. 0 sends each request once; New sets
	// DefaultMaxRetries.
	MaxRetries int
	// MaxRetryWait caps one wait: an answer whose Retry-After is longer
	// is returned as the error at once. 0 means DefaultMaxRetryWait.
	MaxRetryWait time.Duration
}

// New returns a client for the gateway at baseURL that resends a refused
// request up to DefaultMaxRetries times (Client.MaxRetries).
func New(baseURL string) *Client {
	return &Client{BaseURL: strings.TrimSuffix(baseURL, "/"), MaxRetries: DefaultMaxRetries}
}

// Error is an error answered by the API.
type Error struct {
	Status  int    `json:"-"`
	Code    string `json:"code"`
	Message string `json:"message"`
	Stderr  string `json:"stderr,omitempty"`
}

func (e *Error) Error() string {
	return fmt.Sprintf("%s (HTTP %d): %s", e.Code, e.Status, e.Message)
}

// Spec is how a function runs; zero values mean the platform's defaults
// (docs/registry.md). The yaml names are those of hearth.yaml.
type Spec struct {
	Name        string            `json:"name,omitempty" yaml:"name"`
	Namespace   string            `json:"namespace,omitempty" yaml:"namespace"`
	Description string            `json:"description,omitempty" yaml:"description"`
	ABI         string            `json:"abi,omitempty" yaml:"abi"` // "command" or "reactor"; default detected
	MemoryMB    int               `json:"memory_mb,omitempty" yaml:"memory_mb"`
	TimeoutMs   int               `json:"timeout_ms,omitempty" yaml:"timeout_ms"`
	Concurrency int               `json:"concurrency,omitempty" yaml:"concurrency"`
	MaxPayload  int               `json:"max_payload,omitempty" yaml:"max_payload"` // bytes
	Records     string            `json:"records,omitempty" yaml:"records"`         // sync calls recorded: "all" (default), "errors" or "none"
	Env         map[string]string `json:"env,omitempty" yaml:"env"`
	Secrets     []string          `json:"secrets,omitempty" yaml:"secrets"`       // names of granted secrets
	RateLimit   *RateLimit        `json:"rate_limit,omitempty" yaml:"rate_limit"` // calls a second on each gateway
	Triggers    []Trigger         `json:"triggers,omitempty" yaml:"triggers"`
	Labels      map[string]string `json:"labels,omitempty" yaml:"labels"`
}

// Trigger is an event source that invokes a function: a NATS subject or a
// cron schedule.
type Trigger struct {
	Type     string            `json:"type" yaml:"type"` // "nats" or "cron"
	Subject  string            `json:"subject,omitempty" yaml:"subject"`
	Schedule string            `json:"schedule,omitempty" yaml:"schedule"`
	Options  map[string]string `json:"options,omitempty" yaml:"options"`
}

// Deployment is the answer to a deploy.
type Deployment struct {
	Name      string    `json:"name"`
	Namespace string    `json:"namespace"`
	Version   int       `json:"version"`
	Digest    string    `json:"digest"`
	ABI       string    `json:"abi"`
	CreatedAt time.Time `json:"created_at"`
	DryRun    bool      `json:"dry_run,omitempty"` // only checked, nothing stored
}

// Function is a deployed function as listed.
type Function struct {
	Name      string    `json:"name"`
	Namespace string    `json:"namespace"`
	Version   int       `json:"version"`
	Digest    string    `json:"digest"`
	ABI       string    `json:"abi"`
	UpdatedAt time.Time `json:"updated_at"`
	Spec      *Spec     `json:"spec,omitempty"`
	Versions  []Version `json:"versions,omitempty"`
	Aliases   []Alias   `json:"aliases,omitempty"`
	CreatedAt time.Time `json:"created_at,omitzero"`
}

// Version is one deploy of a function.
type Version struct {
	Version   int       `json:"version"`
	Digest    string    `json:"digest"`
	Size      int       `json:"size"`
	ABI       string    `json:"abi"`
	Spec      Spec      `json:"spec"`
	CreatedAt time.Time `json:"created_at"`
	Aliases   []string  `json:"aliases,omitempty"` // the aliases that name it
}

// Deploy uploads module as a new version of the function name. A nil spec
// deploys with the defaults.
func (c *Client) Deploy(ctx context.Context, name string, module []byte, spec *Spec) (*Deployment, error) {
	return c.deploy(ctx, name, module, spec, false, "")
}

// How a deploy warms the new version (DeployOptions.Warm): by default the
// gateway warms one instance on the function's home runner, waiting for
// it when the module is at most 4 MiB (docs/api.md).
const (
	WarmWait = "wait" // answer once an instance is warm, whatever the size
	WarmNone = "none" // answer at once; the instance is warmed right after
	WarmOff  = "off"  // do not warm: the first call is a cold start
)

// DeployOptions are a deploy's options beyond the spec.
type DeployOptions struct {
	Warm string // "" (the gateway's default), WarmWait, WarmNone or WarmOff
}

// DeployWith is Deploy with options.
func (c *Client) DeployWith(ctx context.Context, name string, module []byte, spec *Spec, opts DeployOptions) (*Deployment, error) {
	query := ""
	switch opts.Warm {
	case "":
	case WarmWait:
		query = "?wait=warm"
	case WarmNone:
		query = "?wait=none"
	case WarmOff:
		query = "?warm=false"
	default:
		return nil, fmt.Errorf("DeployOptions.Warm %q: use \"\", %q, %q or %q", opts.Warm, WarmWait, WarmNone, WarmOff)
	}
	return c.deploy(ctx, name, module, spec, false, query)
}

// CheckDeploy validates a deploy as Deploy would (the module compiles, its
// imports and ABI, the spec's values) without storing anything.
func (c *Client) CheckDeploy(ctx context.Context, name string, module []byte, spec *Spec) (*Deployment, error) {
	return c.deploy(ctx, name, module, spec, true, "")
}

func (c *Client) deploy(ctx context.Context, name string, module []byte, spec *Spec, dryRun bool, query string) (*Deployment, error) {
	var body io.Reader = bytes.NewReader(module)
	ctype := "application/wasm"
	if spec != nil {
		var buf bytes.Buffer
		mw := multipart.NewWriter(&buf)
		specJSON, err := json.Marshal(spec)
		if err != nil {
			return nil, err
		}
		if err := mw.WriteField("spec", string(specJSON)); err != nil {
			return nil, err
		}
		part, err := mw.CreateFormFile("module", name+".wasm")
		if err != nil {
			return nil, err
		}
		if _, err := part.Write(module); err != nil {
			return nil, err
		}
		if err := mw.Close(); err != nil {
			return nil, err
		}
		body, ctype = &buf, mw.FormDataContentType()
	}
	var out Deployment
	path, want := "/v1/functions/"+url.PathEscape(name)+query, http.StatusCreated
	if dryRun {
		path, want = path+"?dry_run=true", http.StatusOK
	}
	err := c.do(ctx, http.MethodPut, path, ctype, body, want, &out)
	return &out, err
}

// List returns every function of the client's namespace.
func (c *Client) List(ctx context.Context) ([]Function, error) {
	var all []Function
	page := ""
	for {
		var out struct {
			Functions []Function `json:"functions"`
			NextPage  string     `json:"next_page"`
		}
		path := "/v1/functions?limit=1000"
		if page != "" {
			path += "&page=" + url.QueryEscape(page)
		}
		if err := c.do(ctx, http.MethodGet, path, "", nil, http.StatusOK, &out); err != nil {
			return nil, err
		}
		all = append(all, out.Functions...)
		if out.NextPage == "" {
			return all, nil
		}
		page = out.NextPage
	}
}

// Get returns a function with its spec and versions.
func (c *Client) Get(ctx context.Context, name string) (*Function, error) {
	var out Function
	err := c.do(ctx, http.MethodGet, "/v1/functions/"+url.PathEscape(name), "", nil, http.StatusOK, &out)
	return &out, err
}

// Delete removes a function and all its versions.
func (c *Client) Delete(ctx context.Context, name string) error {
	return c.do(ctx, http.MethodDelete, "/v1/functions/"+url.PathEscape(name), "", nil, http.StatusNoContent, nil)
}

// InvokeInfo describes how an invocation ran.
type InvokeInfo struct {
	InvocationID string
	Cold         bool
	ServerTiming string
	ContentType  string
}

// Invoke calls a function synchronously with input and returns its output.
// name is NAME (the newest version), NAME@VERSION or NAME:ALIAS.
func (c *Client) Invoke(ctx context.Context, name string, input []byte) ([]byte, *InvokeInfo, error) {
	req, err := c.request(ctx, http.MethodPost, "/v1/functions/"+url.PathEscape(name)+"/invoke", "application/octet-stream", bytes.NewReader(input))
	if err != nil {
		return nil, nil, err
	}
	resp, err := c.roundTrip(req, resendInvoke)
	if err != nil {
		return nil, nil, fmt.Errorf("hearth: invoke %s: %w", name, err)
	}
	defer resp.Body.Close()
	info := &InvokeInfo{
		InvocationID: resp.Header.Get("Hearth-Invocation-Id"),
		Cold:         resp.Header.Get("Hearth-Cold-Start") == "true",
		ServerTiming: resp.Header.Get("Server-Timing"),
		ContentType:  resp.Header.Get("Content-Type"),
	}
	if resp.StatusCode != http.StatusOK {
		return nil, info, decodeError(resp)
	}
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, info, fmt.Errorf("hearth: read output of %s: %w", name, err)
	}
	return out, info, nil
}

func (c *Client) httpClient() *http.Client {
	if c.HTTP != nil {
		return c.HTTP
	}
	return http.DefaultClient
}

func (c *Client) request(ctx context.Context, method, path, ctype string, body io.Reader) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, method, c.BaseURL+path, body)
	if err != nil {
		return nil, fmt.Errorf("hearth: %w", err)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	if c.Namespace != "" {
		req.Header.Set("Hearth-Namespace", c.Namespace)
	}
	if c.APIKey != "" {
		req.Header.Set("Authorization", "Bearer "+c.APIKey)
	}
	return req, nil
}

func (c *Client) do(ctx context.Context, method, path, ctype string, body io.Reader, want int, out any) error {
	return c.doAs(ctx, resendFor(method), method, path, ctype, body, want, out)
}

// doAs is do with how the request may be resent.
func (c *Client) doAs(ctx context.Context, how resend, method, path, ctype string, body io.Reader, want int, out any) error {
	req, err := c.request(ctx, method, path, ctype, body)
	if err != nil {
		return err
	}
	resp, err := c.roundTrip(req, how)
	if err != nil {
		return fmt.Errorf("hearth: %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != want {
		return decodeError(resp)
	}
	if out == nil {
		return nil
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("hearth: decode answer of %s %s: %w", method, path, err)
	}
	return nil
}

func decodeError(resp *http.Response) error {
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	var body struct {
		Error Error `json:"error"`
	}
	if err := json.Unmarshal(raw, &body); err != nil || body.Error.Code == "" {
		return &Error{Status: resp.StatusCode, Code: "http_" + strconv.Itoa(resp.StatusCode), Message: strings.TrimSpace(string(raw))}
	}
	body.Error.Status = resp.StatusCode
	return &body.Error
}
