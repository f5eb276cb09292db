package gateway_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hearthfn/hearth/internal/stack/stacktest"
	"github.com/hearthfn/hearth/internal/testmodules"
	"github.com/hearthfn/hearth/internal/testutil"
)

// waitFor is a generous bound for calls that must end by themselves.
const waitFor = 30 * time.Second

func TestBadDeploys(t *testing.T) {
	s := stacktest.Dev(t, t.TempDir())
	base := s.GatewayURL
	tests := []struct {
		name, fn, ctype string
		body            []byte
		status          int
		code, mention   string
	}{
		{"not wasm", "junk", "application/wasm", []byte("#!/bin/sh\necho hi\n"), 400, "invalid_module", "not a WebAssembly module"},
		{"empty body", "junk", "application/wasm", nil, 400, "invalid_module", "not a WebAssembly module"},
		{"truncated wasm", "junk", "application/wasm", stacktest.ExampleWasm(t, "hello")[:100], 400, "invalid_module", "does not compile"},
		{"forbidden import", "sock", "application/wasm", testmodules.ForbiddenImport, 400, "invalid_module", "env.socket_open"},
		{"bad name", "Bad_Name", "application/wasm", stacktest.ExampleWasm(t, "hello"), 400, "invalid_name", "lowercase"},
		{"name too long", strings.Repeat("a", 64), "application/wasm", stacktest.ExampleWasm(t, "hello"), 400, "invalid_name", "63"},
		{"wrong content type", "x", "text/plain", stacktest.ExampleWasm(t, "hello"), 415, "unsupported_media_type", "application/wasm"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := stacktest.Call(t, http.MethodPut, base+"/v1/functions/"+tt.fn, tt.ctype, tt.body)
			stacktest.WantError(t, resp, body, tt.status, tt.code)
			if !strings.Contains(string(body), tt.mention) {
				t.Fatalf("error %s does not mention %q", body, tt.mention)
			}
		})
	}

	specs := []struct{ name, spec, mention string }{
		{"unknown field", `{"memory":128}`, "unknown field"},
		{"not json", `memory_mb=1`, "not valid JSON"},
		{"memory too big", `{"memory_mb":100000}`, "memory_mb"},
		{"negative timeout", `{"timeout_ms":-5}`, "timeout_ms"},
		{"bad env name", `{"env":{"1BAD":"x"}}`, "env name"},
		{"negative concurrency", `{"concurrency":-1}`, "concurrency"},
		{"trailing data", `{} {}`, "after its JSON"},
	}
	for _, tt := range specs {
		t.Run("spec "+tt.name, func(t *testing.T) {
			resp, body := stacktest.DeployWithSpec(t, base, "specced", stacktest.ExampleWasm(t, "hello"), tt.spec)
			stacktest.WantError(t, resp, body, 400, "invalid_spec")
			if !strings.Contains(string(body), tt.mention) {
				t.Fatalf("error %s does not mention %q", body, tt.mention)
			}
		})
	}
	t.Run("multipart without module", func(t *testing.T) {
		var buf bytes.Buffer
		mw := multipart.NewWriter(&buf)
		mw.WriteField("spec", `{}`)
		mw.Close()
		resp, body := stacktest.Call(t, http.MethodPut, base+"/v1/functions/x", mw.FormDataContentType(), buf.Bytes())
		stacktest.WantError(t, resp, body, 400, "invalid_module")
	})
	// No bad deploy left anything behind.
	resp, body := stacktest.Call(t, http.MethodGet, base+"/v1/functions/junk", "", nil)
	stacktest.WantError(t, resp, body, 404, "function_not_found")
}

func TestBadRequests(t *testing.T) {
	s := stacktest.Dev(t, t.TempDir())
	base := s.GatewayURL
	tests := []struct {
		name, method, path string
		body               []byte
		status             int
		code               string
	}{
		{"unknown function", "POST", "/v1/functions/nope/invoke", nil, 404, "function_not_found"},
		{"unknown function passthrough", "GET", "/fn/nope/x", nil, 404, "function_not_found"},
		{"get unknown", "GET", "/v1/functions/nope", nil, 404, "function_not_found"},
		{"delete unknown", "DELETE", "/v1/functions/nope", nil, 404, "function_not_found"},
		{"bad name invoke", "POST", "/v1/functions/No!/invoke", nil, 400, "invalid_name"},
		{"bad namespace", "GET", "/v1/functions?namespace=Bad_NS", nil, 400, "invalid_name"},
		{"bad limit", "GET", "/v1/functions?limit=0", nil, 400, "invalid_parameter"},
		{"unknown route", "GET", "/v1/nothing", nil, 404, "not_found"},
		{"wrong method", "PATCH", "/v1/functions/hello", nil, 405, "method_not_allowed"},
		{"payload too large", "POST", "/v1/functions/echo/invoke", make([]byte, 32<<20+1), 413, "payload_too_large"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := stacktest.Call(t, tt.method, base+tt.path, "", tt.body)
			stacktest.WantError(t, resp, body, tt.status, tt.code)
		})
	}
	t.Run("body shorter than its Content-Length", func(t *testing.T) {
		conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		fmt.Fprint(conn, "POST /v1/functions/echo/invoke HTTP/1.1\r\nHost: hearth\r\nContent-Length: 100\r\n\r\nonly this")
		_ = conn.(*net.TCPConn).CloseWrite() // the client gives up sending
		_ = conn.SetReadDeadline(time.Now().Add(waitFor))
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		stacktest.WantError(t, resp, body, 400, "bad_request")
	})
}

func TestFailingFunctions(t *testing.T) {
	s := stacktest.Dev(t, t.TempDir())
	base := s.GatewayURL
	stacktest.MustDeploy(t, base, "trap", testmodules.Trap, "")
	stacktest.MustDeploy(t, base, "exit3", testmodules.ExitCode, "")
	stacktest.MustDeploy(t, base, "loop", testmodules.Loop, `{"timeout_ms":300}`)
	stacktest.MustDeploy(t, base, "bomb", testmodules.MemoryBomb, `{"memory_mb":16}`)
	stacktest.MustDeploy(t, base, "flood", testmodules.BigOutput, "")

	helloWorks := func(t *testing.T) {
		t.Helper()
		resp, body := stacktest.Call(t, http.MethodPost, base+"/v1/functions/hello/invoke", "", []byte("still"))
		if resp.StatusCode != 200 || string(body) != "Hello, still!\n" {
			t.Fatalf("hello after a failure: %d %q", resp.StatusCode, body)
		}
	}

	t.Run("trap is 502 and the runner serves the next call", func(t *testing.T) {
		resp, body := stacktest.Call(t, http.MethodPost, base+"/v1/functions/trap/invoke", "", nil)
		stacktest.WantError(t, resp, body, 502, "function_failed")
		if !strings.Contains(string(body), "trapped") {
			t.Fatalf("trap error %s", body)
		}
		helloWorks(t)
	})
	t.Run("non-zero exit is 502 with the stderr tail", func(t *testing.T) {
		resp, body := stacktest.Call(t, http.MethodPost, base+"/v1/functions/exit3/invoke", "", nil)
		stacktest.WantError(t, resp, body, 502, "function_failed")
		var e struct {
			Error struct{ Message, Stderr string }
		}
		json.Unmarshal(body, &e)
		if !strings.Contains(e.Error.Message, "code 3") || !strings.Contains(e.Error.Stderr, "bad things") {
			t.Fatalf("exit error %s", body)
		}
	})
	t.Run("endless loop is 504 after its timeout", func(t *testing.T) {
		start := time.Now()
		resp, body := stacktest.Call(t, http.MethodPost, base+"/v1/functions/loop/invoke", "", nil)
		elapsed := time.Since(start)
		stacktest.WantError(t, resp, body, 504, "timeout")
		if elapsed < 300*time.Millisecond || elapsed > waitFor {
			t.Fatalf("timeout answered after %s, want about 300ms", elapsed)
		}
		helloWorks(t)
	})
	t.Run("memory bomb fails the call, not the runner", func(t *testing.T) {
		resp, body := stacktest.Call(t, http.MethodPost, base+"/v1/functions/bomb/invoke", "", nil)
		stacktest.WantError(t, resp, body, 502, "function_failed")
		helloWorks(t)
	})
	t.Run("endless output is cut off", func(t *testing.T) {
		resp, body := stacktest.Call(t, http.MethodPost, base+"/v1/functions/flood/invoke", "", nil)
		stacktest.WantError(t, resp, body, 502, "output_too_large")
		helloWorks(t)
	})
	t.Run("over the concurrency cap is 429", func(t *testing.T) {
		stacktest.MustDeploy(t, base, "sleepy", testmodules.Sleep, `{"concurrency":1}`)
		slow := make(chan int, 1)
		go func() {
			resp, _ := stacktest.Call(t, http.MethodPost, base+"/v1/functions/sleepy/invoke", "", []byte("1000"))
			slow <- resp.StatusCode
		}()
		testutil.Eventually(t, waitFor, func() error {
			if s.Runner.Heartbeat().InFlight != 1 {
				return errors.New("slow call not running yet")
			}
			return nil
		})
		resp, body := stacktest.Call(t, http.MethodPost, base+"/v1/functions/sleepy/invoke", "", []byte("0"))
		stacktest.WantError(t, resp, body, 429, "concurrency_limit")
		if resp.Header.Get("Retry-After") == "" {
			t.Fatal("429 without Retry-After")
		}
		if code := <-slow; code != 200 {
			t.Fatalf("the call within the cap answered %d", code)
		}
	})
	t.Run("no runner is 503", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), waitFor)
		defer cancel()
		if err := s.Runner.Stop(ctx); err != nil {
			t.Fatal(err)
		}
		resp, body := stacktest.Call(t, http.MethodPost, base+"/v1/functions/hello/invoke", "", nil)
		stacktest.WantError(t, resp, body, 503, "no_runners")
	})
}
