// Package stacktest starts Hearth's roles for tests, on random loopback
// ports and temp dirs, stopped when the test ends, and has the HTTP
// helpers the behaviour tests of the gateway's packages share. Tests of
// any package enter through Dev (the whole platform in one process),
// or ExternalConn with GatewayRole and RunnerRole (separate roles against
// a real nats-server and MinIO).
package stacktest
