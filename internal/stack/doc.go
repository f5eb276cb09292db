// Package stack assembles Hearth's roles from their parts: the NATS
// connection and object store (Connect), the registry (OpenRegistry), a
// gateway (StartGateway, StartExtraGateway) and a runner (StartRunner).
// StartDev runs the whole platform in one process (`hearth dev`: embedded
// NATS and S3, a runner, a gateway, the examples); StartGatewayRole and
// StartRunnerRole are `hearth gateway` and `hearth runner`. Every part
// registers how it stops, and Close stops them newest first.
//
// cmd/hearth uses it for its roles, and tests of every package through
// stacktest.
package stack
