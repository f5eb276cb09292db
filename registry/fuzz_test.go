package registry_test

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"

	"github.com/hearthfn/hearth/registry"
)

// FuzzSpec feeds spec documents to DecodeSpec and Validate: they never
// panic, every refusal is a ValidationError with a message, and an
// accepted spec survives a JSON round trip unchanged and still valid.
func FuzzSpec(f *testing.F) {
	for _, seed := range []string{
		`{}`,
		`{"memory_mb":64,"timeout_ms":500,"env":{"A":"b"}}`,
		`{"name":"hello","namespace":"team","abi":"reactor","concurrency":4,"max_payload":1048576}`,
		`{"secrets":["DB","TOKEN"],"labels":{"example.com/team":"web"}}`,
		`{"triggers":[{"type":"nats","subject":"orders.>","options":{"queue":"q"}},{"type":"cron","schedule":"*/5 1-3 * 1 1-5"}]}`,
		`{"triggers":[{"type":"cron","schedule":"@every 1m"}]}`,
		`{"memory_mb":1e99}`,
		`{"labels":{"a/b/c":""}}`,
		`{`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		spec, err := registry.DecodeSpec(raw)
		if err == nil {
			err = spec.Validate()
		}
		if err != nil {
			var ve *registry.ValidationError
			if !errors.As(err, &ve) || ve.Message == "" || ve.Code != registry.CodeInvalidSpec {
				t.Fatalf("refusal is not an invalid_spec ValidationError: %#v", err)
			}
			return
		}
		again, err := json.Marshal(spec)
		if err != nil {
			t.Fatal(err)
		}
		back, err := registry.DecodeSpec(again)
		if err != nil {
			t.Fatalf("a valid spec does not decode after encoding: %v\n%s", err, again)
		}
		if err := back.Validate(); err != nil {
			t.Fatalf("a valid spec is invalid after a round trip: %v", err)
		}
		if !reflect.DeepEqual(normalize(spec), normalize(back)) {
			t.Fatalf("round trip changed the spec:\n%#v\n%#v", spec, back)
		}
		if err := back.WithDefaults().Validate(); err != nil {
			t.Fatalf("defaults made a valid spec invalid: %v", err)
		}
	})
}

// normalize makes empty collections nil, as omitempty encodes them.
func normalize(s registry.Spec) registry.Spec {
	if len(s.Env) == 0 {
		s.Env = nil
	}
	if len(s.Labels) == 0 {
		s.Labels = nil
	}
	if len(s.Secrets) == 0 {
		s.Secrets = nil
	}
	if len(s.Triggers) == 0 {
		s.Triggers = nil
	}
	for i := range s.Triggers {
		if len(s.Triggers[i].Options) == 0 {
			s.Triggers[i].Options = nil
		}
	}
	return s
}

// FuzzParseRef: references never panic the parser, refusals are
// invalid_name errors, and an accepted reference prints back to one that
// parses the same.
func FuzzParseRef(f *testing.F) {
	for _, seed := range []string{"hello", "hello@3", "hello:prod", "hello:latest", "a@1:b", "@", ":", "x@0"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ref, err := registry.ParseRef(s)
		if err != nil {
			var ve *registry.ValidationError
			if !errors.As(err, &ve) || ve.Code != registry.CodeInvalidName {
				t.Fatalf("ParseRef(%q) refusal %#v", s, err)
			}
			return
		}
		again, err := registry.ParseRef(ref.String())
		if err != nil || again != ref {
			t.Fatalf("ParseRef(%q) = %+v prints as %q, which parses to %+v, %v", s, ref, ref.String(), again, err)
		}
	})
}
