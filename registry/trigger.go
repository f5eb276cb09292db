package registry

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/hearthfn/hearth/internal/cron"
	"github.com/hearthfn/hearth/internal/limits"
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
	// day-of-month month day-of-week), or @hourly, @daily (@midnight),
	// @weekly, @monthly, @yearly (@annually), or @every DURATION (at least
	// 1s); see ValidateSchedule.
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
	if len(t.Options) > limits.MaxTriggerOptions {
		return fmt.Errorf("%d options; a trigger may have at most %d", len(t.Options), limits.MaxTriggerOptions)
	}
	for _, k := range sortedKeys(t.Options) {
		if !optionKeyPattern.MatchString(k) {
			return fmt.Errorf("option name %q is not valid; use up to 32 lowercase letters, digits and _, starting with a letter", k)
		}
		if len(t.Options[k]) > limits.MaxTriggerOptBytes {
			return fmt.Errorf("option %s is %d bytes long; the limit is %d", k, len(t.Options[k]), limits.MaxTriggerOptBytes)
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
	first, _, _ := strings.Cut(subject, ".")
	switch {
	case strings.HasPrefix(subject, "$") || first == "hearth" || strings.HasPrefix(first, "_"):
		return fmt.Errorf("subject %q is reserved: subjects under $, hearth. and _ (_INBOX: the replies of calls) carry the platform's own traffic", subject)
	case first == "*" || first == ">":
		// A leading wildcard matches hearth.… and _INBOX.…: the calls and
		// answers of every namespace.
		return fmt.Errorf("subject %q begins with a wildcard, which would match the platform's own subjects; begin with a name of yours (orders.>)", subject)
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

// ValidateSchedule checks the schedule of a cron trigger with the parser
// the trigger manager runs it with (internal/cron): five fields (minute
// hour day-of-month month day-of-week, each *, a value, a range a-b, a step
// /n, or a comma list of those; plain numbers without a sign, Sunday is 0
// or 7, times are UTC), a descriptor such as @daily, or @every DURATION (a
// Go duration of at least 1s, run at exactly that period). What it accepts
// is exactly what runs.
func ValidateSchedule(schedule string) error {
	if strings.TrimSpace(schedule) == "" {
		return errors.New(`a cron trigger needs a schedule, such as "*/5 * * * *" or "@hourly"`)
	}
	_, err := cron.Parse(schedule)
	return err
}
