package registry

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Trigger types.
const (
	TriggerNATS = "nats" // a message on a NATS subject invokes the function
	TriggerCron = "cron" // a schedule invokes the function
)

// Trigger is an event source that invokes a function. The registry stores
// and validates triggers; the dispatcher (gateway) runs them.
type Trigger struct {
	Type string `json:"type"` // "nats" or "cron"
	// Subject is the NATS subject of a nats trigger; * and > wildcards are
	// allowed, subjects under hearth. and $ are the platform's own.
	Subject string `json:"subject,omitempty"`
	// Schedule is the schedule of a cron trigger: five fields (minute hour
	// day-of-month month day-of-week), or @hourly, @daily, @weekly,
	// @monthly, @yearly, or @every DURATION (at least 1s).
	Schedule string `json:"schedule,omitempty"`
	// Options are settings for the trigger's type; keys are lowercase
	// words. nats: queue (the queue group) and delivery ("at-most-once",
	// the default, or "at-least-once" through JetStream).
	Options map[string]string `json:"options,omitempty"`
}

var optionKeyPattern = regexp.MustCompile(`^[a-z][a-z0-9_]{0,31}$`)

// validate checks the trigger; its errors are completed by the caller with
// the trigger's position.
func (t Trigger) validate() error {
	switch t.Type {
	case TriggerNATS:
		if t.Schedule != "" {
			return errors.New("a nats trigger takes a subject, not a schedule")
		}
		if err := validateSubject(t.Subject); err != nil {
			return err
		}
	case TriggerCron:
		if t.Subject != "" {
			return errors.New("a cron trigger takes a schedule, not a subject")
		}
		if err := ValidateSchedule(t.Schedule); err != nil {
			return err
		}
	case "":
		return errors.New(`type is missing; use "nats" (with a subject) or "cron" (with a schedule)`)
	default:
		return fmt.Errorf(`type %q is unknown; use "nats" (with a subject) or "cron" (with a schedule)`, t.Type)
	}
	if d, ok := t.Options["delivery"]; ok && (t.Type != TriggerNATS || (d != "at-most-once" && d != "at-least-once")) {
		return fmt.Errorf(`option delivery is %q; a nats trigger takes "at-most-once" (a queue group, the default) or "at-least-once" (a JetStream consumer)`, d)
	}
	if len(t.Options) > MaxTriggerOptions {
		return fmt.Errorf("%d options; a trigger may have at most %d", len(t.Options), MaxTriggerOptions)
	}
	for _, k := range sortedKeys(t.Options) {
		if !optionKeyPattern.MatchString(k) {
			return fmt.Errorf("option name %q is not valid; use up to 32 lowercase letters, digits and _, starting with a letter", k)
		}
		if len(t.Options[k]) > MaxTriggerOptValue {
			return fmt.Errorf("option %s is %d bytes long; the limit is %d", k, len(t.Options[k]), MaxTriggerOptValue)
		}
	}
	return nil
}

// validateSubject checks a NATS subject a trigger may listen on.
func validateSubject(subject string) error {
	if subject == "" {
		return errors.New("a nats trigger needs a subject, such as orders.created")
	}
	if len(subject) > 255 {
		return fmt.Errorf("subject is %d characters long; the limit is 255", len(subject))
	}
	if strings.HasPrefix(subject, "$") || subject == "hearth" || strings.HasPrefix(subject, "hearth.") || subject == ">" || subject == "hearth.>" {
		return fmt.Errorf("subject %q is reserved: subjects under $ and hearth. (and the catch-all >) carry the platform's own traffic", subject)
	}
	tokens := strings.Split(subject, ".")
	for i, tok := range tokens {
		switch {
		case tok == "":
			return fmt.Errorf("subject %q has an empty token; tokens are separated by single dots", subject)
		case strings.ContainsAny(tok, " \t\r\n"):
			return fmt.Errorf("subject %q contains white space", subject)
		case tok == ">" && i != len(tokens)-1:
			return fmt.Errorf("subject %q: the wildcard > may only be the last token", subject)
		case len(tok) > 1 && strings.ContainsAny(tok, "*>"):
			return fmt.Errorf("subject %q: the wildcards * and > must be whole tokens", subject)
		}
	}
	return nil
}

// cronField is one of the five fields of a cron schedule.
type cronField struct {
	name     string
	min, max int
}

var cronFields = []cronField{
	{name: "minute", min: 0, max: 59},
	{name: "hour", min: 0, max: 23},
	{name: "day of month", min: 1, max: 31},
	{name: "month", min: 1, max: 12},
	{name: "day of week", min: 0, max: 7},
}

var cronDescriptors = map[string]bool{
	"@yearly": true, "@annually": true, "@monthly": true, "@weekly": true,
	"@daily": true, "@midnight": true, "@hourly": true,
}

// ValidateSchedule checks a cron schedule: five fields (minute hour
// day-of-month month day-of-week, each *, a value, a range a-b, a step
// /n, or a comma list of those; all numbers, Sunday is 0 or 7, times are
// UTC), a descriptor such as @daily, or @every DURATION. It accepts what
// the trigger manager (gateway/triggers) runs.
func ValidateSchedule(schedule string) error {
	s := strings.TrimSpace(schedule)
	if s == "" {
		return errors.New(`a cron trigger needs a schedule, such as "*/5 * * * *" or "@hourly"`)
	}
	if strings.HasPrefix(s, "@") {
		if rest, ok := strings.CutPrefix(s, "@every "); ok {
			d, err := time.ParseDuration(strings.TrimSpace(rest))
			if err != nil {
				return fmt.Errorf("schedule %q: %q is not a duration such as 90s or 5m", schedule, strings.TrimSpace(rest))
			}
			if d < time.Second {
				return fmt.Errorf("schedule %q: the interval must be at least 1s", schedule)
			}
			return nil
		}
		if !cronDescriptors[s] {
			return fmt.Errorf("schedule %q is not a known descriptor; use @yearly, @monthly, @weekly, @daily, @hourly or @every DURATION", schedule)
		}
		return nil
	}
	fields := strings.Fields(s)
	if len(fields) != len(cronFields) {
		return fmt.Errorf("schedule %q has %d fields; a cron schedule has 5: minute hour day-of-month month day-of-week", schedule, len(fields))
	}
	for i, f := range fields {
		if err := cronFields[i].check(f); err != nil {
			return fmt.Errorf("schedule %q: %w", schedule, err)
		}
	}
	return nil
}

func (cf cronField) check(field string) error {
	for _, item := range strings.Split(field, ",") {
		rng, step, hasStep := strings.Cut(item, "/")
		if hasStep {
			n, err := strconv.Atoi(step)
			if err != nil || n < 1 || n > cf.max {
				return fmt.Errorf("%s step %q must be a number from 1 to %d", cf.name, step, cf.max)
			}
		}
		if rng == "*" {
			continue
		}
		lo, hi, isRange := strings.Cut(rng, "-")
		a, err := cf.value(lo)
		if err != nil {
			return err
		}
		if !isRange {
			continue
		}
		b, err := cf.value(hi)
		if err != nil {
			return err
		}
		if a > b {
			return fmt.Errorf("%s range %s runs backwards", cf.name, rng)
		}
	}
	return nil
}

func (cf cronField) value(s string) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil || n < cf.min || n > cf.max || strings.Trim(s, "0123456789") != "" {
		return 0, fmt.Errorf("%s %q must be a number from %d to %d", cf.name, s, cf.min, cf.max)
	}
	return n, nil
}
