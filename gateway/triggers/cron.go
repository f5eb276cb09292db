package triggers

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Schedule says when a cron trigger fires.
type Schedule interface {
	// Next is the first fire time after t.
	Next(t time.Time) time.Time
}

// ParseSchedule reads a cron schedule: five fields (minute hour
// day-of-month month day-of-week, each *, N, N-M, */S, N-M/S or a list of
// them), a macro (@hourly, @daily, @midnight, @weekly, @monthly, @yearly,
// @annually) or @every DURATION. Times are UTC. @every fires on multiples
// of the duration since the Unix epoch, so every gateway computes the same
// fire times.
func ParseSchedule(spec string) (Schedule, error) {
	spec = strings.TrimSpace(spec)
	if rest, ok := strings.CutPrefix(spec, "@every "); ok {
		d, err := time.ParseDuration(strings.TrimSpace(rest))
		if err != nil {
			return nil, fmt.Errorf("@every %q: %w", rest, err)
		}
		if d < time.Second {
			return nil, fmt.Errorf("@every %s: the shortest interval is 1s", d)
		}
		return every(d.Truncate(time.Second)), nil
	}
	switch spec {
	case "@yearly", "@annually":
		spec = "0 0 1 1 *"
	case "@monthly":
		spec = "0 0 1 * *"
	case "@weekly":
		spec = "0 0 * * 0"
	case "@daily", "@midnight":
		spec = "0 0 * * *"
	case "@hourly":
		spec = "0 * * * *"
	}
	fields := strings.Fields(spec)
	if len(fields) != 5 {
		return nil, fmt.Errorf("schedule %q: want 5 fields (minute hour day-of-month month day-of-week), @every DURATION or a macro such as @hourly", spec)
	}
	var c cron
	var err error
	bounds := [5][2]int{{0, 59}, {0, 23}, {1, 31}, {1, 12}, {0, 7}}
	names := [5]string{"minute", "hour", "day-of-month", "month", "day-of-week"}
	sets := [5]*uint64{&c.minute, &c.hour, &c.dom, &c.month, &c.dow}
	for i, f := range fields {
		if *sets[i], err = parseField(f, bounds[i][0], bounds[i][1]); err != nil {
			return nil, fmt.Errorf("schedule %q: %s field: %w", spec, names[i], err)
		}
	}
	if c.dow&(1<<7) != 0 { // 7 is Sunday too
		c.dow |= 1
	}
	c.domStar, c.dowStar = fields[2] == "*", fields[4] == "*"
	return c, nil
}

func parseField(f string, lo, hi int) (uint64, error) {
	var set uint64
	for _, part := range strings.Split(f, ",") {
		rng, stepStr, hasStep := strings.Cut(part, "/")
		step := 1
		if hasStep {
			n, err := strconv.Atoi(stepStr)
			if err != nil || n < 1 || n > hi {
				return 0, fmt.Errorf("step %q must be a number from 1 to %d", stepStr, hi)
			}
			step = n
		}
		from, to := lo, hi
		switch {
		case rng == "*":
		case strings.Contains(rng, "-"):
			a, b, _ := strings.Cut(rng, "-")
			var err error
			if from, err = number(a, lo, hi); err != nil {
				return 0, err
			}
			if to, err = number(b, lo, hi); err != nil {
				return 0, err
			}
			if from > to {
				return 0, fmt.Errorf("range %q runs backwards", rng)
			}
		default:
			n, err := number(rng, lo, hi)
			if err != nil {
				return 0, err
			}
			from, to = n, n
			if hasStep {
				to = hi
			}
		}
		for v := from; v <= to; v += step {
			set |= 1 << v
		}
	}
	return set, nil
}

func number(s string, lo, hi int) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil || n < lo || n > hi {
		return 0, fmt.Errorf("%q must be a number from %d to %d", s, lo, hi)
	}
	return n, nil
}

// cron is a five-field schedule as bit sets.
type cron struct {
	minute, hour, dom, month, dow uint64
	domStar, dowStar              bool
}

func (c cron) Next(t time.Time) time.Time {
	t = t.UTC().Truncate(time.Minute).Add(time.Minute)
	// Five years covers every schedule that can fire (Feb 29 included).
	for end := t.AddDate(5, 0, 0); t.Before(end); {
		if c.month&(1<<uint(t.Month())) == 0 {
			t = time.Date(t.Year(), t.Month()+1, 1, 0, 0, 0, 0, time.UTC)
			continue
		}
		if !c.dayMatches(t) {
			t = time.Date(t.Year(), t.Month(), t.Day()+1, 0, 0, 0, 0, time.UTC)
			continue
		}
		if c.hour&(1<<uint(t.Hour())) == 0 {
			t = t.Truncate(time.Hour).Add(time.Hour)
			continue
		}
		if c.minute&(1<<uint(t.Minute())) == 0 {
			t = t.Add(time.Minute)
			continue
		}
		return t
	}
	return time.Time{} // e.g. 30 February: never
}

// dayMatches follows cron: when both day fields are restricted, either
// matching is enough.
func (c cron) dayMatches(t time.Time) bool {
	dom := c.dom&(1<<uint(t.Day())) != 0
	dow := c.dow&(1<<uint(t.Weekday())) != 0
	switch {
	case c.domStar && c.dowStar:
		return true
	case c.domStar:
		return dow
	case c.dowStar:
		return dom
	}
	return dom || dow
}

// every fires on multiples of a duration since the Unix epoch.
type every time.Duration

func (e every) Next(t time.Time) time.Time {
	d := time.Duration(e)
	return time.Unix(0, 0).UTC().Add((t.Sub(time.Unix(0, 0)) / d * d) + d)
}
