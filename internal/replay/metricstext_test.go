package replay

import (
	"fmt"
	"math"
	"strings"
	"testing"
)

const exposition = `# HELP hearth_runner_idle_instance_seconds_total Time …
# TYPE hearth_runner_idle_instance_seconds_total counter
hearth_runner_idle_instance_seconds_total{function="a",namespace="default",runner="r1"} 12.5
hearth_runner_idle_instance_seconds_total{function="b\"q\\x\ny",namespace="default",runner="r1",} 3e-3 1700000000000
hearth_runner_instances{function="a",namespace="default",runner="r1",state="idle"} 1
hearth_autoscaler_minute 17
hearth_autoscaler_minute_seconds{policy="hybrid"} 0.5
`

func TestParseSamples(t *testing.T) {
	got, err := parseSamples(strings.NewReader(exposition), idleSecondsMetric, minuteMetric, minuteSecondsMetric)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 4 {
		t.Fatalf("%d samples: %+v", len(got), got)
	}
	if got[0].labels["function"] != "a" || got[0].value != 12.5 || got[0].labels["runner"] != "r1" {
		t.Errorf("first: %+v", got[0])
	}
	if got[1].labels["function"] != "b\"q\\x\ny" || got[1].value != 0.003 {
		t.Errorf("escapes and timestamp: %+v", got[1])
	}
	if got[2].name != minuteMetric || got[2].value != 17 || len(got[2].labels) != 0 {
		t.Errorf("no labels: %+v", got[2])
	}
	ids := idleSeconds(got, "default", map[string]int{"a": 0, "x": 1})
	if len(ids) != 1 || ids[0] != 12.5 {
		t.Errorf("idleSeconds: %v", ids)
	}
}

func TestParseSamplesErrors(t *testing.T) {
	for _, line := range []string{
		`m{a="1"`,
		`m{a="1"} x`,
		`m{a=1} 1`,
		`m{a="1",a="2"} 1`,
		`m{a="\q"} 1`,
		`m{="1"} 1`,
		`m 1 2 3`,
		`m 1 notatime`,
		`m`,
	} {
		_, err := parseSamples(strings.NewReader("# c\n"+line+"\n"), "m")
		if err == nil || !strings.Contains(err.Error(), "line 2") {
			t.Errorf("%q: %v, want an error on line 2", line, err)
		}
	}
	// Lines of other metrics are not parsed.
	if got, err := parseSamples(strings.NewReader("other{broken\nm 1\n"), "m"); err != nil || len(got) != 1 {
		t.Errorf("other metric's broken line: %v %v", got, err)
	}
}

// escaper writes a label value in the format.
var escaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)

// FuzzParseSamples: the parser never panics, and a sample it writes back
// in the format reads the same.
func FuzzParseSamples(f *testing.F) {
	f.Add(exposition)
	f.Add("m{a=\"\\\\\"} +Inf\nm NaN\n")
	f.Add("m{a=\"1\",b=\"2\",} -1 5\r\n")
	f.Fuzz(func(t *testing.T, text string) {
		got, err := parseSamples(strings.NewReader(text), "m", idleSecondsMetric, minuteMetric)
		if err != nil {
			return
		}
		for _, s := range got {
			var b strings.Builder
			b.WriteString(s.name + "{")
			for k, v := range s.labels {
				fmt.Fprintf(&b, "%s=\"%s\",", k, escaper.Replace(v))
			}
			fmt.Fprintf(&b, "} %v\n", s.value)
			again, err := parseSamples(strings.NewReader(b.String()), s.name)
			if err != nil || len(again) != 1 {
				t.Fatalf("%+v written as %q reads %v, %v", s, b.String(), again, err)
			}
			a := again[0]
			if len(a.labels) != len(s.labels) || !(a.value == s.value || math.IsNaN(a.value) && math.IsNaN(s.value)) {
				t.Fatalf("%+v read back as %+v", s, a)
			}
			for k, v := range s.labels {
				if a.labels[k] != v {
					t.Fatalf("label %s: %q read back as %q", k, v, a.labels[k])
				}
			}
		}
	})
}
