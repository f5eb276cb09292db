package gateway

import (
	"encoding/json"
	"os"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/hearthfn/hearth/gateway/apierr"
	"github.com/hearthfn/hearth/gateway/async"
	"github.com/hearthfn/hearth/gateway/audit"
	"github.com/hearthfn/hearth/gateway/auth"
	"github.com/hearthfn/hearth/gateway/autoscaler"
	"github.com/hearthfn/hearth/gateway/records"
	"github.com/hearthfn/hearth/gateway/scheduler"
	"github.com/hearthfn/hearth/gateway/secrets"
	"github.com/hearthfn/hearth/internal/wire"
	"github.com/hearthfn/hearth/registry"
)

// TestOpenAPISchemasMatchTypes matches the properties of the document's
// schemas (docs/openapi.json, the served bytes: TestOpenAPIDocument) to
// the JSON fields of the Go types the gateway reads and writes, both
// ways: a field added to a type without its schema, or a schema property
// no type has, fails here.
func TestOpenAPISchemasMatchTypes(t *testing.T) {
	raw, err := os.ReadFile("../docs/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Components struct {
			Schemas map[string]any `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	schemas := doc.Components.Schemas
	for _, tc := range []struct {
		schema string // a schema, then properties, [] for an array's items
		typ    any
	}{
		{"Error", apierr.Body{}},
		{"ErrorDetail", apierr.Detail{}},
		{"Spec", registry.Spec{}},
		{"RateLimit", registry.RateLimit{}},
		{"Trigger", registry.Trigger{}},
		{"AliasTarget", registry.AliasTarget{}},
		{"Deployed", deployResponse{}},
		{"FunctionSummary", functionSummary{}},
		{"FunctionDetail", functionDetail{}},
		{"Version", versionView{}},
		{"Alias", aliasView{}},
		{"Invocation", records.Record{}},
		{"LogEvent", logEvent{}},
		{"Invocation timings", records.Timings{}},
		{"Invocation callback", records.CallbackInfo{}},
		{"ObjectRef", records.ObjectRef{}},
		{"DeadLetterList dead_letters []", async.DeadLetter{}},
		{"RunnerList runners []", scheduler.Info{}},
		{"RunnerList runners [] warm []", wire.WarmModule{}},
		{"Autoscaler", autoscalerView{}},
		{"Autoscaler minutes []", autoscaler.MinuteMark{}},
		{"Autoscaler functions []", autoscaler.FunctionTimeline{}},
		{"Autoscaler events []", autoscaler.Event{}},
		{"Secret", secrets.Meta{}},
		{"KeyRequest", auth.KeyRequest{}},
		{"Key", auth.Key{}},
		{"NewKey", newKeyResponse{}},
		{"AuditList entries []", audit.Entry{}},
		{"FaasFunction", faasFunction{}},
		{"FaasFunction limits", faasResources{}},
		{"FaasInfo", faasInfo{}},
		{"FaasInfo provider", faasProviderInfo{}},
		{"FaasVersion", faasVersion{}},
	} {
		steps := strings.Fields(tc.schema)
		s := resolveSchema(t, schemas, schemas[steps[0]])
		for _, step := range steps[1:] {
			if step == "[]" {
				s = resolveSchema(t, schemas, s["items"])
				continue
			}
			props, _ := s["properties"].(map[string]any)
			s = resolveSchema(t, schemas, props[step])
		}
		if s == nil {
			t.Errorf("no schema %s", tc.schema)
			continue
		}
		props, _ := s["properties"].(map[string]any)
		var have []string
		for p := range props {
			have = append(have, p)
		}
		sort.Strings(have)
		want := jsonFields(reflect.TypeOf(tc.typ))
		for _, f := range want {
			if !slices.Contains(have, f) {
				t.Errorf("%T has the JSON field %q; the schema %s does not", tc.typ, f, tc.schema)
			}
		}
		for _, p := range have {
			if !slices.Contains(want, p) {
				t.Errorf("the schema %s has the property %q; %T does not", tc.schema, p, tc.typ)
			}
		}
	}
}

// resolveSchema follows a $ref to components.schemas.
func resolveSchema(t *testing.T, schemas map[string]any, v any) map[string]any {
	t.Helper()
	s, _ := v.(map[string]any)
	if r, ok := s["$ref"].(string); ok {
		s, _ = schemas[strings.TrimPrefix(r, "#/components/schemas/")].(map[string]any)
	}
	return s
}

// jsonFields are the names encoding/json gives a struct's fields, the
// fields of embedded structs included.
func jsonFields(t reflect.Type) []string {
	var out []string
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		name, _, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" && f.Type.Kind() == reflect.Struct {
			out = append(out, jsonFields(f.Type)...)
			continue
		}
		if !f.IsExported() || name == "-" {
			continue
		}
		if name == "" {
			name = f.Name
		}
		out = append(out, name)
	}
	sort.Strings(out)
	return out
}
