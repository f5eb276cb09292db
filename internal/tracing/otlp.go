package tracing

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"time"

	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.37.0"
)

// Endpoint reads an --otlp-endpoint: an OTLP/HTTP collector as
// host:port or an http(s) URL. A URL without a path gets the traces
// path, /v1/traces, as OTEL_EXPORTER_OTLP_ENDPOINT does; host:port means
// plain http. It returns the URL the spans are posted to.
func Endpoint(s string) (*url.URL, error) {
	if s == "" {
		return nil, fmt.Errorf("empty OTLP endpoint: give host:port or an http(s) URL, such as http://127.0.0.1:4318")
	}
	raw := s
	if !strings.Contains(s, "://") {
		raw = "http://" + s
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Port() == "" && !strings.Contains(s, "://") ||
		u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("OTLP endpoint %q: give host:port or an http(s) URL without credentials or query, such as http://127.0.0.1:4318", s)
	}
	if u.Path == "" || u.Path == "/" {
		u.Path = "/v1/traces"
	}
	return u, nil
}

// NewOTLP makes a tracer that records every sampled span (a trace that
// came unsampled stays so) and exports them in batches to endpoint (see
// Endpoint) over OTLP/HTTP, as service (hearth-gateway, hearth-runner,
// hearth-dev). Nothing is sent until a span ends; a collector that is
// down costs dropped spans, never a failed call.
func NewOTLP(ctx context.Context, endpoint, service, version string) (*Tracer, error) {
	u, err := Endpoint(endpoint)
	if err != nil {
		return nil, err
	}
	opts := []otlptracehttp.Option{otlptracehttp.WithEndpoint(u.Host), otlptracehttp.WithURLPath(u.Path), otlptracehttp.WithTimeout(10 * time.Second)}
	if u.Scheme == "http" {
		opts = append(opts, otlptracehttp.WithInsecure())
	}
	exp, err := otlptracehttp.New(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("OTLP exporter: %w", err)
	}
	res := resource.NewSchemaless(semconv.ServiceName(service), semconv.ServiceVersion(version))
	tp := sdktrace.NewTracerProvider(
		sdktrace.WithBatcher(exp),
		sdktrace.WithResource(res),
		sdktrace.WithSampler(sdktrace.ParentBased(sdktrace.AlwaysSample())),
	)
	return &Tracer{otel: tp.Tracer("github.com/hearthfn/hearth"), shutdown: tp.Shutdown}, nil
}
