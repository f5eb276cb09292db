package transport

import (
	"context"
	"log/slog"
	"time"

	"github.com/hearthfn/hearth/internal/wire"
)

// ObjectStore is the part of the object store the claim check needs.
type ObjectStore interface {
	Put(ctx context.Context, key string, data []byte, contentType string) error
	Get(ctx context.Context, key string) ([]byte, error)
	Delete(ctx context.Context, key string) error
}

// PutPayload stores the body of invocation id, too large for a NATS
// message, and returns its key (wire.PayloadKey), which the request
// carries as BodyRef instead of the body.
func PutPayload(ctx context.Context, store ObjectStore, id string, body []byte) (string, error) {
	key := wire.PayloadKey(id)
	return key, store.Put(ctx, key, body, "application/octet-stream")
}

// DeleteLater removes a claim-checked payload in the background, once its
// call is over.
func DeleteLater(store ObjectStore, key string, log *slog.Logger) {
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := store.Delete(ctx, key); err != nil {
			log.Warn("could not delete a claim-checked payload", "key", key, "error", err)
		}
	}()
}
