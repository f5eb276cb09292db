// Package tracing carries W3C trace context (traceparent) through a call:
// the gateway takes it from the HTTP request (or starts a trace when there
// is none, or when it is malformed), sends it to the runner in a NATS
// header, and both put its trace id on their log lines and in the
// invocation record.
//
// A [SpanContext] is the parsed header; [Parse] reads one and
// [SpanContext.String] writes it. A [Tracer] starts spans: the zero
// Tracer only makes ids (a child span id for each hop, a new trace when
// none came), which costs a few random numbers and one string per call;
// one made by [NewOTLP] also records the spans with OpenTelemetry and
// exports them over OTLP/HTTP (`--otlp-endpoint`, off by default).
package tracing
