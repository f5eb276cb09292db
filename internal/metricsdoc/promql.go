package metricsdoc

import (
	"fmt"
	"sort"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"
)

// NewParser is the PromQL parser the dashboard's and the rules' tests
// use: Prometheus' own, with its default functions.
func NewParser() parser.Parser { return parser.NewParser(parser.Options{}) }

// SeriesNames parses a PromQL expression and returns the metric names its
// selectors name, sorted (a selector by __name__ counts too).
func SeriesNames(p parser.Parser, expr string) ([]string, error) {
	ast, err := p.ParseExpr(expr)
	if err != nil {
		return nil, err
	}
	set := map[string]bool{}
	parser.Inspect(ast, func(node parser.Node, _ []parser.Node) error {
		vs, ok := node.(*parser.VectorSelector)
		if !ok {
			return nil
		}
		if vs.Name != "" {
			set[vs.Name] = true
		}
		for _, m := range vs.LabelMatchers {
			if m.Name == labels.MetricName && m.Type == labels.MatchEqual {
				set[m.Value] = true
			}
		}
		return nil
	})
	names := make([]string, 0, len(set))
	for n := range set {
		names = append(names, n)
	}
	sort.Strings(names)
	return names, nil
}

// Prometheus' own series, which no role registers.
var builtin = map[string]bool{"up": true, "scrape_duration_seconds": true, "ALERTS": true}

// CheckExpr parses expr and reports a name in it that neither the page
// lists nor Prometheus makes itself.
func (d *Doc) CheckExpr(p parser.Parser, expr string) error {
	names, err := SeriesNames(p, expr)
	if err != nil {
		return fmt.Errorf("parse: %w", err)
	}
	if len(names) == 0 {
		return fmt.Errorf("names no metric")
	}
	for _, n := range names {
		if _, ok := d.Series(n); !ok && !builtin[n] {
			return fmt.Errorf("names %s, which docs/metrics.md does not list (no role registers it)", n)
		}
	}
	return nil
}
