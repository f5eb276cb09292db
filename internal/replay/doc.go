// Package replay drives a trace of invocations (the Azure Functions 2019
// format that hearth sim reads) against a running gateway in compressed
// time and measures what the platform did: `hearth replay`.
//
// One copy of a small reactor (replayfn.wat) is deployed per function of
// the trace, with the trace's memory, and each is called the trace's count
// of times in each minute, spread over the middle of the minute. A trace
// minute lasts Config.Minute; the gateway's autoscaler must run with the
// same minute (hearth dev --autoscale-minute), so that the policy code
// that hearth sim scores runs at the replay's pace. The autoscaler's
// minutes begin at multiples of its minute since the Unix epoch
// (autoscaler.MinuteStart), and so do the replay's: trace minute from+i
// is the controller's minute c0+i, c0 read from hearth_autoscaler_minute.
//
// Two things are measured per function and minute: the cold starts the
// platform reported (Hearth-Cold-Start on each answer) and the warm
// instance-minutes the runners held idle, from their own accounting
// (hearth_runner_idle_instance_seconds_total, read at every minute's
// boundary). A warm instance-minute in a minute without calls is wasted,
// weighted by the function's memory, as the benchmark's rules say. The
// same functions and minutes are replayed through the simulator
// (autoscaler.ReplayWindow) with the live controller's count of minutes,
// and both are summed by autoscaler.Summarize: the table of hearth sim,
// live beside simulated, with the minutes where the two disagree counted
// by kind (a cold start the simulator did not have, a warm minute it did
// not have).
//
// A replay does not drop calls the machine cannot make in time: a call
// waits for one of Config.Concurrency workers, and the report gives the
// lag of the calls behind their schedule and how many started after
// their minute had ended.
package replay
