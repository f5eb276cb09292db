package jsopen

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Timeout bounds how long opening a stream, bucket or consumer is retried
// while JetStream is not ready.
const Timeout = 30 * time.Second

// attemptTimeout bounds one attempt; a cluster that has not elected a
// leader answers no API request, so an attempt ends by this timeout.
const attemptTimeout = 5 * time.Second

// Retry runs open, which creates or opens what is named what, until it
// succeeds, fails with an error that is not Transient, ctx ends, or
// Timeout passes; each attempt has its own timeout, and each retry is
// logged on log (nil: slog.Default()).
func Retry(ctx context.Context, log *slog.Logger, what string, open func(ctx context.Context) error) error {
	if log == nil {
		log = slog.Default()
	}
	deadline := time.Now().Add(Timeout)
	wait := 100 * time.Millisecond
	for try := 1; ; try++ {
		actx, cancel := context.WithTimeout(ctx, attemptTimeout)
		err := open(actx)
		cancel()
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return errors.Join(err, ctx.Err())
		}
		if !Transient(err) {
			return err
		}
		delay := wait + time.Duration(rand.Int64N(int64(wait)/2+1))
		if time.Now().Add(delay).After(deadline) {
			return fmt.Errorf("%w (gave up after %d attempts in %s)", err, try, Timeout)
		}
		log.Warn("JetStream not ready; retrying", "open", what, "attempt", try, "retry_in", delay, "error", err)
		select {
		case <-time.After(delay):
		case <-ctx.Done():
			return errors.Join(err, ctx.Err())
		}
		wait = min(2*wait, 2*time.Second)
	}
}

// Transient reports whether a JetStream API or publish error may pass by
// itself: no answer in time, no responder (no meta or stream leader yet,
// a reconnecting connection), a cluster that is not available or whose
// leader is changing, no peers known yet for the replicas asked for (a
// fresh cluster whose servers have not all reported), or a stream created
// meanwhile by another gateway. Errors that stay (insufficient resources,
// a bad configuration, JetStream off on a server that answers) are not
// transient.
func Transient(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, nats.ErrTimeout) ||
		errors.Is(err, nats.ErrNoResponders) || errors.Is(err, jetstream.ErrNoStreamResponse) ||
		errors.Is(err, nats.ErrConnectionReconnecting) || errors.Is(err, nats.ErrDisconnected) ||
		errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) ||
		// No responder for a JetStream API request: nats.go reports it as
		// JetStream not enabled, also while a fresh cluster has no leader.
		errors.Is(err, jetstream.ErrJetStreamNotEnabled) {
		return true
	}
	var apiErr *jetstream.APIError
	if errors.As(err, &apiErr) {
		switch apiErr.ErrorCode {
		case jsClusterIncomplete, jsClusterNoPeers, jsClusterNotAvail, jsClusterNotLeader, jsStreamNameExist:
			return true
		case jsInsufficientResources:
			return false
		}
	}
	return false
}

// JetStream API error codes (nats-server's errors.json).
const (
	jsClusterIncomplete     jetstream.ErrorCode = 10004 // incomplete results
	jsClusterNoPeers        jetstream.ErrorCode = 10005 // no suitable peers for placement
	jsClusterNotAvail       jetstream.ErrorCode = 10008 // JetStream system temporarily unavailable
	jsClusterNotLeader      jetstream.ErrorCode = 10009 // JetStream cluster can not handle request
	jsInsufficientResources jetstream.ErrorCode = 10023
	jsStreamNameExist       jetstream.ErrorCode = 10058 // stream name already in use (created meanwhile)
)
