// Package records keeps what is known of every invocation: its Record in
// the NATS KV bucket RecordsBucket (Store), its result and log (Outputs:
// small ones in KV, larger ones in the object store), and the batched
// Writer through which sync calls record themselves without waiting.
//
// A gateway opens a Store and Outputs once (OpenStore, OpenOutputs),
// starts a Writer (NewWriter, Start) and stops it last (Stop), after every
// producer of records has stopped. Records are encoded without reflection
// (AppendJSON), to the same document encoding/json makes of them.
package records
