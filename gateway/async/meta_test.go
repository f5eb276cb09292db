package async

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/hearthfn/hearth/internal/testutil"
	"github.com/hearthfn/hearth/internal/wire"
)

func TestMetaJSON(t *testing.T) {
	check := func(m *meta) {
		t.Helper()
		want, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		got := m.appendJSON(nil)
		var a, b meta
		if err := json.Unmarshal(got, &a); err != nil {
			t.Fatalf("%v in %s", err, got)
		}
		if err := json.Unmarshal(want, &b); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(a, b) {
			t.Fatalf("appendJSON decodes differently:\n got %s\nwant %s", got, want)
		}
	}
	full := &meta{}
	testutil.Fill(t, reflect.ValueOf(full).Elem(), "x\"\\\n\x01é\xff", 2)
	check(full)
	check(&meta{})
	check(&meta{Req: &wire.Request{Headers: map[string][]string{"A": nil, "B": {}}}})
}
