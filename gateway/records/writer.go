package records

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// batchSize is how many records the writer sends before it waits for
// their acknowledgements.
const batchSize = 256

// queueSize is how many records may wait for the writer; past it, records
// are dropped and counted, never the call.
const queueSize = 4096

// Writer writes the records (and logs) of finished sync calls in the
// background, so the caller does not wait for them. Submit never blocks:
// when the writer falls behind, or once it has stopped, a record is
// dropped and counted (Dropped).
type Writer struct {
	nc      *nats.Conn
	js      jetstream.JetStream
	outputs *Outputs
	log     *slog.Logger
	dropped func() // counts a dropped record

	mu      sync.RWMutex // held for reading by Submit, for writing by Stop
	stopped bool
	queue   chan pending
	done    chan struct{}
}

type pending struct {
	rec  *Record
	logs []byte
}

// NewWriter makes a writer publishing on nc; dropped (may be nil) is
// called for each record not written. Start starts it.
func NewWriter(nc *nats.Conn, js jetstream.JetStream, outputs *Outputs, log *slog.Logger, dropped func()) *Writer {
	if dropped == nil {
		dropped = func() {}
	}
	return &Writer{nc: nc, js: js, outputs: outputs, log: log, dropped: dropped,
		queue: make(chan pending, queueSize), done: make(chan struct{})}
}

// Start runs the writer until Stop.
func (w *Writer) Start() { go w.run() }

// Submit queues a record and its log (nil when none) for writing.
func (w *Writer) Submit(rec *Record, logs []byte) {
	w.mu.RLock()
	defer w.mu.RUnlock()
	if w.stopped {
		w.dropped()
		return
	}
	select {
	case w.queue <- pending{rec, logs}:
	default:
		w.dropped()
	}
}

// Stop writes what is queued and stops; records submitted afterwards are
// dropped. It returns ctx.Err() if the queue is not written by then.
func (w *Writer) Stop(ctx context.Context) error {
	w.mu.Lock()
	if !w.stopped {
		w.stopped = true
		close(w.queue) // no Submit holds the read lock: none can send now
	}
	w.mu.Unlock()
	select {
	case <-w.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// run drains the queue until it is closed. It takes what is queued, up to
// batchSize records, publishes them all to their KV subjects without
// waiting, then waits for JetStream's acknowledgements of the batch: one
// round trip per batch instead of one per record, so the writer keeps up
// with every sync call a gateway can take.
func (w *Writer) run() {
	defer close(w.done)
	batch := make([]pending, 0, batchSize)
	for p := range w.queue {
		batch = append(batch[:0], p)
	fill:
		for len(batch) < batchSize {
			select {
			case p, ok := <-w.queue:
				if !ok {
					break fill
				}
				batch = append(batch, p)
			default:
				break fill
			}
		}
		w.writeBatch(batch)
	}
}

// writeBatch stores a batch of records, and their logs, and waits until
// JetStream has them. Only the last message of the batch to each bucket
// asks for an acknowledgement: JetStream stores a connection's messages to
// one stream in order, so its ack says the ones before it were processed,
// and the others cost no ack message each way.
func (w *Writer) writeBatch(batch []pending) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	type message struct {
		id, subject string
		data        []byte
	}
	var records, logs []message
	for _, p := range batch {
		if p.logs != nil {
			if len(p.logs) <= InlineOutputMax {
				ref := logsRef(p.rec.ID, len(p.logs))
				logs = append(logs, message{p.rec.ID, outputSubject(ref), p.logs})
				p.rec.Logs = ref
			} else if ref, err := w.outputs.PutLogs(ctx, p.rec.ID, p.logs); err == nil {
				p.rec.Logs = ref
			}
		}
		records = append(records, message{p.rec.ID, Subject(p.rec), p.rec.AppendJSON(make([]byte, 0, 512))})
	}
	var acks []jetstream.PubAckFuture
	for _, msgs := range [][]message{logs, records} {
		for i, m := range msgs {
			if i < len(msgs)-1 {
				if err := w.nc.Publish(m.subject, m.data); err != nil {
					w.log.Warn("could not write an invocation record", "invocation", m.id, "error", err)
				}
				continue
			}
			f, err := w.js.PublishAsync(m.subject, m.data)
			if err != nil {
				w.log.Warn("could not write an invocation record", "invocation", m.id, "error", err)
				continue
			}
			acks = append(acks, f)
		}
	}
	for _, f := range acks {
		select {
		case <-f.Ok():
		case err := <-f.Err():
			w.log.Warn("could not write invocation records", "records", len(batch), "error", err)
		case <-ctx.Done():
			w.log.Warn("could not write invocation records", "records", len(batch), "error", ctx.Err())
		}
	}
}
