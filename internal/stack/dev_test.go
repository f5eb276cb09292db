package stack_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/hearthfn/hearth/internal/stack/stacktest"
	"github.com/hearthfn/hearth/sdk/client"
)

func TestDevEndToEnd(t *testing.T) {
	dataDir := t.TempDir()
	s := stacktest.Dev(t, dataDir)
	base := s.GatewayURL

	// The dev stack deploys the examples itself.
	fns, err := client.New(base).List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(fns) != 4 || fns[0].Name != "echo" || fns[1].Name != "hello" || fns[2].Name != "reverse" || fns[2].ABI != "reactor" ||
		fns[3].Name != "reverse-c" || fns[3].ABI != "reactor" {
		t.Fatalf("examples deployed: %+v, want echo, hello, reverse and reverse-c (reactors)", fns)
	}

	// Deploy hello over HTTP as a new version.
	hello := stacktest.ExampleWasm(t, "hello")
	resp, body := stacktest.Call(t, http.MethodPut, base+"/v1/functions/hello", "application/wasm", hello)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("deploy: %d %s", resp.StatusCode, body)
	}
	var dep client.Deployment
	if err := json.Unmarshal(body, &dep); err != nil {
		t.Fatal(err)
	}
	if dep.Name != "hello" || dep.Version != 2 || dep.ABI != "command" || !strings.HasPrefix(dep.Digest, "sha256:") || dep.CreatedAt.IsZero() {
		t.Fatalf("deploy answer %+v", dep)
	}

	// Invoke over the API.
	resp, body = stacktest.Call(t, http.MethodPost, base+"/v1/functions/hello/invoke", "text/plain", []byte("Hearth"))
	if resp.StatusCode != http.StatusOK || string(body) != "Hello, Hearth!\n" {
		t.Fatalf("invoke: %d %q", resp.StatusCode, body)
	}
	for _, h := range []string{"Hearth-Request-Id", "Hearth-Invocation-Id", "Hearth-Cold-Start", "Server-Timing"} {
		if resp.Header.Get(h) == "" {
			t.Errorf("invoke response without %s", h)
		}
	}
	timing := resp.Header.Get("Server-Timing")
	for _, part := range []string{"queue;dur=", "init;dur=", "run;dur="} {
		if !strings.Contains(timing, part) {
			t.Errorf("Server-Timing %q lacks %s", timing, part)
		}
	}
	if c := resp.Header.Get("Hearth-Cold-Start"); c != "true" && c != "false" {
		t.Errorf("Hearth-Cold-Start = %q", c)
	}

	// Invoke through the passthrough route.
	resp, body = stacktest.Call(t, http.MethodGet, base+"/fn/hello/some/path?x=1", "", nil)
	if resp.StatusCode != http.StatusOK || string(body) != "Hello, world!\n" {
		t.Fatalf("/fn/hello: %d %q", resp.StatusCode, body)
	}
	if resp.Header.Get("Hearth-Invocation-Id") == "" {
		t.Error("/fn response without Hearth-Invocation-Id")
	}
	resp, body = stacktest.Call(t, http.MethodPost, base+"/fn/echo", "application/json", []byte(`{"a":1}`))
	if resp.StatusCode != http.StatusOK || string(body) != `{"a":1}` {
		t.Fatalf("/fn/echo: %d %q", resp.StatusCode, body)
	}

	// The Go reactor example: a warm instance serves the second call.
	for i, want := range []string{"true", "false"} {
		resp, body = stacktest.Call(t, http.MethodPost, base+"/v1/functions/reverse/invoke", "", []byte("abc"))
		if resp.StatusCode != http.StatusOK || string(body) != "cba" {
			t.Fatalf("reverse: %d %q", resp.StatusCode, body)
		}
		if got := resp.Header.Get("Hearth-Cold-Start"); got != want {
			t.Fatalf("reverse call %d: Hearth-Cold-Start %s, want %s", i+1, got, want)
		}
	}

	// Restart on the same data: the functions are still there.
	if err := s.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	s = stacktest.Dev(t, dataDir)
	resp, body = stacktest.Call(t, http.MethodPost, s.GatewayURL+"/v1/functions/hello/invoke", "", []byte("again"))
	if resp.StatusCode != http.StatusOK || string(body) != "Hello, again!\n" {
		t.Fatalf("invoke after restart: %d %q", resp.StatusCode, body)
	}
	if resp.Header.Get("Hearth-Cold-Start") != "true" {
		t.Error("first call after a restart should be a cold start")
	}
	fn, err := client.New(s.GatewayURL).Get(context.Background(), "hello")
	if err != nil {
		t.Fatal(err)
	}
	if fn.Version != 2 || len(fn.Versions) != 2 {
		t.Fatalf("after restart hello is version %d with %d versions, want 2 and 2 (no redeploy of the example)", fn.Version, len(fn.Versions))
	}
}
