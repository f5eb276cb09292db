// Package autoscaler decides when a function keeps a warm instance, and
// replays those decisions on a day of real serverless traffic (the Azure
// Functions 2019 trace) to score them, following the rules of
// shared/AUTOSCALING-BENCHMARK.md.
//
// A Policy makes one FunctionPolicy per function. The replay and the live
// autoscaler drive it the same way, minute by minute: Warm(t) before minute
// t, then Observe(t, count) once the minute is over, so a policy cannot look
// ahead.
//
// The same policy code runs live in the gateway: StartLeader starts a
// gateway's part in autoscaling (leader.go). Every gateway counts its
// calls (Leader.Begin, End) and reports them on DemandSubject; the one
// holding the lease in the AutoscalerBucket runs a Controller on the sum,
// sends prewarm and retire commands to runners, reacts to bursts through a
// KPA (Knative's stable and panic windows), and asks its Scaler (declared
// here, implemented by gateway/autoscaler/provider and
// internal/kubeprovider) for the runners its forecast needs (sizing.go:
// the calls and warm memory expected within a minute, with headroom and
// hysteresis).
package autoscaler
