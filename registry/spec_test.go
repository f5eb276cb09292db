package registry_test

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/hearthfn/hearth/functions"
	"github.com/hearthfn/hearth/internal/abi"
	"github.com/hearthfn/hearth/internal/limits"
	"github.com/hearthfn/hearth/internal/testmodules"
	"github.com/hearthfn/hearth/registry"
)

// TestSpecValidationMessages checks every way a spec can be out of range,
// and that the message names the field and the rule.
func TestSpecValidationMessages(t *testing.T) {
	long := strings.Repeat("x", limits.MaxEnvBytes)
	many := func(n int, f func(i int) string) map[string]string {
		m := make(map[string]string, n)
		for i := range n {
			m[f(i)] = "v"
		}
		return m
	}
	tests := []struct {
		name    string
		spec    registry.Spec
		mention string
	}{
		{"bad name", registry.Spec{Name: "Hello"}, `function name "Hello" is not valid`},
		{"bad namespace", registry.Spec{Namespace: "a_b"}, `namespace "a_b" is not valid`},
		{"description too long", registry.Spec{Description: strings.Repeat("d", limits.MaxDescriptionBytes+1)}, "description must be UTF-8 text of at most 1024 bytes"},
		{"description not utf-8", registry.Spec{Description: "\xff"}, "description must be UTF-8"},
		{"unknown abi", registry.Spec{ABI: "wasi"}, `abi is "wasi"; use "command"`},
		{"memory negative", registry.Spec{MemoryMB: -1}, "memory_mb is -1; it must be between 1 and 4096"},
		{"memory too big", registry.Spec{MemoryMB: 4097}, "memory_mb is 4097"},
		{"timeout negative", registry.Spec{TimeoutMs: -5}, "timeout_ms is -5; it must be between 1 and 900000"},
		{"timeout too long", registry.Spec{TimeoutMs: int(limits.MaxTimeout.Milliseconds()) + 1}, "timeout_ms is 900001"},
		{"concurrency negative", registry.Spec{Concurrency: -1}, "concurrency is -1; it must be between 0 (no cap) and 10000"},
		{"concurrency too high", registry.Spec{Concurrency: 10001}, "concurrency is 10001"},
		{"max_payload negative", registry.Spec{MaxPayload: -1}, "max_payload is -1"},
		{"max_payload too big", registry.Spec{MaxPayload: limits.MaxPayloadBytes + 1}, "max_payload is 67108865; it must be between 0"},
		{"env name", registry.Spec{Env: map[string]string{"A-B": "x"}}, `env name "A-B" is not valid`},
		{"env name digit", registry.Spec{Env: map[string]string{"1A": "x"}}, `env name "1A"`},
		{"env value NUL", registry.Spec{Env: map[string]string{"A": "a\x00b"}}, "env A must be UTF-8 text without NUL bytes"},
		{"env too large", registry.Spec{Env: map[string]string{"A": long}}, "env names and values add up to 65537 bytes"},
		{"too many env vars", registry.Spec{Env: many(limits.MaxEnvVars+1, func(i int) string { return "V" + strings.Repeat("X", i) })}, "env has 257 variables"},
		{"secret name", registry.Spec{Secrets: []string{"DB_PASSWORD"}}, `secret name "DB_PASSWORD" is not valid`},
		{"secret path", registry.Spec{Secrets: []string{"../x"}}, `secret name "../x" is not valid`},
		{"secret twice", registry.Spec{Secrets: []string{"db", "db"}}, `secret "db" is listed twice`},
		{"secret also env", registry.Spec{Secrets: []string{"db-password"}, Env: map[string]string{"DB_PASSWORD": "x"}}, `DB_PASSWORD is both in env and the variable of secret "db-password"`},
		{"too many secrets", registry.Spec{Secrets: strings.Fields(strings.Repeat("s ", 65))}, "secrets names 65 secrets"},
		{"rate zero", registry.Spec{RateLimit: &registry.RateLimit{RPS: 0}}, "rate_limit.rps is 0"},
		{"rate burst", registry.Spec{RateLimit: &registry.RateLimit{RPS: 1, Burst: -1}}, "rate_limit.burst is -1"},
		{"trigger without type", registry.Spec{Triggers: []registry.Trigger{{Subject: "a"}}}, "triggers[0]: type is missing"},
		{"trigger unknown type", registry.Spec{Triggers: []registry.Trigger{{Type: "http"}}}, `triggers[0]: type "http" is unknown`},
		{"nats without subject", registry.Spec{Triggers: []registry.Trigger{{Type: "nats"}}}, "triggers[0]: a nats trigger needs a subject"},
		{"nats with schedule", registry.Spec{Triggers: []registry.Trigger{{Type: "nats", Subject: "a", Schedule: "@daily"}}}, "a nats trigger takes a subject, not a schedule"},
		{"nats empty token", registry.Spec{Triggers: []registry.Trigger{{Type: "nats", Subject: "a..b"}}}, `subject "a..b" has an empty token`},
		{"nats white space", registry.Spec{Triggers: []registry.Trigger{{Type: "nats", Subject: "a b"}}}, "contains white space"},
		{"nats > not last", registry.Spec{Triggers: []registry.Trigger{{Type: "nats", Subject: "a.>.b"}}}, "> may only be the last token"},
		{"nats partial wildcard", registry.Spec{Triggers: []registry.Trigger{{Type: "nats", Subject: "a.b*"}}}, "must be whole tokens"},
		{"nats reserved hearth", registry.Spec{Triggers: []registry.Trigger{{Type: "nats", Subject: "hearth.invoke"}}}, `subject "hearth.invoke" is reserved`},
		{"nats reserved $", registry.Spec{Triggers: []registry.Trigger{{Type: "nats", Subject: "$JS.API.>"}}}, "is reserved"},
		{"nats catch-all", registry.Spec{Triggers: []registry.Trigger{{Type: "nats", Subject: ">"}}}, "begins with a wildcard"},
		{"nats inbox", registry.Spec{Triggers: []registry.Trigger{{Type: "nats", Subject: "_INBOX.>"}}}, "is reserved"},
		{"nats leading wildcard", registry.Spec{Triggers: []registry.Trigger{{Type: "nats", Subject: "*.invoke"}}}, "begins with a wildcard"},
		{"nats leading wildcard 2", registry.Spec{Triggers: []registry.Trigger{{Type: "nats", Subject: "*.>"}}}, "begins with a wildcard"},
		{"nats subject too long", registry.Spec{Triggers: []registry.Trigger{{Type: "nats", Subject: strings.Repeat("a", 256)}}}, "subject is 256 characters long"},
		{"cron without schedule", registry.Spec{Triggers: []registry.Trigger{{Type: "cron"}}}, "a cron trigger needs a schedule"},
		{"cron with subject", registry.Spec{Triggers: []registry.Trigger{{Type: "cron", Schedule: "@daily", Subject: "a"}}}, "a cron trigger takes a schedule, not a subject"},
		{"cron 4 fields", registry.Spec{Triggers: []registry.Trigger{{Type: "cron", Schedule: "* * * *"}}}, "has 4 fields; a cron schedule has 5"},
		{"cron minute", registry.Spec{Triggers: []registry.Trigger{{Type: "cron", Schedule: "60 * * * *"}}}, `minute "60" must be a number from 0 to 59`},
		{"cron hour", registry.Spec{Triggers: []registry.Trigger{{Type: "cron", Schedule: "0 24 * * *"}}}, `hour "24"`},
		{"cron day", registry.Spec{Triggers: []registry.Trigger{{Type: "cron", Schedule: "0 0 0 * *"}}}, `day of month "0" must be a number from 1 to 31`},
		{"cron month name", registry.Spec{Triggers: []registry.Trigger{{Type: "cron", Schedule: "0 0 1 JAN *"}}}, `month "JAN" must be a number from 1 to 12`},
		{"cron question mark", registry.Spec{Triggers: []registry.Trigger{{Type: "cron", Schedule: "0 0 ? * *"}}}, `day of month "?"`},
		{"delivery", registry.Spec{Triggers: []registry.Trigger{{Type: "nats", Subject: "a", Options: map[string]string{"delivery": "exactly-once"}}}}, `option delivery is "exactly-once"`},
		{"delivery on cron", registry.Spec{Triggers: []registry.Trigger{{Type: "cron", Schedule: "@daily", Options: map[string]string{"delivery": "at-least-once"}}}}, "option delivery"},
		{"cron weekday", registry.Spec{Triggers: []registry.Trigger{{Type: "cron", Schedule: "0 0 * * 8"}}}, `day of week "8"`},
		{"cron backwards", registry.Spec{Triggers: []registry.Trigger{{Type: "cron", Schedule: "0 10-2 * * *"}}}, "hour range 10-2 runs backwards"},
		{"cron step", registry.Spec{Triggers: []registry.Trigger{{Type: "cron", Schedule: "*/0 * * * *"}}}, `minute step "0" must be a number from 1 to 59`},
		{"cron descriptor", registry.Spec{Triggers: []registry.Trigger{{Type: "cron", Schedule: "@sometimes"}}}, "is not a known descriptor"},
		{"cron every", registry.Spec{Triggers: []registry.Trigger{{Type: "cron", Schedule: "@every soon"}}}, `"soon" is not a duration`},
		{"cron every too short", registry.Spec{Triggers: []registry.Trigger{{Type: "cron", Schedule: "@every 10ms"}}}, "at least 1s"},
		{"trigger option name", registry.Spec{Triggers: []registry.Trigger{{Type: "nats", Subject: "a", Options: map[string]string{"Queue": "x"}}}}, `option name "Queue" is not valid`},
		{"trigger option value", registry.Spec{Triggers: []registry.Trigger{{Type: "nats", Subject: "a", Options: map[string]string{"queue": strings.Repeat("q", 257)}}}}, "option queue is 257 bytes long"},
		{"second trigger", registry.Spec{Triggers: []registry.Trigger{{Type: "cron", Schedule: "@daily"}, {Type: "nats"}}}, "triggers[1]:"},
		{"too many triggers", registry.Spec{Triggers: make([]registry.Trigger, limits.MaxTriggers+1)}, "33 triggers"},
		{"label key", registry.Spec{Labels: map[string]string{"-team": "a"}}, `label key "-team" is not valid`},
		{"label key too long", registry.Spec{Labels: map[string]string{strings.Repeat("k", 64): "a"}}, "is not valid"},
		{"label prefix", registry.Spec{Labels: map[string]string{"Example.com/team": "a"}}, `label key "Example.com/team" has an invalid prefix`},
		{"label empty prefix", registry.Spec{Labels: map[string]string{"/team": "a"}}, "has an invalid prefix"},
		{"label value", registry.Spec{Labels: map[string]string{"team": "a b"}}, `label team has the value "a b"`},
		{"label value too long", registry.Spec{Labels: map[string]string{"team": strings.Repeat("v", 64)}}, "label team has the value"},
		{"too many labels", registry.Spec{Labels: many(limits.MaxLabels+1, func(i int) string { return "l" + strings.Repeat("x", i%60) + string(rune('a'+i/60)) })}, "labels has 65 entries"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.spec.Validate()
			var ve *registry.ValidationError
			if !errors.As(err, &ve) || ve.Code != registry.CodeInvalidSpec {
				t.Fatalf("Validate = %v, want an invalid_spec error", err)
			}
			if !strings.Contains(ve.Message, tt.mention) {
				t.Fatalf("message %q does not mention %q", ve.Message, tt.mention)
			}
		})
	}
}

func TestValidSpecs(t *testing.T) {
	for _, spec := range []registry.Spec{
		{},
		{Name: "hello", Namespace: "team-a", ABI: abi.Command, MemoryMB: 64, TimeoutMs: 1, Concurrency: 10000, MaxPayload: limits.MaxPayloadBytes},
		{Env: map[string]string{"_A": "", "B1": "ünïcode"}, Secrets: []string{"db-password", "token"}, RateLimit: &registry.RateLimit{RPS: 2.5}},
		{Labels: map[string]string{"team": "web", "hearth.dev/tier": "", "a.b-c_d": "1.0_x-y", "example.com/x": "Y"}},
		{Triggers: []registry.Trigger{
			{Type: "nats", Subject: "orders.*.created", Options: map[string]string{"queue": "workers", "delivery": "at-least-once"}},
			{Type: "nats", Subject: "events.>"},
			{Type: "cron", Schedule: "*/5 * * * *"},
			{Type: "cron", Schedule: "0 9-17/2 1,15 1-6 1-5"},
			{Type: "cron", Schedule: "0 0 * * 7"},
			{Type: "cron", Schedule: "@hourly"},
			{Type: "cron", Schedule: "@every 90s"},
		}},
	} {
		if err := spec.Validate(); err != nil {
			t.Errorf("Validate(%+v) = %v, want nil", spec, err)
		}
	}
}

func TestSpecDefaults(t *testing.T) {
	got := registry.Spec{}.WithDefaults()
	want := registry.Spec{Namespace: registry.DefaultNamespace, MemoryMB: limits.DefaultMemoryMB, TimeoutMs: int(limits.DefaultTimeout.Milliseconds()), Records: registry.RecordsAll}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("defaults %+v, want %+v", got, want)
	}
	set := registry.Spec{MemoryMB: 1, TimeoutMs: 2, Namespace: "x", Records: registry.RecordsNone}
	if got := set.WithDefaults(); !reflect.DeepEqual(got, set) {
		t.Fatalf("WithDefaults changed set fields: %+v", got)
	}
}

func TestDecodeSpec(t *testing.T) {
	raw := `{"name":"hello","namespace":"team","description":"d","abi":"command","memory_mb":64,"timeout_ms":500,
		"concurrency":2,"max_payload":1024,"env":{"A":"b"},"secrets":["db"],
		"triggers":[{"type":"cron","schedule":"@daily","options":{"tz":"UTC"}}],"labels":{"team":"web"}}`
	spec, err := registry.DecodeSpec([]byte(raw))
	if err != nil {
		t.Fatal(err)
	}
	want := registry.Spec{Name: "hello", Namespace: "team", Description: "d", ABI: "command", MemoryMB: 64, TimeoutMs: 500,
		Concurrency: 2, MaxPayload: 1024, Env: map[string]string{"A": "b"}, Secrets: []string{"db"},
		Triggers: []registry.Trigger{{Type: "cron", Schedule: "@daily", Options: map[string]string{"tz": "UTC"}}},
		Labels:   map[string]string{"team": "web"}}
	if !reflect.DeepEqual(spec, want) {
		t.Fatalf("decoded %+v\nwant %+v", spec, want)
	}
	for _, tt := range []struct{ raw, mention string }{
		{`{"memory":1}`, `unknown field "memory"`},
		{`{"triggers":[{"type":"nats","subjet":"a"}]}`, `unknown field "subjet"`},
		{`{"secrets":{"DB":"hunter2"}}`, "cannot unmarshal object"},
		{`{} {}`, "data after its JSON object"},
		{``, "not valid JSON"},
	} {
		_, err := registry.DecodeSpec([]byte(tt.raw))
		var ve *registry.ValidationError
		if !errors.As(err, &ve) || ve.Code != registry.CodeInvalidSpec || !strings.Contains(ve.Message, tt.mention) {
			t.Errorf("DecodeSpec(%s) = %v, want invalid_spec mentioning %q", tt.raw, err, tt.mention)
		}
	}
}

// TestDeployValidationMessages checks each way a deploy is refused, with
// its code and message, and that nothing is stored for it.
func TestDeployValidationMessages(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	r := e.openWith(t, registry.Config{MaxModuleBytes: 4 << 20})
	hello, reverse := functions.Examples()[1].Wasm, functions.Examples()[2].Wasm
	tests := []struct {
		name    string
		req     registry.DeployRequest
		code    string
		mention string
	}{
		{"bad name", registry.DeployRequest{Name: "-x", Module: hello}, registry.CodeInvalidName, `function name "-x" is not valid`},
		{"bad namespace", registry.DeployRequest{Namespace: "A", Name: "x", Module: hello}, registry.CodeInvalidName, `namespace "A" is not valid`},
		{"too large", registry.DeployRequest{Name: "x", Module: make([]byte, 4<<20+1)}, registry.CodeModuleTooLarge, "the module is 4194305 bytes; the limit is 4194304"},
		{"not wasm", registry.DeployRequest{Name: "x", Module: []byte("#!/bin/sh")}, registry.CodeInvalidModule, "not a WebAssembly module"},
		{"does not compile", registry.DeployRequest{Name: "x", Module: hello[:200]}, registry.CodeInvalidModule, "does not compile"},
		{"forbidden import", registry.DeployRequest{Name: "x", Module: testmodules.ForbiddenImport}, registry.CodeInvalidModule, "env.socket_open"},
		{"abi mismatch command", registry.DeployRequest{Name: "x", Module: hello, Spec: registry.Spec{ABI: abi.Reactor}}, registry.CodeInvalidModule, `the spec says abi "reactor" but the module is a command (it exports _start)`},
		{"abi mismatch reactor", registry.DeployRequest{Name: "x", Module: reverse, Spec: registry.Spec{ABI: abi.Command}}, registry.CodeInvalidModule, "the module is a reactor (it exports hearth_alloc and hearth_handle)"},
		{"spec names another function", registry.DeployRequest{Name: "x", Module: hello, Spec: registry.Spec{Name: "y"}}, registry.CodeInvalidSpec, `the spec names the function "y" but the deploy is for "x"`},
		{"spec names another namespace", registry.DeployRequest{Name: "x", Module: hello, Spec: registry.Spec{Namespace: "other"}}, registry.CodeInvalidSpec, `the spec names the namespace "other" but the deploy is to "default"`},
		{"spec out of range", registry.DeployRequest{Name: "x", Module: hello, Spec: registry.Spec{MemoryMB: 5000}}, registry.CodeInvalidSpec, "memory_mb is 5000"},
		{"bad trigger", registry.DeployRequest{Name: "x", Module: hello, Spec: registry.Spec{Triggers: []registry.Trigger{{Type: "cron", Schedule: "@never"}}}}, registry.CodeInvalidSpec, "triggers[0]: schedule"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := r.Deploy(ctx, tt.req)
			var ve *registry.ValidationError
			if !errors.As(err, &ve) || ve.Code != tt.code || !strings.Contains(ve.Message, tt.mention) {
				t.Fatalf("got %v, want a %s error mentioning %q", err, tt.code, tt.mention)
			}
		})
	}
	if fns, err := r.List(ctx, registry.DefaultNamespace); err != nil || len(fns) != 0 {
		t.Fatalf("refused deploys left functions behind: %v %v", fns, err)
	}
	if keys, err := e.store.List(ctx, "modules/"); err != nil || len(keys) != 0 {
		t.Fatalf("refused deploys left modules behind: %v %v", keys, err)
	}
}

func TestDeployStoresFullSpec(t *testing.T) {
	ctx := context.Background()
	r := newEnv(t).open(t)
	spec := registry.Spec{
		Description: "greets", MemoryMB: 32, MaxPayload: 1 << 20, Env: map[string]string{"GREETING": "hi"},
		Secrets: []string{"api-token"}, Labels: map[string]string{"team": "web"},
		Triggers: []registry.Trigger{{Type: "nats", Subject: "greet.requests"}},
	}
	_, v, err := r.Deploy(ctx, registry.DeployRequest{Namespace: "team", Name: "greet", Module: hello(), Spec: spec})
	if err != nil {
		t.Fatal(err)
	}
	want := spec
	want.Name, want.Namespace, want.ABI, want.TimeoutMs, want.Records = "greet", "team", abi.Command, int(limits.DefaultTimeout.Milliseconds()), registry.RecordsAll
	fn, err := r.Get(ctx, "team", "greet")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(v.Spec, want) || !reflect.DeepEqual(fn.Latest().Spec, want) {
		t.Fatalf("stored spec %+v\nwant %+v", fn.Latest().Spec, want)
	}
	// The stored record keeps secret names only.
	raw, _ := json.Marshal(fn)
	if !strings.Contains(string(raw), `"secrets":["api-token"]`) {
		t.Fatalf("record %s", raw)
	}
}

func TestDryRunStoresNothing(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	r := e.open(t)
	_, v, err := r.Deploy(ctx, registry.DeployRequest{Name: "x", Module: hello(), DryRun: true})
	if err != nil || v.Version != 0 || v.ABI != abi.Command || v.Digest != registry.DigestOf(hello()) {
		t.Fatalf("dry run: %+v %v", v, err)
	}
	if _, err := r.Get(ctx, registry.DefaultNamespace, "x"); !errors.Is(err, registry.ErrNotFound) {
		t.Fatalf("dry run stored the function: %v", err)
	}
	if keys, _ := e.store.List(ctx, "modules/"); len(keys) != 0 {
		t.Fatalf("dry run stored the module: %v", keys)
	}
	if _, _, err := r.Deploy(ctx, registry.DeployRequest{Name: "x", Module: []byte("nope"), DryRun: true}); err == nil {
		t.Fatal("dry run accepted a bad module")
	}
}
