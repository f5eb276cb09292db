package bench

import "context"

// caseSpec is one line of the table.
type caseSpec struct {
	name    string
	measure string // what one operation is, for the notes under the table
	run     func(b *bencher, ctx context.Context) (Result, error)
	// paced: the case is a throughput case that Config.Rate and Rates
	// run as an open loop.
	paced bool
}

// allCases are the cases in the order they run. Every case does the same
// trivial work where it has work to do: reverse (or, for the C command,
// greet) a 100-byte body.
var allCases = []caseSpec{
	{"bare-nethttp", "POST of the body to a plain net/http server on loopback that reverses it natively: the ceiling", (*bencher).bareNetHTTP, true},
	{"wazero-inprocess", "hearth_handle call of the reverse-c reactor (C, 14 KB) on a pooled wazero instance in this process, no network; the runner's wazero settings", wazeroInProcess("reverse-c"), true},
	{"wazero-inprocess-go", "the same with the Go reverse reactor (2.2 MB, built with sdk/guest)", wazeroInProcess("reverse"), true},
	{"hearth-warm-reactor", "POST /v1/functions/reverse-c/invoke: gateway → runner in the same process (`hearth dev`) → pooled reverse-c reactor (C) → back", warmReactor("reverse-c", false), true},
	{"hearth-warm-reactor-auth", "the same through a second gateway on the same platform, with API keys on (as `hearth dev --auth`): every request carries `Authorization: Bearer` and a key of scope invoke for namespace default made through POST /v1/keys (the normal key path, not the bootstrap admin key)", (*bencher).warmReactorAuth, true},
	{"hearth-warm-reactor-go", "the same with the Go reverse reactor", warmReactor("reverse", false), true},
	{"hearth-warm-reactor-nats", "POST /v1/functions/reverse-c/invoke on a gateway that sends every call through NATS (gateway → NATS → runner → NATS → gateway), as when the gateway and the runners run apart", warmReactor("reverse-c", true), true},
	{"hearth-warm-reactor-cluster", "POST /v1/functions/reverse-c/invoke on the deployment users run: `hearth gateway`, `hearth nats` and `hearth runner` as three processes on loopback (S3 in the bench's process, off the hot path); server CPU is the three processes' CPU, each given apart", clusterCase("reverse-c"), true},
	{"hearth-warm-reactor-cluster-go", "the same with the Go reverse reactor", clusterCase("reverse"), true},
	{"floor-nats-cluster", "the floor of the cluster cases: POST /invoke on an echo server that sends the body over NATS (nc.Request) to a responder process that reverses it natively, with `hearth nats` between — the same three processes with no Hearth code on the path; server CPU per process as in the cluster cases", (*bencher).floorCase, true},
	{"hearth-warm-command", "POST /v1/functions/hello/invoke: the C hello command, a fresh instance per call (its compiled code is warm)", (*bencher).warmCommand, true},
	{"cold-start-c", "first call of the just-deployed C hello (31 KB) on a runner in service that never ran it (a new engine with an empty disk cache that has loaded another module): fetch from S3, compile, run; req/s = 1/mean", coldStart("hello", false), false},
	{"cold-start-go", "first call of the just-deployed Go echo command (2.5 MB), same; req/s = 1/mean", coldStart("echo", false), false},
	{"cold-start-go-shared-cache", "the same, after another runner compiled echo and shared its compiled code through S3; req/s = 1/mean", coldStart("echo", true), false},
	{"async-accept", "POST with Prefer: respond-async to hello, answered 202 once stored in JetStream (file storage); dispatcher off", (*bencher).asyncAccept, false},
	{"async-e2e", "async hello invocations queued for half the duration, counted until hearth_async_finished_total reaches them: completions/s", (*bencher).asyncEndToEnd, false},
	{"scheduler-1000", "scheduler.Place among 1,000 simulated runners (hashing strategy), in process", (*bencher).scheduler1000, true},
}

// CaseNames are the names of the cases in the table's order, which is the
// order `hearth bench` runs them in.
func CaseNames() []string {
	names := make([]string, len(allCases))
	for i, c := range allCases {
		names[i] = c.name
	}
	return names
}

// PacedCaseNames are the throughput cases, which --rate and --rates run
// as an open loop.
func PacedCaseNames() []string {
	var names []string
	for _, c := range allCases {
		if c.paced {
			names = append(names, c.name)
		}
	}
	return names
}

func caseByName(name string) (caseSpec, bool) {
	for _, c := range allCases {
		if c.name == name {
			return c, true
		}
	}
	return caseSpec{}, false
}
