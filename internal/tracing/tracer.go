package tracing

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
)

// Kind says what a span is to the trace: the gateway's request is a
// server span, the runner's execution and the async dispatcher's attempt
// are consumers of a message.
type Kind int

// The kinds of span Hearth starts.
const (
	KindInternal Kind = iota
	KindServer
	KindConsumer
)

func (k Kind) otel() trace.SpanKind {
	switch k {
	case KindServer:
		return trace.SpanKindServer
	case KindConsumer:
		return trace.SpanKindConsumer
	}
	return trace.SpanKindInternal
}

// Tracer starts spans. The zero Tracer (and a nil one) records nothing:
// its spans only have ids, for the next hop's traceparent and the logs.
// One made by NewOTLP records them and exports them.
type Tracer struct {
	otel     trace.Tracer // nil: ids only
	shutdown func(context.Context) error
}

// Exporting reports whether the tracer records and exports spans.
func (t *Tracer) Exporting() bool { return t != nil && t.otel != nil }

// Start starts a span named name, a child of parent, or the first span of
// a new trace when parent is not valid (absent or malformed).
func (t *Tracer) Start(ctx context.Context, parent SpanContext, name string, kind Kind) Span {
	if !t.Exporting() {
		if !parent.IsValid() {
			return Span{sc: NewTrace()}
		}
		return Span{sc: parent.Child()}
	}
	if parent.IsValid() {
		ctx = trace.ContextWithRemoteSpanContext(ctx, trace.NewSpanContext(trace.SpanContextConfig{
			TraceID: parent.TraceID, SpanID: parent.SpanID, TraceFlags: trace.TraceFlags(parent.Flags), Remote: true,
		}))
	}
	_, sp := t.otel.Start(ctx, name, trace.WithSpanKind(kind.otel()))
	osc := sp.SpanContext()
	s := Span{sc: SpanContext{TraceID: osc.TraceID(), SpanID: osc.SpanID(), Flags: byte(osc.TraceFlags())}}
	if sp.IsRecording() {
		s.span = sp
	}
	return s
}

// Shutdown exports the spans still buffered and stops the exporter.
func (t *Tracer) Shutdown(ctx context.Context) error {
	if t == nil || t.shutdown == nil {
		return nil
	}
	return t.shutdown(ctx)
}

// Span is a started span: its context, and when the tracer records it,
// the OpenTelemetry span that its attributes go to. Its methods do
// nothing on a span that is not recorded.
type Span struct {
	sc   SpanContext
	span trace.Span
}

// Context is the span's own context: the parent of the next hop.
func (s *Span) Context() SpanContext { return s.sc }

// Traceparent is the traceparent header that makes the next hop a child
// of this span.
func (s *Span) Traceparent() string { return s.sc.String() }

// Recording reports whether the span is recorded (and its attributes
// worth setting).
func (s *Span) Recording() bool { return s.span != nil }

// SetName renames the span (a server span learns its route after it
// started).
func (s *Span) SetName(name string) {
	if s.span != nil {
		s.span.SetName(name)
	}
}

// String sets a string attribute.
func (s *Span) String(key, value string) {
	if s.span != nil && value != "" {
		s.span.SetAttributes(attribute.String(key, value))
	}
}

// Int sets an integer attribute.
func (s *Span) Int(key string, value int) {
	if s.span != nil {
		s.span.SetAttributes(attribute.Int(key, value))
	}
}

// Bool sets a boolean attribute.
func (s *Span) Bool(key string, value bool) {
	if s.span != nil {
		s.span.SetAttributes(attribute.Bool(key, value))
	}
}

// Fail marks the span as failed, with what went wrong.
func (s *Span) Fail(message string) {
	if s.span != nil {
		s.span.SetStatus(codes.Error, message)
	}
}

// End ends the span; a recorded one is then exported.
func (s *Span) End() {
	if s.span != nil {
		s.span.End()
	}
}
