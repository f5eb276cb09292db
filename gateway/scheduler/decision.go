package scheduler

import "strconv"

// Decision is where an invocation goes and why: the runner chosen, the
// runner-up (the strategy's second choice, if it had one) and the scores
// that separated them.
type Decision struct {
	Runner     *Runner
	Reason     string  // warm, home, p2c, round-robin, least-loaded, any
	Score      float64 // the strategy's score of the chosen runner, if it has one
	Load       int     // the runner's load when chosen
	Capacity   int
	Candidates int // feasible runners considered

	// RunnerUp is the strategy's second choice, nil when it had none:
	// for warm the next warm runner, for home the next home runner, for
	// p2c the home runner that lost on load, for least-loaded the second
	// least loaded; round-robin has none.
	RunnerUp      *Runner
	RunnerUpScore float64 // the strategy's score of the runner-up
	RunnerUpLoad  int     // the runner-up's load when the runner was chosen
}

// decide is the decision for r, chosen for reason with score, with up
// (nil: none) as the runner-up and its score.
func (c Candidates) decide(reason string, r *Runner, score float64, up *Runner, upScore float64) Decision {
	d := Decision{Runner: r, Reason: reason, Score: score, Load: r.Load(), Capacity: r.Capacity(), Candidates: len(c.runners)}
	if up != nil {
		d.RunnerUp, d.RunnerUpScore, d.RunnerUpLoad = up, upScore, up.Load()
	}
	return d
}

// String is the decision as it appears in logs, the Hearth-Placement
// header and the invocation record's placement, as fmt's
//
//	"%s runner=%s load=%d/%d candidates=%d score=%.3f"
//
// followed, when there is a runner-up, by
//
//	" runner_up=%s runner_up_load=%d runner_up_score=%.3f"
//
// but written by hand: fmt costs twice as much on the invocation path.
func (d Decision) String() string {
	if d.Runner == nil {
		return d.Reason
	}
	// On the stack unless the ids are long; the string is the one allocation.
	var buf [256]byte
	b := buf[:0]
	b = append(b, d.Reason...)
	b = append(b, " runner="...)
	b = append(b, d.Runner.ID...)
	b = append(b, " load="...)
	b = strconv.AppendInt(b, int64(d.Load), 10)
	b = append(b, '/')
	b = strconv.AppendInt(b, int64(d.Capacity), 10)
	b = append(b, " candidates="...)
	b = strconv.AppendInt(b, int64(d.Candidates), 10)
	b = append(b, " score="...)
	b = strconv.AppendFloat(b, d.Score, 'f', 3, 64)
	if d.RunnerUp != nil {
		b = append(b, " runner_up="...)
		b = append(b, d.RunnerUp.ID...)
		b = append(b, " runner_up_load="...)
		b = strconv.AppendInt(b, int64(d.RunnerUpLoad), 10)
		b = append(b, " runner_up_score="...)
		b = strconv.AppendFloat(b, d.RunnerUpScore, 'f', 3, 64)
	}
	return string(b)
}
