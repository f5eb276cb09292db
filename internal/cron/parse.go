package cron

import (
	"fmt"
	"strings"
	"time"
)

// MinEvery is the shortest period @every accepts.
const MinEvery = time.Second

// descriptors are the @ names of five-field schedules.
var descriptors = map[string]string{
	"@yearly":   "0 0 1 1 *",
	"@annually": "0 0 1 1 *",
	"@monthly":  "0 0 1 * *",
	"@weekly":   "0 0 * * 0",
	"@daily":    "0 0 * * *",
	"@midnight": "0 0 * * *",
	"@hourly":   "0 * * * *",
}

// field is one of the five fields of a cron schedule.
type field struct {
	name     string
	min, max int
}

var fields = [5]field{
	{name: "minute", min: 0, max: 59},
	{name: "hour", min: 0, max: 23},
	{name: "day of month", min: 1, max: 31},
	{name: "month", min: 1, max: 12},
	{name: "day of week", min: 0, max: 7},
}

// Parse reads a schedule: five fields, a descriptor such as @daily, or
// @every DURATION (see the package documentation for the grammar). Leading
// and trailing white space is ignored, and fields may be separated by any
// white space. Its errors start with the schedule, say what is wrong and
// what to write instead.
func Parse(spec string) (Schedule, error) {
	s := strings.TrimSpace(spec)
	words := strings.Fields(s)
	if len(words) == 0 {
		return Schedule{}, fmt.Errorf(`schedule is empty; write five fields such as "*/5 * * * *", a descriptor such as @hourly, or @every DURATION such as @every 90s`)
	}
	if strings.HasPrefix(words[0], "@") {
		return parseDescriptor(spec, s, words)
	}
	if len(words) != len(fields) {
		return Schedule{}, fmt.Errorf("schedule %q has %d fields; a cron schedule has 5: minute hour day-of-month month day-of-week", spec, len(words))
	}
	sched, err := parseFields(words)
	if err != nil {
		return Schedule{}, fmt.Errorf("schedule %q: %w", spec, err)
	}
	sched.spec = s
	return sched, nil
}

// parseDescriptor reads @every DURATION or a descriptor such as @daily.
func parseDescriptor(spec, s string, words []string) (Schedule, error) {
	if words[0] == "@every" {
		if len(words) != 2 {
			return Schedule{}, fmt.Errorf("schedule %q: @every takes one duration, such as @every 90s or @every 1h30m", spec)
		}
		d, err := time.ParseDuration(words[1])
		if err != nil {
			return Schedule{}, fmt.Errorf("schedule %q: %q is not a duration such as 90s, 1.5s or 1h30m", spec, words[1])
		}
		if d < MinEvery {
			return Schedule{}, fmt.Errorf("schedule %q: the period %s is too short; @every must be at least %s", spec, d, MinEvery)
		}
		return Schedule{spec: s, every: d}, nil
	}
	five, ok := descriptors[words[0]]
	if !ok {
		return Schedule{}, fmt.Errorf("schedule %q is not a known descriptor; use @yearly, @monthly, @weekly, @daily, @hourly, @every DURATION or five fields", spec)
	}
	if len(words) != 1 {
		return Schedule{}, fmt.Errorf("schedule %q: %s takes nothing after it; write it alone, or five fields", spec, words[0])
	}
	sched, err := parseFields(strings.Fields(five))
	if err != nil {
		panic("cron: descriptor " + words[0] + ": " + err.Error())
	}
	sched.spec = s
	return sched, nil
}

// parseFields reads the five fields of a cron schedule.
func parseFields(words []string) (Schedule, error) {
	var sets [5]uint64
	for i, w := range words {
		set, err := fields[i].parse(w)
		if err != nil {
			return Schedule{}, err
		}
		sets[i] = set
	}
	dow := sets[4]
	if dow&(1<<7) != 0 { // 7 is Sunday too
		dow = dow&^(1<<7) | 1
	}
	return Schedule{
		minute: sets[0], hour: sets[1], dom: sets[2], month: sets[3], dow: dow,
		domStar: words[2] == "*", dowStar: words[4] == "*",
	}, nil
}

// parse reads one field: a comma list of *, N, N-M, each with an optional
// /STEP.
func (f field) parse(w string) (uint64, error) {
	var set uint64
	for _, item := range strings.Split(w, ",") {
		if item == "" {
			return 0, fmt.Errorf("%s %q has an empty item; separate values with single commas, such as 1,15", f.name, w)
		}
		rng, stepText, hasStep := strings.Cut(item, "/")
		step := 1
		if hasStep {
			n, ok := digits(stepText)
			if !ok || n < 1 || n > f.max {
				return 0, fmt.Errorf("%s step %q must be a number from 1 to %d, such as */5%s", f.name, stepText, f.max, signHint(stepText))
			}
			step = n
		}
		lo, hi := f.min, f.max
		if rng != "*" {
			a, b, isRange := strings.Cut(rng, "-")
			if isRange && a == "" {
				// "-5": a sign, or a range without its start.
				return 0, fmt.Errorf("%s %q must be a number from %d to %d, or a range N-M such as %d-%d; a number takes no sign", f.name, rng, f.min, f.max, f.min, f.max)
			}
			var err error
			if lo, err = f.value(a); err != nil {
				return 0, err
			}
			switch {
			case isRange:
				if hi, err = f.value(b); err != nil {
					return 0, err
				}
				if lo > hi {
					return 0, fmt.Errorf("%s range %s runs backwards; write the smaller number first (%d-%d), or a list of two ranges", f.name, rng, hi, lo)
				}
			case !hasStep:
				hi = lo
			}
			// N/S runs from N to the largest value, every S.
		}
		for v := lo; v <= hi; v += step {
			set |= 1 << v
		}
	}
	return set, nil
}

// value reads one number of the field.
func (f field) value(s string) (int, error) {
	n, ok := digits(s)
	if !ok || n < f.min || n > f.max {
		return 0, fmt.Errorf("%s %q must be a number from %d to %d%s", f.name, s, f.min, f.max, signHint(s))
	}
	return n, nil
}

// signHint completes the error about a number written with a sign.
func signHint(s string) string {
	if s == "" || (s[0] != '+' && s[0] != '-') {
		return ""
	}
	return "; a number takes no sign, write " + strings.TrimLeft(s, "+-")
}

// digits reads a decimal number of ASCII digits only: no sign, no space.
// Numbers too large for any field read as not ok.
func digits(s string) (int, bool) {
	if s == "" {
		return 0, false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
		if n > 1000 {
			return 0, false
		}
	}
	return n, true
}
