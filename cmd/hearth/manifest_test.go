package main

import (
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/hearthfn/hearth/sdk/client"
)

func TestReadManifest(t *testing.T) {
	dir := filepath.FromSlash("/work/app")
	m, err := readManifest([]byte(`# two functions
version: 1
namespace: shop
functions:
  - name: hello
    module: fns/hello.wasm
    description: greets
    memory_mb: 64
    timeout_ms: 2000
    concurrency: 4
    max_payload: 1024
    env: {GREETING: hi, COUNT: 3}
    secrets: [api-token]
    labels: {team: web}
    triggers:
      - type: cron
        schedule: "*/5 * * * *"
      - {type: nats, subject: orders.created, options: {queue: q}}
  - name: echo
    namespace: tools
    abi: reactor
    module: /abs/echo.wasm
`), "hearth.yaml", dir)
	if err != nil {
		t.Fatal(err)
	}
	want := []manifestFunction{
		{Module: filepath.Join(dir, "fns", "hello.wasm"), line: 5, Spec: client.Spec{
			Name: "hello", Description: "greets", MemoryMB: 64, TimeoutMs: 2000, Concurrency: 4, MaxPayload: 1024,
			Env: map[string]string{"GREETING": "hi", "COUNT": "3"}, Secrets: []string{"api-token"}, Labels: map[string]string{"team": "web"},
			Triggers: []client.Trigger{{Type: "cron", Schedule: "*/5 * * * *"}, {Type: "nats", Subject: "orders.created", Options: map[string]string{"queue": "q"}}},
		}},
		{Module: "/abs/echo.wasm", line: 19, Spec: client.Spec{Name: "echo", Namespace: "tools", ABI: "reactor"}},
	}
	if !filepath.IsAbs("/abs/echo.wasm") {
		want[1].Module = filepath.Join(dir, "/abs/echo.wasm")
	}
	if m.Version != 1 || m.Namespace != "shop" || !reflect.DeepEqual(m.Functions, want) {
		t.Fatalf("manifest %+v\nfunctions %+v\nwant      %+v", m, m.Functions, want)
	}
	if m.namespaceOf(m.Functions[0]) != "shop" || m.namespaceOf(m.Functions[1]) != "tools" {
		t.Fatal("namespaces: a function's own, else the manifest's")
	}
}

func TestManifestErrors(t *testing.T) {
	tests := []struct {
		name, yaml, mention string
	}{
		{"empty", ``, "hearth.yaml is empty"},
		{"only a comment", "# nothing\n", "hearth.yaml is empty"},
		{"no functions", "namespace: a\n", "lists no functions"},
		{"unknown top field", "functions: []\ngateway: x\n", "hearth.yaml:2: unknown field gateway"},
		{"unknown function field", "functions:\n  - name: a\n    module: a.wasm\n    memroy_mb: 5\n", "hearth.yaml:4: unknown field memroy_mb"},
		{"unknown trigger field", "functions:\n  - name: a\n    module: a.wasm\n    triggers:\n      - type: nats\n        subjet: x\n", "hearth.yaml:6: unknown field subjet"},
		{"wrong type", "functions:\n  - name: a\n    module: a.wasm\n    memory_mb: lots\n", "hearth.yaml:4: wrong type: cannot read !!str `lots`"},
		{"functions as a map", "functions:\n  a: {module: a.wasm}\n", "hearth.yaml:2: wrong type"},
		{"secret values", "functions:\n  - name: a\n    module: a.wasm\n    secrets: {DB: hunter2}\n", "hearth.yaml:4: wrong type"},
		{"syntax", "functions: [\n", "hearth.yaml"},
		{"two documents", "functions:\n  - {name: a, module: a.wasm}\n---\nfunctions: []\n", "more than one YAML document"},
		{"version", "version: 2\nfunctions:\n  - {name: a, module: a.wasm}\n", "version 2 is not one this hearth reads; use version: 1"},
		{"bad namespace", "namespace: Shop\nfunctions:\n  - {name: a, module: a.wasm}\n", `hearth.yaml: namespace "Shop" is not valid`},
		{"no name", "functions:\n  - module: a.wasm\n", "hearth.yaml:2: function 1 has no name"},
		{"no module", "functions:\n  - name: a\n", "hearth.yaml:2: function a has no module"},
		{"bad name", "functions:\n  - {name: A, module: a.wasm}\n", `hearth.yaml:2: function A: function name "A" is not valid`},
		{"duplicate", "functions:\n  - {name: a, module: a.wasm}\n  - {name: b, module: b.wasm}\n  - {name: a, module: c.wasm}\n", "hearth.yaml:4: function a is listed twice (first at line 2)"},
		{"memory", "functions:\n  - {name: a, module: a.wasm, memory_mb: 9999}\n", "hearth.yaml:2: function a: memory_mb is 9999; it must be between 1 and 4096"},
		{"trigger", "functions:\n  - name: a\n    module: a.wasm\n    triggers: [{type: cron, schedule: '61 * * * *'}]\n", `hearth.yaml:2: function a: triggers[0]: schedule "61 * * * *": minute "61"`},
		{"label", "functions:\n  - {name: a, module: a.wasm, labels: {'-x': y}}\n", `label key "-x" is not valid`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := readManifest([]byte(tt.yaml), "hearth.yaml", "/app")
			if err == nil || !strings.Contains(err.Error(), tt.mention) {
				t.Fatalf("readManifest = %v, want an error mentioning %q", err, tt.mention)
			}
		})
	}
}

// FuzzManifest: no manifest panics the parser; an accepted one has a name,
// a module path under (or beside) its directory and a valid spec for every
// function.
func FuzzManifest(f *testing.F) {
	for _, seed := range []string{
		"functions:\n  - name: a\n    module: a.wasm\n",
		"version: 1\nnamespace: x\nfunctions:\n  - {name: a, module: a.wasm, memory_mb: 64, env: {A: b}, secrets: [s]}\n  - {name: b, module: /b.wasm, namespace: y}\n",
		"functions:\n  - name: a\n    module: a.wasm\n    triggers: [{type: nats, subject: a.>}, {type: cron, schedule: '@daily'}]\n    labels: {x/y: z}\n",
		"functions: [\n",
		"a: &a [*a]\n",
		"functions:\n  - name: a\n    module: a.wasm\n    memroy_mb: 5\n",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := readManifest(data, "hearth.yaml", "/app")
		if err != nil {
			if err.Error() == "" {
				t.Fatal("an error without a message")
			}
			return
		}
		if len(m.Functions) == 0 {
			t.Fatal("accepted a manifest without functions")
		}
		for _, fn := range m.Functions {
			if fn.Name == "" || fn.Module == "" || !filepath.IsAbs(fn.Module) {
				t.Fatalf("accepted function %+v", fn)
			}
			if err := checkSpec(fn.Spec); err != nil {
				t.Fatalf("accepted an invalid spec: %v", err)
			}
		}
	})
}
