package tracing

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/hearthfn/hearth/internal/tracing/tracingtest"
)

func TestEndpoint(t *testing.T) {
	for in, want := range map[string]string{
		"127.0.0.1:4318":               "http://127.0.0.1:4318/v1/traces",
		"http://collector:4318":        "http://collector:4318/v1/traces",
		"https://collector/":           "https://collector/v1/traces",
		"http://collector:4318/custom": "http://collector:4318/custom",
	} {
		u, err := Endpoint(in)
		if err != nil || u.String() != want {
			t.Errorf("Endpoint(%q) = %v, %v; want %s", in, u, err, want)
		}
	}
	for _, bad := range []string{"", "collector", "ftp://collector:21", "http://", "http://u:p@collector:4318", "http://collector:4318/?a=b", "::", "http://collector:4318/#x"} {
		if u, err := Endpoint(bad); err == nil {
			t.Errorf("Endpoint(%q) = %v; want an error", bad, u)
		}
	}
}

// TestOTLPExport: spans started with a parent from a traceparent reach an
// OTLP/HTTP collector in the parent's trace, children of it, once the
// tracer shuts down; an unsampled trace is not exported.
func TestOTLPExport(t *testing.T) {
	col := tracingtest.NewCollector(t)
	tr, err := NewOTLP(t.Context(), col.URL, "hearth-test", "v0")
	if err != nil {
		t.Fatal(err)
	}
	parent, _ := Parse(sample)
	s := tr.Start(t.Context(), parent, "POST /v1/functions/:name/invoke", KindServer)
	if !s.Recording() || s.Context().TraceID != parent.TraceID {
		t.Fatalf("span %v recording %v", s.Context(), s.Recording())
	}
	s.String("hearth.function", "echo")
	s.End()
	unsampled, _ := Parse(sample[:53] + "00")
	u := tr.Start(t.Context(), unsampled, "not recorded", KindServer)
	if u.Recording() || u.Context().TraceID != unsampled.TraceID || u.Context().Sampled() {
		t.Fatalf("unsampled span %v recording %v", u.Context(), u.Recording())
	}
	u.End()
	fresh := tr.Start(t.Context(), SpanContext{}, "root", KindInternal)
	fresh.End()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := tr.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	got := col.Spans()
	if len(got) != 2 {
		t.Fatalf("exported %+v; want the invoke span and the root", got)
	}
	want := tracingtest.Span{Trace: parent.TraceIDString(), ID: s.Context().SpanIDString(), Parent: parent.SpanIDString(),
		Name: "POST /v1/functions/:name/invoke", Service: "hearth-test", Attrs: map[string]string{"hearth.function": "echo"}}
	if !reflect.DeepEqual(got[0], want) {
		t.Fatalf("span %+v; want %+v", got[0], want)
	}
	if got[1].Trace != fresh.Context().TraceIDString() || got[1].Parent != "" {
		t.Fatalf("root span %+v", got[1])
	}
}
