package replay

import "time"

// Edge is the part of a minute, at each of its ends, in which a replay
// makes no call: the autoscaler acts at a minute's start (a prewarm for
// the minute takes a moment to reach the runner) and counts a call in the
// minute its gateway began it, so a call at the very edge could fall on
// the other side of it. Calls are spread over the 80 % in the middle.
const Edge = 0.1

// callOffsets returns when, after its minute's start, each of n calls of
// a minute is made: evenly over the middle of the minute, each in the
// middle of its share.
func callOffsets(n int, minute time.Duration) []time.Duration {
	span := float64(minute) * (1 - 2*Edge)
	out := make([]time.Duration, n)
	for i := range out {
		out[i] = time.Duration(float64(minute)*Edge + span*(float64(i)+0.5)/float64(n))
	}
	return out
}
