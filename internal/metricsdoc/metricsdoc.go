// Package metricsdoc reads the metric tables of docs/metrics.md: the list
// that the metrics test keeps equal to what the roles register, and that
// the dashboard's and the alert rules' tests check their names against.
package metricsdoc

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"sort"
	"strings"
)

// Metric is one row of a metric table.
type Metric struct {
	Name   string   // a family name, or a prefix ending in * (go_*)
	Type   string   // counter, gauge, histogram, summary; "various" for a prefix
	Labels []string // sorted; nil when the row says —
}

// Prefix reports whether the row stands for every family whose name
// begins with Name less its *.
func (m Metric) Prefix() bool { return strings.HasSuffix(m.Name, "*") }

// Doc is the parsed page.
type Doc struct {
	Metrics  map[string]Metric // by Name
	prefixes []string
}

// Read parses the metric tables of the page at path: every table row
// whose first cell is a backquoted name beginning hearth_, go_ or
// process_, with columns metric, type, labels, meaning.
func Read(path string) (*Doc, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(data)
}

// Parse parses a page's content (see Read).
func Parse(data []byte) (*Doc, error) {
	d := &Doc{Metrics: map[string]Metric{}}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if !strings.HasPrefix(line, "| `") {
			continue
		}
		cells := strings.Split(strings.Trim(line, "|"), "|")
		name := strings.Trim(strings.TrimSpace(cells[0]), "`")
		if !strings.HasPrefix(name, "hearth_") && !strings.HasPrefix(name, "go_") && !strings.HasPrefix(name, "process_") {
			continue // another table
		}
		if len(cells) < 4 {
			return nil, fmt.Errorf("line %d: want | metric | type | labels | meaning |, got %q", n, line)
		}
		m := Metric{Name: name, Type: strings.TrimSpace(cells[1])}
		for _, l := range strings.Split(cells[2], ",") {
			if l = strings.Trim(strings.TrimSpace(l), "`"); l != "" && l != "—" {
				m.Labels = append(m.Labels, l)
			}
		}
		sort.Strings(m.Labels)
		if _, dup := d.Metrics[name]; dup {
			return nil, fmt.Errorf("line %d: %s is listed twice", n, name)
		}
		d.Metrics[name] = m
		if m.Prefix() {
			d.prefixes = append(d.prefixes, strings.TrimSuffix(name, "*"))
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(d.Metrics) == 0 {
		return nil, fmt.Errorf("no metric table rows found")
	}
	return d, nil
}

// Lookup finds the row of family name: its own, or a prefix row's.
func (d *Doc) Lookup(name string) (Metric, bool) {
	if m, ok := d.Metrics[name]; ok {
		return m, true
	}
	for _, p := range d.prefixes {
		if strings.HasPrefix(name, p) {
			return d.Metrics[p+"*"], true
		}
	}
	return Metric{}, false
}

// Series finds the row of a series name as PromQL names it: a family, or
// a histogram's or summary's _bucket, _sum or _count series.
func (d *Doc) Series(name string) (Metric, bool) {
	if m, ok := d.Lookup(name); ok {
		return m, true
	}
	for _, suffix := range []string{"_bucket", "_sum", "_count"} {
		base, ok := strings.CutSuffix(name, suffix)
		if !ok {
			continue
		}
		if m, ok := d.Lookup(base); ok && (m.Type == "histogram" || m.Type == "summary") {
			return m, true
		}
	}
	return Metric{}, false
}
