// Package invocation is what one call is on its way through the gateway
// (Invocation) and how one execution of it ended (Outcome): the types the
// invocation core, the async dispatcher, the triggers and the records
// share. It holds no behaviour beyond building a runner request from a
// function version.
package invocation
