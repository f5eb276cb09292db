// Package natsembed runs a nats-server with JetStream inside the hearth
// process, for `hearth dev` and for tests.
//
// [Start] with a [Config] (StoreDir is required) returns the running
// *server.Server once it accepts connections; its ClientURL is what to
// connect to, and Shutdown stops it.
package natsembed
