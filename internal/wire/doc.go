// Package wire holds the messages that the gateway and the runners exchange
// over NATS. It is the only thing the two roles share.
//
// An invocation travels as one NATS message: a short binary encoding of
// the metadata, then the payload as it is (codec.go), so payload bytes are
// never re-encoded; its W3C trace context and request id, when it has
// them, go in the headers traceparent and Hearth-Request-Id. Messages of earlier versions, with
// the metadata as JSON in the Hearth-Meta header, are still read.
//
// A gateway builds a [Request] and sends it with [EncodeRequest] on
// [InvokeSubject] or a [RunnerSubject]; a runner reads it with
// [DecodeRequest] and answers with [EncodeResponse] (a [Response], read
// with [DecodeResponse]). Runners report themselves in [Heartbeat]s on
// [HeartbeatPrefix]+id and take the autoscaler's [Control] commands on
// [ControlSubject]. [Request.AppendJSON] and the AppendJSON helpers write
// JSON without reflection for the gateway's stored records.
package wire
