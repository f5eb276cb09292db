package grafana_test

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/hearthfn/hearth/internal/metricsdoc"
)

type panel struct {
	Type       string `json:"type"`
	Title      string `json:"title"`
	Datasource *struct {
		Type string `json:"type"`
		UID  string `json:"uid"`
	} `json:"datasource"`
	Targets []struct {
		Expr string `json:"expr"`
	} `json:"targets"`
	Panels []panel `json:"panels"` // a collapsed row's
}

type dashboard struct {
	Title         string `json:"title"`
	UID           string `json:"uid"`
	SchemaVersion int    `json:"schemaVersion"`
	Templating    struct {
		List []struct {
			Name  string          `json:"name"`
			Type  string          `json:"type"`
			Query json.RawMessage `json:"query"`
		} `json:"list"`
	} `json:"templating"`
	Panels []panel `json:"panels"`
}

// Grafana's variables, as a query would have them expanded.
var expand = strings.NewReplacer(
	"$__rate_interval", "5m", "$__interval", "1m", "$__range", "1h",
	"${namespace}", ".*", "$namespace", ".*", "${function}", ".*", "$function", ".*",
)

// TestDashboard checks deploy/grafana/hearth.json: a Grafana JSON model
// with a datasource variable that every panel uses, namespace and
// function variables, the rows an operator looks for, and every PromQL
// expression (panels and variable queries) parsed by Prometheus' own
// parser and naming only metrics the roles register (docs/metrics.md,
// which TestMetrics keeps equal to what they register).
func TestDashboard(t *testing.T) {
	data, err := os.ReadFile("hearth.json")
	if err != nil {
		t.Fatal(err)
	}
	var d dashboard
	if err := json.Unmarshal(data, &d); err != nil {
		t.Fatal(err)
	}
	if d.SchemaVersion < 36 || d.UID == "" || d.Title == "" {
		t.Errorf("schemaVersion %d, uid %q, title %q", d.SchemaVersion, d.UID, d.Title)
	}
	doc, err := metricsdoc.Read("../../docs/metrics.md")
	if err != nil {
		t.Fatal(err)
	}
	p := metricsdoc.NewParser()

	vars := map[string]string{}
	for _, v := range d.Templating.List {
		vars[v.Name] = v.Type
		if v.Type != "query" {
			continue
		}
		var q struct {
			Query string `json:"query"`
		}
		if err := json.Unmarshal(v.Query, &q); err != nil {
			t.Errorf("variable %s: query %s: %v", v.Name, v.Query, err)
			continue
		}
		// label_values(SELECTOR, LABEL): the selector is PromQL.
		inner, ok := strings.CutPrefix(q.Query, "label_values(")
		i := strings.LastIndex(inner, ",")
		if !ok || i < 0 {
			t.Errorf("variable %s: query %q is not label_values(selector, label)", v.Name, q.Query)
			continue
		}
		if err := doc.CheckExpr(p, expand.Replace(inner[:i])); err != nil {
			t.Errorf("variable %s: %v", v.Name, err)
		}
	}
	for name, typ := range map[string]string{"datasource": "datasource", "namespace": "query", "function": "query"} {
		if vars[name] != typ {
			t.Errorf("variable %s is %q, want a %s variable", name, vars[name], typ)
		}
	}

	rows := map[string]bool{}
	exprs := 0
	var walk func([]panel)
	walk = func(panels []panel) {
		for _, pn := range panels {
			if pn.Type == "row" {
				rows[strings.ToLower(strings.Fields(pn.Title)[0])] = true
				walk(pn.Panels)
				continue
			}
			if pn.Datasource == nil || pn.Datasource.UID != "${datasource}" {
				t.Errorf("panel %q does not use the ${datasource} variable", pn.Title)
			}
			if len(pn.Targets) == 0 {
				t.Errorf("panel %q has no query", pn.Title)
			}
			for _, tg := range pn.Targets {
				exprs++
				if err := doc.CheckExpr(p, expand.Replace(tg.Expr)); err != nil {
					t.Errorf("panel %q: %s: %v", pn.Title, tg.Expr, err)
				}
			}
		}
	}
	walk(d.Panels)
	for _, want := range []string{"overview", "per", "runners", "async", "autoscaler"} {
		if !rows[want] {
			t.Errorf("no row %q (rows: %v)", want, rows)
		}
	}
	if exprs < 20 {
		t.Errorf("%d queries; the dashboard lost its panels?", exprs)
	}
}
