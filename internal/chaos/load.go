package chaos

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/time/rate"
)

// The test functions: the async load calls SlowEcho (a WASI command
// whose output is its input, after 25 ms: testdata/slowecho.wat), so that
// a runner killed mid-load has calls in flight; the sync load calls
// Reverse (the reactor of functions/reverse-c, microseconds per call),
// whose output is its input reversed.
const (
	SlowEcho = "slowecho"
	Reverse  = "reverse-c"
)

// Expected is the output Reverse gives for body.
func Expected(body string) string {
	b := []byte(body)
	for i, j := 0, len(b)-1; i < j; i, j = i+1, j-1 {
		b[i], b[j] = b[j], b[i]
	}
	return string(b)
}

// client talks to the gateways as a client behind a load balancer would:
// a request that could not connect to one gateway goes to the next.
type client struct {
	gateways []string
	key      string
	http     *http.Client
	next     atomic.Uint64
}

func newClient(gateways []string, key string, timeout time.Duration) *client {
	tr := &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 2 * time.Second}).DialContext,
		MaxIdleConnsPerHost: 64,
		IdleConnTimeout:     30 * time.Second,
	}
	return &client{gateways: gateways, key: key, http: &http.Client{Transport: tr, Timeout: timeout}}
}

// response is one answer, read whole.
type response struct {
	status int
	header http.Header
	body   []byte
}

// refused reports an error that means the request reached no gateway: it
// did not connect, so it cannot have been taken.
func refused(err error) bool {
	var op *net.OpError
	return errors.Is(err, syscall.ECONNREFUSED) || (errors.As(err, &op) && op.Op == "dial")
}

// do sends the request to the gateways in turn, starting with the next
// one, moving on only when a gateway refused the connection. It returns
// the gateway that answered.
func (c *client) do(ctx context.Context, method, path string, header http.Header, body []byte) (*response, string, error) {
	start := int(c.next.Add(1))
	var err error
	for i := range c.gateways {
		gw := c.gateways[(start+i)%len(c.gateways)]
		var req *http.Request
		req, err = http.NewRequestWithContext(ctx, method, gw+path, bytes.NewReader(body))
		if err != nil {
			return nil, gw, err
		}
		for k, v := range header {
			req.Header[k] = v
		}
		req.Header.Set("Authorization", "Bearer "+c.key)
		var resp *http.Response
		resp, err = c.http.Do(req)
		if err != nil {
			if refused(err) {
				continue
			}
			return nil, gw, err
		}
		b, rerr := io.ReadAll(resp.Body)
		resp.Body.Close()
		if rerr != nil {
			return nil, gw, fmt.Errorf("reading the answer: %w", rerr)
		}
		return &response{status: resp.StatusCode, header: resp.Header, body: b}, gw, nil
	}
	return nil, "", err
}

// submission is an async invocation the load generator sent.
type submission struct {
	Seq      int
	Key      string // Idempotency-Key
	Body     string
	ID       string // from the 202; "" if never accepted
	Tries    int
	Accepted time.Time
	LastErr  string
}

// asyncLoad submits n async invocations at r per second, each with a
// distinct body, an Idempotency-Key and the callback URL; a submission
// answered 503/502/504, or cut off, is sent again with the same key (so
// that it is one invocation however often it is sent) for up to patience.
func asyncLoad(ctx context.Context, c *client, run string, n int, r float64, callback string, patience time.Duration) []*submission {
	subs := make([]*submission, n)
	lim := rate.NewLimiter(rate.Limit(r), 1)
	sem := make(chan struct{}, 128)
	var wg sync.WaitGroup
	for i := range n {
		if err := lim.Wait(ctx); err != nil {
			subs = subs[:i]
			break
		}
		s := &submission{Seq: i, Key: fmt.Sprintf("%s-%06d", run, i), Body: fmt.Sprintf("%s/%06d/%x", run, i, time.Now().UnixNano())}
		subs[i] = s
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			submit(ctx, c, s, callback, patience)
		}()
	}
	wg.Wait()
	return subs
}

func submit(ctx context.Context, c *client, s *submission, callback string, patience time.Duration) {
	h := http.Header{}
	h.Set("Content-Type", "text/plain")
	h.Set("Prefer", "respond-async")
	h.Set("Idempotency-Key", s.Key)
	h.Set("Hearth-Callback-Url", callback)
	deadline := time.Now().Add(patience)
	backoff := 100 * time.Millisecond
	for {
		s.Tries++
		resp, _, err := c.do(ctx, http.MethodPost, "/v1/functions/"+SlowEcho+"/invoke", h, []byte(s.Body))
		switch {
		case err != nil:
			s.LastErr = err.Error()
		case resp.status == http.StatusAccepted:
			var a struct{ ID string }
			if json.Unmarshal(resp.body, &a) == nil && a.ID != "" {
				s.ID, s.Accepted = a.ID, time.Now()
				return
			}
			s.LastErr = "202 without an id: " + string(resp.body)
		case resp.status == http.StatusTooManyRequests || resp.status >= 500:
			s.LastErr = fmt.Sprintf("%d %s", resp.status, bytes.TrimSpace(resp.body))
		default:
			s.LastErr = fmt.Sprintf("%d %s", resp.status, bytes.TrimSpace(resp.body))
			return // refused for good: not accepted
		}
		if time.Now().Add(backoff).After(deadline) || ctx.Err() != nil {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 2*time.Second)
	}
}

// syncStats counts the sync calls' outcomes.
type syncStats struct {
	mu       sync.Mutex
	ok       int
	errors   map[string]int // by status, or by kind for a transport error
	bad      map[string]int // outside the contract: 500, wrong output, past the timeout
	examples []string
}

func (s *syncStats) count(kind string, bad bool, example string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if bad {
		s.bad[kind]++
		if len(s.examples) < 20 {
			s.examples = append(s.examples, example)
		}
		return
	}
	s.errors[kind]++
}

// syncLoad calls Function synchronously at r per second with workers
// calls at most in flight until ctx ends. A call must succeed with the
// right output, or fail with 429, 502, 503 or 504, within limit.
func syncLoad(ctx context.Context, c *client, run string, r float64, workers int, limit time.Duration) *syncStats {
	st := &syncStats{errors: map[string]int{}, bad: map[string]int{}}
	lim := rate.NewLimiter(rate.Limit(r), 1)
	var seq atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for lim.Wait(ctx) == nil {
				n := seq.Add(1)
				body := fmt.Sprintf("%s/sync/%07d", run, n)
				syncCall(c, body, limit, st)
			}
		}()
	}
	wg.Wait()
	return st
}

func syncCall(c *client, body string, limit time.Duration, st *syncStats) {
	// Its own context: the load's end does not cut a call short.
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	h := http.Header{}
	h.Set("Content-Type", "text/plain")
	began := time.Now()
	resp, gw, err := c.do(ctx, http.MethodPost, "/v1/functions/"+Reverse+"/invoke", h, []byte(body))
	took := time.Since(began)
	switch {
	case err != nil && errors.Is(err, context.DeadlineExceeded):
		st.count("hang", true, fmt.Sprintf("%s: no answer in %s", gw, limit))
	case err != nil && refused(err):
		st.count("no_gateway", true, fmt.Sprintf("every gateway refused the connection: %v", err))
	case err != nil:
		st.count("transport", true, fmt.Sprintf("%s after %s: %v", gw, took.Round(time.Millisecond), err))
	case resp.status == http.StatusOK && string(resp.body) == Expected(body):
		st.mu.Lock()
		st.ok++
		st.mu.Unlock()
	case resp.status == http.StatusOK:
		st.count("wrong_output", true, fmt.Sprintf("%s: %q for %q", gw, resp.body, body))
	case resp.status == 429 || resp.status == 502 || resp.status == 503 || resp.status == 504:
		st.count(strconv.Itoa(resp.status), false, "")
	default:
		st.count(strconv.Itoa(resp.status), true, fmt.Sprintf("%s: %d %s", gw, resp.status, bytes.TrimSpace(resp.body)))
	}
}

// callbacks receives the async results' callbacks.
type callbacks struct {
	mu   sync.Mutex
	got  map[string][]delivery // by invocation id
	srv  *http.Server
	addr string
}

type delivery struct {
	status string // Hearth-Status
	body   string
}

func startCallbacks() (*callbacks, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	cb := &callbacks{got: map[string][]delivery{}, addr: l.Addr().String()}
	cb.srv = &http.Server{Handler: cb, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = cb.srv.Serve(l) }()
	return cb, nil
}

func (cb *callbacks) URL() string { return "http://" + cb.addr + "/callback" }

func (cb *callbacks) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	id := r.Header.Get("Hearth-Invocation-Id")
	cb.mu.Lock()
	cb.got[id] = append(cb.got[id], delivery{status: r.Header.Get("Hearth-Status"), body: string(b)})
	cb.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

func (cb *callbacks) deliveries(id string) []delivery {
	cb.mu.Lock()
	defer cb.mu.Unlock()
	return append([]delivery(nil), cb.got[id]...)
}

func (cb *callbacks) close() { _ = cb.srv.Close() }
