package runner

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/experimental"
	"github.com/tetratelabs/wazero/sys"

	"github.com/hearthfn/hearth/internal/limits"
	"github.com/hearthfn/hearth/internal/wire"
)

// runCommand runs a WASI command module (the `_start` ABI) for one call: a
// fresh instance with the body on stdin, stdout as the output and stderr
// captured, the request described in CGI-style environment variables.
func (e *Engine) runCommand(c *call, stop context.CancelFunc) Result {
	res := Result{Cold: c.cold, Init: c.init, Interpreted: c.tier.interpreted}
	stdout := &limitedBuffer{limit: c.outputLimit, onOverflow: stop}
	stderr := &tailBuffer{limit: limits.StderrTailBytes}
	cfg := wazero.NewModuleConfig().
		WithName("").
		WithArgs(c.req.Function).
		WithStdin(bytes.NewReader(c.body)).
		WithStdout(stdout).
		WithStderr(stderr).
		WithSysWalltime().
		WithSysNanotime().
		WithSysNanosleep().
		WithRandSource(randSource)
	for _, kv := range commandEnv(c.req, len(c.body)) {
		cfg = cfg.WithEnv(kv[0], kv[1])
	}

	start := time.Now()
	ctx := experimental.WithMemoryAllocator(c.ctx, &e.memories) // a recycled, zeroed memory
	mod, err := c.tier.rt.InstantiateModule(ctx, c.tier.compiled, cfg)
	res.Run = time.Since(start)
	if mod != nil {
		_ = mod.Close(context.Background())
	}
	res.Stderr = stderr.String()
	switch {
	case stdout.overflowed:
		res.Err = &wire.Error{Code: wire.CodeOutputTooLarge,
			Message: fmt.Sprintf("function wrote more than %d bytes to stdout", c.outputLimit)}
	case err != nil:
		res.Err = callError(err, c.timeout)
	}
	if res.Err == nil {
		cgi := ParseCGI(stdout.buf.Bytes())
		res.Response = &cgi
	}
	return res
}

// callError turns what wazero returned into the error a caller sees.
func callError(err error, timeout time.Duration) *wire.Error {
	var exit *sys.ExitError
	if errors.As(err, &exit) {
		switch exit.ExitCode() {
		case 0:
			return nil
		case sys.ExitCodeDeadlineExceeded:
			return &wire.Error{Code: wire.CodeTimeout, Message: fmt.Sprintf("function did not finish within its timeout of %s", timeout)}
		case sys.ExitCodeContextCanceled:
			return &wire.Error{Code: wire.CodeFunctionFailed, Message: "invocation canceled"}
		default:
			return &wire.Error{Code: wire.CodeFunctionFailed, Message: fmt.Sprintf("function exited with code %d", exit.ExitCode())}
		}
	}
	return &wire.Error{Code: wire.CodeFunctionFailed, Message: "function trapped: " + firstLine(err.Error())}
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

// commandEnv is the environment of a command call: CGI/WAGI request
// variables, then the function's own env from its spec, which wins.
func commandEnv(req *wire.Request, bodyLen int) [][2]string {
	vars := map[string]string{
		"REQUEST_METHOD":       orDefault(req.Method, "POST"),
		"PATH_INFO":            orDefault(req.Path, "/"),
		"QUERY_STRING":         req.Query,
		"CONTENT_LENGTH":       strconv.Itoa(bodyLen),
		"SERVER_PROTOCOL":      "HTTP/1.1",
		"GATEWAY_INTERFACE":    "CGI/1.1",
		"HEARTH_FUNCTION":      req.Function,
		"HEARTH_INVOCATION_ID": req.InvocationID,
	}
	for name, values := range req.Headers {
		key := "HTTP_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
		if strings.EqualFold(name, "Content-Type") {
			key = "CONTENT_TYPE"
		}
		vars[key] = strings.Join(values, ", ")
	}
	for k, v := range req.Env {
		vars[k] = v
	}
	return sortedEnv(vars)
}

// sortedEnv lists env in name order, so instances see a stable order.
func sortedEnv(vars map[string]string) [][2]string {
	env := make([][2]string, 0, len(vars))
	for k, v := range vars {
		env = append(env, [2]string{k, v})
	}
	sort.Slice(env, func(i, j int) bool { return env[i][0] < env[j][0] })
	return env
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// limitedBuffer collects output up to limit bytes; past that it calls
// onOverflow (which stops the guest) and fails the write.
type limitedBuffer struct {
	buf        bytes.Buffer
	limit      int
	overflowed bool
	onOverflow func()
}

var errOutputTooLarge = errors.New("output limit reached")

func (b *limitedBuffer) Write(p []byte) (int, error) {
	if b.buf.Len()+len(p) > b.limit {
		if !b.overflowed {
			b.overflowed = true
			b.onOverflow()
		}
		return 0, errOutputTooLarge
	}
	return b.buf.Write(p)
}

// tailBuffer keeps the last limit bytes written to it.
type tailBuffer struct {
	buf   []byte
	limit int
}

func (b *tailBuffer) Write(p []byte) (int, error) {
	n := len(p)
	if len(p) >= b.limit {
		b.buf = append(b.buf[:0], p[len(p)-b.limit:]...)
		return n, nil
	}
	if over := len(b.buf) + len(p) - b.limit; over > 0 {
		b.buf = append(b.buf[:0], b.buf[over:]...)
	}
	b.buf = append(b.buf, p...)
	return n, nil
}

func (b *tailBuffer) String() string { return string(b.buf) }
