package tracing

import (
	"strings"
	"testing"
)

const sample = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"

func TestParse(t *testing.T) {
	sc, ok := Parse(sample)
	if !ok {
		t.Fatal("the recommendation's example was refused")
	}
	if got := sc.TraceIDString(); got != "4bf92f3577b34da6a3ce929d0e0e4736" {
		t.Fatalf("trace id %s", got)
	}
	if got := sc.SpanIDString(); got != "00f067aa0ba902b7" {
		t.Fatalf("span id %s", got)
	}
	if !sc.Sampled() || sc.String() != sample || TraceID(sample) != sc.TraceIDString() {
		t.Fatalf("flags %x, String %s", sc.Flags, sc.String())
	}
	// A later version is read for the fields version 00 has.
	if sc, ok := Parse("cc" + sample[2:] + "-what-comes-later"); !ok || sc.TraceIDString() != "4bf92f3577b34da6a3ce929d0e0e4736" {
		t.Fatalf("future version: %v %v", sc, ok)
	}
	if sc, ok := Parse(sample[:53] + "00"); !ok || sc.Sampled() {
		t.Fatalf("unsampled: %v %v", sc, ok)
	}
}

// TestParseBadForms: every form the recommendation says to ignore is
// refused, so the gateway starts a new trace instead.
func TestParseBadForms(t *testing.T) {
	for _, s := range []string{
		"",
		"garbage",
		sample[:54],             // short
		sample + "0",            // version 00 is exactly 55 characters
		"cc" + sample[2:] + "x", // a later version's extra fields start with '-'
		"ff" + sample[2:],       // version ff is invalid
		"0x" + sample[2:],       // not hex
		strings.ToUpper(sample), // upper case
		"00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
		"00-00000000000000000000000000000000-00f067aa0ba902b7-01", // zero trace id
		"00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01", // zero span id
		"00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
		"00-4bf92f3577b34da6a3ce929d0e0e4736_00f067aa0ba902b7-01",
		"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7_01",
		"00-4bf92f3577b34da6a3ce929d0e0e473g-00f067aa0ba902b7-01",
		"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902bz-01",
		"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0g",
		" 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
	} {
		if sc, ok := Parse(s); ok || sc != (SpanContext{}) {
			t.Errorf("Parse(%q) = %v, %v; want refused", s, sc, ok)
		}
	}
}

func TestNewTraceAndChild(t *testing.T) {
	a, b := NewTrace(), NewTrace()
	if !a.IsValid() || !a.Sampled() || a.TraceID == b.TraceID {
		t.Fatalf("new traces %v %v", a, b)
	}
	if back, ok := Parse(a.String()); !ok || back != a {
		t.Fatalf("round trip of %s: %v %v", a, back, ok)
	}
	c := a.Child()
	if c.TraceID != a.TraceID || c.SpanID == a.SpanID || c.Flags != a.Flags {
		t.Fatalf("child %v of %v", c, a)
	}
}

// TestTracerWithoutExport: the zero tracer continues a trace that came and
// starts one when none did, recording nothing.
func TestTracerWithoutExport(t *testing.T) {
	var tr *Tracer
	parent, _ := Parse(sample)
	s := tr.Start(t.Context(), parent, "x", KindServer)
	if s.Context().TraceID != parent.TraceID || s.Context().SpanID == parent.SpanID || s.Recording() {
		t.Fatalf("span %v of parent %v", s.Context(), parent)
	}
	s.String("k", "v")
	s.Fail("no")
	s.End()
	if s := tr.Start(t.Context(), SpanContext{}, "x", KindServer); !s.Context().IsValid() {
		t.Fatal("no trace started without a parent")
	}
}

func BenchmarkStartNoExport(b *testing.B) {
	var tr Tracer
	b.ReportAllocs()
	for b.Loop() {
		parent, _ := Parse(sample)
		s := tr.Start(b.Context(), parent, "x", KindServer)
		_ = s.Traceparent()
	}
}

func FuzzParse(f *testing.F) {
	f.Add(sample)
	f.Add("cc" + sample[2:] + "-x")
	f.Add("ff" + sample[2:])
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		sc, ok := Parse(s)
		if !ok {
			return
		}
		if !sc.IsValid() {
			t.Fatalf("accepted %q with a zero id", s)
		}
		out := sc.String()
		if back, ok := Parse(out); !ok || back != sc {
			t.Fatalf("%q → %q does not read back", s, out)
		}
		if TraceID(out) != sc.TraceIDString() || !strings.HasPrefix(s[3:], sc.TraceIDString()) {
			t.Fatalf("trace id of %q", s)
		}
	})
}
