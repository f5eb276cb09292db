package replay

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// sample is one sample of the Prometheus text exposition format.
type sample struct {
	name   string
	labels map[string]string
	value  float64
}

// maxMetricsLine bounds a line of a scraped /metrics.
const maxMetricsLine = 1 << 20

// parseSamples reads the Prometheus text exposition format (0.0.4) and
// returns the samples of the named metrics, in the order read. Comments,
// blank lines and other metrics are skipped without being parsed; a
// malformed sample of a named metric is an error that gives its line.
func parseSamples(r io.Reader, names ...string) ([]sample, error) {
	want := make(map[string]bool, len(names))
	for _, n := range names {
		want[n] = true
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), maxMetricsLine)
	var out []sample
	for line := 1; sc.Scan(); line++ {
		text := strings.TrimRight(sc.Text(), "\r")
		rest := strings.TrimLeft(text, " \t")
		if rest == "" || rest[0] == '#' {
			continue
		}
		end := strings.IndexAny(rest, "{ \t")
		if end < 0 {
			end = len(rest)
		}
		if !want[rest[:end]] {
			continue
		}
		s, err := parseSample(rest, end)
		if err != nil {
			return nil, fmt.Errorf("metrics line %d: %w: %q", line, err, truncate(text, 200))
		}
		out = append(out, s)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading metrics: %w", err)
	}
	return out, nil
}

// parseSample parses a sample line whose name ends at end.
func parseSample(line string, end int) (sample, error) {
	s := sample{name: line[:end], labels: map[string]string{}}
	rest := line[end:]
	if strings.HasPrefix(rest, "{") {
		var err error
		if rest, err = parseLabels(rest[1:], s.labels); err != nil {
			return sample{}, err
		}
	}
	fields := strings.Fields(rest)
	if len(fields) == 0 || len(fields) > 2 {
		return sample{}, fmt.Errorf("want a value and an optional timestamp after the name and labels")
	}
	v, err := strconv.ParseFloat(fields[0], 64)
	if err != nil {
		return sample{}, fmt.Errorf("value %q is not a number", fields[0])
	}
	if len(fields) == 2 {
		if _, err := strconv.ParseInt(fields[1], 10, 64); err != nil {
			return sample{}, fmt.Errorf("timestamp %q is not an integer", fields[1])
		}
	}
	s.value = v
	return s, nil
}

// parseLabels parses `name="value",…}` into labels and returns what
// follows the closing brace.
func parseLabels(s string, labels map[string]string) (string, error) {
	for {
		s = strings.TrimLeft(s, " \t")
		if strings.HasPrefix(s, "}") {
			return s[1:], nil
		}
		i := 0
		for i < len(s) && (s[i] == '_' || s[i] >= 'a' && s[i] <= 'z' || s[i] >= 'A' && s[i] <= 'Z' || i > 0 && s[i] >= '0' && s[i] <= '9') {
			i++
		}
		if i == 0 {
			return "", fmt.Errorf("want a label name or }")
		}
		name := s[:i]
		s = strings.TrimLeft(s[i:], " \t")
		if !strings.HasPrefix(s, "=") {
			return "", fmt.Errorf("label %s has no =", name)
		}
		s = strings.TrimLeft(s[1:], " \t")
		if !strings.HasPrefix(s, `"`) {
			return "", fmt.Errorf("label %s: want a quoted value", name)
		}
		var b strings.Builder
		j := 1
		for ; j < len(s) && s[j] != '"'; j++ {
			c := s[j]
			if c == '\\' {
				if j+1 == len(s) {
					break
				}
				j++
				switch s[j] {
				case 'n':
					c = '\n'
				case '\\', '"':
					c = s[j]
				default:
					return "", fmt.Errorf(`label %s: unknown escape \%c`, name, s[j])
				}
			}
			b.WriteByte(c)
		}
		if j >= len(s) {
			return "", fmt.Errorf("label %s: unterminated value", name)
		}
		if _, dup := labels[name]; dup {
			return "", fmt.Errorf("label %s appears twice", name)
		}
		labels[name] = b.String()
		s = strings.TrimLeft(s[j+1:], " \t")
		if strings.HasPrefix(s, ",") {
			s = s[1:]
		} else if !strings.HasPrefix(s, "}") {
			return "", fmt.Errorf("want , or } after label %s", name)
		}
	}
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
