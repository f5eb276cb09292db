package stacktest

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/hearthfn/hearth/internal/stack"
)

// Families are the series of one scrape, by family name, as Prometheus'
// own text parser reads them.
type Families map[string]*dto.MetricFamily

// Scrape reads a /metrics endpoint, with key as a bearer token ("" for
// none).
func Scrape(t testing.TB, url, key string) Families {
	t.Helper()
	var header map[string]string
	if key != "" {
		header = map[string]string{"Authorization": "Bearer " + key}
	}
	resp, body := Do(t, http.MethodGet, url, "", nil, header)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %.300s", url, resp.StatusCode, body)
	}
	return ParseFamilies(t, string(body))
}

// GatewayFamilies reads the stack's gateway /metrics through its handler
// (with the stack's admin key, if any).
func GatewayFamilies(t testing.TB, s *stack.Stack) Families {
	t.Helper()
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
	if s.AdminKey != "" {
		req.Header.Set("Authorization", "Bearer "+s.AdminKey)
	}
	s.Gateway.Handler().ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		t.Fatalf("/metrics: %d %.300s", rec.Code, rec.Body.String())
	}
	return ParseFamilies(t, rec.Body.String())
}

// ParseFamilies parses Prometheus text exposition.
func ParseFamilies(t testing.TB, text string) Families {
	t.Helper()
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(text))
	if err != nil {
		t.Fatalf("parse metrics: %v\n%.2000s", err, text)
	}
	return fams
}

// Value adds up the series of family name whose labels include labels: a
// counter's or gauge's value, a histogram's sample count. A family that
// is missing adds up to 0; Has tells the two apart.
func (f Families) Value(name string, labels map[string]string) float64 {
	var sum float64
	for _, m := range f.series(name, labels) {
		switch {
		case m.Counter != nil:
			sum += m.Counter.GetValue()
		case m.Gauge != nil:
			sum += m.Gauge.GetValue()
		case m.Histogram != nil:
			sum += float64(m.Histogram.GetSampleCount())
		case m.Untyped != nil:
			sum += m.Untyped.GetValue()
		}
	}
	return sum
}

// Has reports whether family name has a series whose labels include
// labels.
func (f Families) Has(name string, labels map[string]string) bool {
	return len(f.series(name, labels)) > 0
}

func (f Families) series(name string, labels map[string]string) []*dto.Metric {
	fam := f[name]
	if fam == nil {
		return nil
	}
	var out []*dto.Metric
	for _, m := range fam.GetMetric() {
		have := map[string]string{}
		for _, l := range m.GetLabel() {
			have[l.GetName()] = l.GetValue()
		}
		match := true
		for k, v := range labels {
			if have[k] != v {
				match = false
				break
			}
		}
		if match {
			out = append(out, m)
		}
	}
	return out
}
