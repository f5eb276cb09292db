package jsopen

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"testing"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

func TestTransient(t *testing.T) {
	for _, c := range []struct {
		err  error
		want bool
	}{
		{context.DeadlineExceeded, true},
		{fmt.Errorf("open: %w", context.DeadlineExceeded), true},
		{nats.ErrTimeout, true},
		{nats.ErrNoResponders, true},
		{jetstream.ErrNoStreamResponse, true},
		{jetstream.ErrJetStreamNotEnabled, true},
		{jetstream.ErrStreamNameAlreadyInUse, true},
		{&jetstream.APIError{Code: 503, ErrorCode: 10008, Description: "JetStream system temporarily unavailable"}, true},
		{&jetstream.APIError{Code: 500, ErrorCode: 10009, Description: "JetStream cluster can not handle request"}, true},
		{&jetstream.APIError{Code: 503, ErrorCode: 10023, Description: "insufficient resources"}, false},
		{fmt.Errorf("create: %w", &jetstream.APIError{Code: 503, ErrorCode: 10023, Description: "insufficient resources"}), false},
		{&jetstream.APIError{Code: 500, ErrorCode: 10074, Description: "replicas > 1 not supported in non-clustered mode"}, false},
		{jetstream.ErrStreamNotFound, false},
		{errors.New("bad config"), false},
		{context.Canceled, false},
		{nil, false},
	} {
		if got := Transient(c.err); got != c.want {
			t.Errorf("Transient(%v) = %v, want %v", c.err, got, c.want)
		}
	}
}

// TestRetryGivesUp: an error that stays is returned at once, without
// a retry; a canceled context stops the retries.
func TestRetryGivesUp(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	calls := 0
	insufficient := &jetstream.APIError{Code: 503, ErrorCode: 10023, Description: "insufficient resources"}
	err := Retry(context.Background(), log, "x", func(context.Context) error { calls++; return insufficient })
	if !errors.Is(err, insufficient) || calls != 1 {
		t.Fatalf("Retry = %v after %d calls, want insufficient resources after 1", err, calls)
	}
	ctx, cancel := context.WithCancel(context.Background())
	calls = 0
	err = Retry(ctx, log, "x", func(context.Context) error {
		calls++
		if calls == 3 {
			cancel()
		}
		return nats.ErrTimeout
	})
	if !errors.Is(err, context.Canceled) || calls != 3 {
		t.Fatalf("Retry = %v after %d calls, want canceled after 3", err, calls)
	}
	calls = 0
	err = Retry(context.Background(), log, "x", func(context.Context) error {
		calls++
		if calls < 3 {
			return &jetstream.APIError{Code: 503, ErrorCode: 10008}
		}
		return nil
	})
	if err != nil || calls != 3 {
		t.Fatalf("Retry = %v after %d calls, want success at the third", err, calls)
	}
}
