// Package chaos proves on a loopback cluster that Hearth loses no accepted
// invocation under faults. It is entered by Run with a Config (Full for the
// on-demand run, Trimmed for CI): Run starts a Cluster (StartCluster: three
// clustered nats-server nodes with JetStream at R3, MinIO, gateways and
// runners, each in a process group of its own that can be killed, paused
// and started again), deploys the test functions (slowecho, 25 ms a call, for the async load;
// the reverse-c reactor for the sync load), and runs the same
// async and sync load twice — a baseline without faults, then with a runner
// killed with SIGKILL every few seconds, the NATS node leading HEARTH_ASYNC
// killed and started again, a gateway stopped with SIGTERM and started
// again, and MinIO paused with SIGSTOP. It then checks every accepted
// invocation (one succeeded record, the right result, one successful
// callback; runs counted from the runners' "invocation done" log lines)
// and every sync call (the right output, or 429/502/503/504 within its
// timeout), and returns a Report (bench/results/chaos.json and its
// markdown summary, written by cmd/hearth-chaos).
package chaos
