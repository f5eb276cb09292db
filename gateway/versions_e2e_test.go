package gateway_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/hearthfn/hearth/internal/stack/stacktest"
	"github.com/hearthfn/hearth/sdk/client"
)

// invokeAs calls ref (NAME, NAME@N or NAME:ALIAS) and returns the output
// and the version that ran it.
func invokeAs(t *testing.T, base, ref, input string) (string, string) {
	t.Helper()
	resp, body := stacktest.Call(t, http.MethodPost, base+"/v1/functions/"+ref+"/invoke", "", []byte(input))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("invoke %s: %d %s", ref, resp.StatusCode, body)
	}
	return string(body), resp.Header.Get("Hearth-Function-Version")
}

// TestVersionsAndAliasesEndToEnd drives versions and aliases through the
// HTTP API of a dev stack: hello version 1 greets, version 2 (the echo
// module) echoes, so the output tells which version ran.
func TestVersionsAndAliasesEndToEnd(t *testing.T) {
	s := stacktest.Dev(t, t.TempDir())
	base := s.GatewayURL
	stacktest.MustDeploy(t, base, "hello", stacktest.ExampleWasm(t, "echo"), "")
	const greet, echo = "Hello, x!\n", "x"

	for _, tt := range []struct{ ref, out, version string }{
		{"hello", echo, "2"}, {"hello:latest", echo, "2"}, {"hello@1", greet, "1"}, {"hello@2", echo, "2"},
	} {
		if out, v := invokeAs(t, base, tt.ref, "x"); out != tt.out || v != tt.version {
			t.Fatalf("%s: %q from version %s, want %q from %s", tt.ref, out, v, tt.out, tt.version)
		}
	}

	// An alias, created (201) and then moved (200): a rollback.
	resp, body := stacktest.Call(t, http.MethodPut, base+"/v1/functions/hello/aliases/prod", "application/json", []byte(`{"version":1}`))
	if resp.StatusCode != http.StatusCreated || resp.Header.Get("Location") != "/v1/functions/hello/aliases/prod" || !strings.Contains(string(body), `"version":1`) {
		t.Fatalf("create prod: %d %s", resp.StatusCode, body)
	}
	if out, _ := invokeAs(t, base, "hello:prod", "x"); out != greet {
		t.Fatalf("hello:prod → %q", out)
	}
	resp, body = stacktest.Call(t, http.MethodGet, base+"/fn/hello:prod/some/path", "", nil)
	if resp.StatusCode != http.StatusOK || string(body) != "Hello, world!\n" || resp.Header.Get("Hearth-Function-Version") != "1" {
		t.Fatalf("/fn/hello:prod: %d %q", resp.StatusCode, body)
	}
	resp, body = stacktest.Call(t, http.MethodPost, base+"/v1/functions/hello%3Aprod/invoke", "", []byte("x"))
	if resp.StatusCode != http.StatusOK || string(body) != greet {
		t.Fatalf("escaped hello%%3Aprod: %d %q", resp.StatusCode, body)
	}
	resp, body = stacktest.Call(t, http.MethodPut, base+"/v1/functions/hello/aliases/prod", "application/json", []byte(`{"version":2}`))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("move prod: %d %s", resp.StatusCode, body)
	}
	if out, _ := invokeAs(t, base, "hello:prod", "x"); out != echo {
		t.Fatalf("after moving prod to 2: %q", out)
	}
	stacktest.Call(t, http.MethodPut, base+"/v1/functions/hello/aliases/prod", "application/json", []byte(`{"version":1}`))
	if out, _ := invokeAs(t, base, "hello:prod", "x"); out != greet {
		t.Fatalf("after rolling prod back to 1: %q", out)
	}

	// A weighted alias: each call picks a version; the header says which.
	resp, body = stacktest.Call(t, http.MethodPut, base+"/v1/functions/hello/aliases/canary", "application/json", []byte(`{"weights":{"1":50,"2":50}}`))
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("canary: %d %s", resp.StatusCode, body)
	}
	seen := map[string]int{}
	for range 40 {
		out, v := invokeAs(t, base, "hello:canary", "x")
		if (v == "1") != (out == greet) {
			t.Fatalf("version %s answered %q", v, out)
		}
		seen[v]++
	}
	if seen["1"] == 0 || seen["2"] == 0 {
		t.Fatalf("a 50/50 alias over 40 calls ran %v", seen)
	}

	// Listing.
	aliases, err := client.New(base).Aliases(context.Background(), "hello")
	if err != nil {
		t.Fatal(err)
	}
	if len(aliases) != 3 || aliases[0].Name != "latest" || !aliases[0].Implicit || aliases[0].Version != 2 ||
		aliases[1].Name != "canary" || aliases[1].Weights[2] != 50 || aliases[2].Name != "prod" || aliases[2].Version != 1 {
		t.Fatalf("aliases %+v", aliases)
	}
	versions, err := client.New(base).Versions(context.Background(), "hello")
	if err != nil {
		t.Fatal(err)
	}
	if len(versions) != 2 || strings.Join(versions[0].Aliases, ",") != "canary,prod" || strings.Join(versions[1].Aliases, ",") != "latest,canary" {
		t.Fatalf("versions %+v", versions)
	}
	v1, err := client.New(base).Version(context.Background(), "hello", 1)
	if err != nil || v1.Version != 1 || v1.Spec.Name != "hello" || v1.ABI != "command" {
		t.Fatalf("version 1: %+v %v", v1, err)
	}
	fn, err := client.New(base).Get(context.Background(), "hello")
	if err != nil || len(fn.Aliases) != 3 || len(fn.Versions) != 2 {
		t.Fatalf("GET hello: %+v %v", fn, err)
	}
	resp, body = stacktest.Call(t, http.MethodGet, base+"/v1/functions/hello/aliases/canary", "", nil)
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"weights":{"1":50,"2":50}`) {
		t.Fatalf("GET canary: %d %s", resp.StatusCode, body)
	}

	wasm := string(stacktest.ExampleWasm(t, "hello"))
	errs := []struct {
		name, method, path, body string
		status                   int
		code, mention            string
	}{
		{"unknown alias", "POST", "/v1/functions/hello:nope/invoke", "", 404, "alias_not_found", `hello has no alias "nope"; its aliases are latest, canary, prod`},
		{"unknown alias passthrough", "GET", "/fn/hello:nope/x", "", 404, "alias_not_found", "no alias"},
		{"unknown version", "POST", "/v1/functions/hello@9/invoke", "", 404, "version_not_found", "hello has no version 9; its versions are 1 to 2"},
		{"not a version", "POST", "/v1/functions/hello@x/invoke", "", 400, "invalid_name", `"x" is not a version number`},
		{"bad alias name", "POST", "/v1/functions/hello:Prod/invoke", "", 400, "invalid_name", `the alias "Prod" is not valid`},
		{"version and alias", "POST", "/v1/functions/hello@1:prod/invoke", "", 400, "invalid_name", "more than one version or alias"},
		{"unknown function alias", "POST", "/v1/functions/nope:prod/invoke", "", 404, "function_not_found", "nope"},
		{"get unknown version", "GET", "/v1/functions/hello/versions/9", "", 404, "version_not_found", "no version 9"},
		{"get bad version", "GET", "/v1/functions/hello/versions/x", "", 400, "invalid_parameter", "not a version number"},
		{"versions of unknown", "GET", "/v1/functions/nope/versions", "", 404, "function_not_found", "nope"},
		{"get unknown alias", "GET", "/v1/functions/hello/aliases/nope", "", 404, "alias_not_found", "nope"},
		{"set latest", "PUT", "/v1/functions/hello/aliases/latest", `{"version":1}`, 400, "invalid_alias", "Hearth's own"},
		{"set bad name", "PUT", "/v1/functions/hello/aliases/Prod", `{"version":1}`, 400, "invalid_alias", `alias name "Prod" is not valid`},
		{"set missing version", "PUT", "/v1/functions/hello/aliases/prod", `{"version":7}`, 400, "invalid_alias", "hello has no version 7"},
		{"set bad weights", "PUT", "/v1/functions/hello/aliases/prod", `{"weights":{"1":50,"2":40}}`, 400, "invalid_alias", "add up to 90"},
		{"set unknown field", "PUT", "/v1/functions/hello/aliases/prod", `{"versoin":1}`, 400, "invalid_alias", "unknown field"},
		{"set not json", "PUT", "/v1/functions/hello/aliases/prod", `1=90`, 400, "invalid_alias", `{"version":N}`},
		{"set weight key", "PUT", "/v1/functions/hello/aliases/prod", `{"weights":{"one":100}}`, 400, "invalid_alias", "weights"},
		{"set on unknown function", "PUT", "/v1/functions/nope/aliases/prod", `{"version":1}`, 404, "function_not_found", "nope"},
		{"delete unknown alias", "DELETE", "/v1/functions/hello/aliases/nope", "", 404, "alias_not_found", "nope"},
		{"delete latest", "DELETE", "/v1/functions/hello/aliases/latest", "", 400, "invalid_alias", "Hearth's own"},
		{"deploy to a ref", "PUT", "/v1/functions/hello@1", wasm, 400, "invalid_name", "hello@1"},
		{"bad dry_run", "PUT", "/v1/functions/x?dry_run=maybe", wasm, 400, "invalid_parameter", "dry_run"},
	}
	for _, tt := range errs {
		t.Run(tt.name, func(t *testing.T) {
			ctype := "application/json"
			if tt.body == wasm {
				ctype = "application/wasm"
			}
			resp, body := stacktest.Call(t, tt.method, base+tt.path, ctype, []byte(tt.body))
			stacktest.WantError(t, resp, body, tt.status, tt.code)
			if !strings.Contains(stacktest.ErrorMessage(body), tt.mention) {
				t.Fatalf("error %s does not mention %q", body, tt.mention)
			}
		})
	}

	// Removing an alias: calls through it answer 404.
	resp, _ = stacktest.Call(t, http.MethodDelete, base+"/v1/functions/hello/aliases/prod", "", nil)
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("delete prod: %d", resp.StatusCode)
	}
	resp, body = stacktest.Call(t, http.MethodPost, base+"/v1/functions/hello:prod/invoke", "", nil)
	stacktest.WantError(t, resp, body, 404, "alias_not_found")

	// Deleting the function takes its versions and aliases.
	resp, _ = stacktest.Call(t, http.MethodDelete, base+"/v1/functions/hello", "", nil)
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("delete hello: %d", resp.StatusCode)
	}
	for _, path := range []string{"/v1/functions/hello/aliases", "/v1/functions/hello/versions", "/v1/functions/hello/versions/1"} {
		resp, body = stacktest.Call(t, http.MethodGet, base+path, "", nil)
		stacktest.WantError(t, resp, body, 404, "function_not_found")
	}
	resp, body = stacktest.Call(t, http.MethodPost, base+"/v1/functions/hello@1/invoke", "", nil)
	stacktest.WantError(t, resp, body, 404, "function_not_found")
}

func TestDeploySpecFieldsEndToEnd(t *testing.T) {
	s := stacktest.Dev(t, t.TempDir())
	base := s.GatewayURL

	// Every spec field through a multipart deploy, and back (a granted
	// secret must exist).
	if resp, body := stacktest.Call(t, http.MethodPut, base+"/v1/secrets/api-token", "application/json", []byte(`{"value":"t0ken"}`)); resp.StatusCode != http.StatusCreated {
		t.Fatalf("put secret: %d %s", resp.StatusCode, body)
	}
	stacktest.MustDeploy(t, base, "full", stacktest.ExampleWasm(t, "echo"), `{"name":"full","description":"echoes","abi":"command",
		"memory_mb":64,"timeout_ms":3000,"concurrency":2,"max_payload":10,"env":{"A":"b"},"secrets":["api-token"],
		"triggers":[{"type":"nats","subject":"full.in","options":{"queue":"q"}},{"type":"cron","schedule":"@hourly"}],
		"labels":{"team":"web","example.com/tier":"gold"}}`)
	fn, err := client.New(base).Get(context.Background(), "full")
	if err != nil {
		t.Fatal(err)
	}
	sp := fn.Spec
	if sp == nil || sp.Name != "full" || sp.Namespace != "default" || sp.Description != "echoes" || sp.ABI != "command" || sp.MemoryMB != 64 ||
		sp.TimeoutMs != 3000 || sp.Concurrency != 2 || sp.MaxPayload != 10 || sp.Env["A"] != "b" || len(sp.Secrets) != 1 ||
		len(sp.Triggers) != 2 || sp.Triggers[0].Options["queue"] != "q" || sp.Labels["example.com/tier"] != "gold" {
		t.Fatalf("stored spec %+v", sp)
	}

	// max_payload: 10 bytes pass, 11 are 413, with or without a length.
	if out, _ := invokeAs(t, base, "full", "0123456789"); out != "0123456789" {
		t.Fatalf("10 bytes: %q", out)
	}
	resp, body := stacktest.Call(t, http.MethodPost, base+"/v1/functions/full/invoke", "", []byte("0123456789A"))
	stacktest.WantError(t, resp, body, 413, "payload_too_large")
	if !strings.Contains(string(body), "max_payload") {
		t.Fatalf("413 body %s", body)
	}
	req, _ := http.NewRequest(http.MethodPost, base+"/v1/functions/full/invoke", struct{ *bytes.Reader }{bytes.NewReader([]byte("0123456789AB"))})
	req.ContentLength = -1 // chunked
	chunked, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	chunked.Body.Close()
	if chunked.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("chunked body over max_payload: %d", chunked.StatusCode)
	}

	// Spec values checked at deploy, each with its message.
	for _, tt := range []struct{ spec, mention string }{
		{`{"abi":"reactor"}`, `the spec says abi "reactor" but the module is a command`},
		{`{"name":"other"}`, `the spec names the function "other"`},
		{`{"max_payload":-1}`, "max_payload is -1"},
		{`{"secrets":["A_B"]}`, `secret name "A_B" is not valid`},
		{`{"triggers":[{"type":"nats","subject":"hearth.invoke"}]}`, "is reserved"},
		{`{"triggers":[{"type":"cron","schedule":"* * *"}]}`, "has 3 fields"},
		{`{"labels":{"a":"b c"}}`, `label a has the value "b c"`},
		{`{"triggers":[{"type":"nats","subject":"a","extra":1}]}`, `unknown field "extra"`},
	} {
		resp, body := stacktest.DeployWithSpec(t, base, "specced", stacktest.ExampleWasm(t, "hello"), tt.spec)
		if resp.StatusCode != 400 || !strings.Contains(stacktest.ErrorMessage(body), tt.mention) {
			t.Errorf("spec %s: %d %s; want 400 mentioning %q", tt.spec, resp.StatusCode, body, tt.mention)
		}
	}

	// A dry run checks and stores nothing.
	resp, body = stacktest.Call(t, http.MethodPut, base+"/v1/functions/dry?dry_run=true", "application/wasm", stacktest.ExampleWasm(t, "hello"))
	var dep client.Deployment
	if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &dep) != nil || !dep.DryRun || dep.Version != 0 || dep.ABI != "command" {
		t.Fatalf("dry run: %d %s", resp.StatusCode, body)
	}
	resp, body = stacktest.Call(t, http.MethodGet, base+"/v1/functions/dry", "", nil)
	stacktest.WantError(t, resp, body, 404, "function_not_found")
	resp, body = stacktest.Call(t, http.MethodPut, base+"/v1/functions/dry?dry_run=true", "application/wasm", []byte("junk"))
	stacktest.WantError(t, resp, body, 400, "invalid_module")
}
