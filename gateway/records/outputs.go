package records

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/hearthfn/hearth/internal/jsopen"
	"github.com/hearthfn/hearth/internal/objstore"
	"github.com/hearthfn/hearth/internal/wire"
)

// OutputsBucket keeps small results and logs in NATS KV; larger ones go to
// the object store under results/<id> and logs/<id>.
const OutputsBucket = "hearth_outputs"

// InlineOutputMax is the largest result or log kept in KV. Writing an
// object to S3 costs far more than a KV put (on the embedded server: three
// file creations), and most outputs are small.
const InlineOutputMax = 64 << 10

// kvPrefix marks an ObjectRef key that lives in the outputs bucket.
const kvPrefix = "kv:"

// ErrNoOutput means a result or log has expired.
var ErrNoOutput = errors.New("output no longer stored")

// ObjectStore is the part of the object store outputs need.
type ObjectStore interface {
	Put(ctx context.Context, key string, data []byte, contentType string) error
	Get(ctx context.Context, key string) ([]byte, error)
}

// Outputs stores invocation results and logs.
type Outputs struct {
	kv    jetstream.KeyValue
	store ObjectStore
}

// OpenOutputs opens the outputs bucket, creating it if needed, retrying
// while JetStream is not ready (as OpenStore).
func OpenOutputs(ctx context.Context, js jetstream.JetStream, store ObjectStore, retention time.Duration, replicas int, opts ...OpenOption) (*Outputs, error) {
	o := applyOpenOptions(opts)
	var kv jetstream.KeyValue
	err := jsopen.Retry(ctx, o.log, "KV bucket "+OutputsBucket, func(ctx context.Context) (err error) {
		kv, err = js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
			Bucket:       OutputsBucket,
			Description:  "Hearth results and logs up to 64 KiB",
			History:      1,
			TTL:          retention,
			Storage:      jetstream.FileStorage,
			Replicas:     replicas,
			MaxValueSize: InlineOutputMax,
		})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("gateway: open KV bucket %s: %w", OutputsBucket, err)
	}
	return &Outputs{kv: kv, store: store}, nil
}

// PutResult stores an invocation's output.
func (o *Outputs) PutResult(ctx context.Context, id string, data []byte, ctype string) (*ObjectRef, error) {
	return o.put(ctx, "r."+id, wire.ResultKey(id), data, ctype)
}

// PutLogs stores an invocation's log.
func (o *Outputs) PutLogs(ctx context.Context, id string, data []byte) (*ObjectRef, error) {
	return o.put(ctx, logsKVKey(id), wire.LogKey(id), data, "text/plain")
}

// logsKVKey is the outputs bucket's key of a log up to InlineOutputMax.
func logsKVKey(id string) string { return "l." + id }

// logsRef is where a log of size bytes, up to InlineOutputMax, is kept in
// the outputs bucket.
func logsRef(id string, size int) *ObjectRef {
	return &ObjectRef{Key: kvPrefix + logsKVKey(id), Size: size}
}

// outputSubject is the KV subject of a ref in the outputs bucket, for
// writers that publish without the KeyValue API.
func outputSubject(ref *ObjectRef) string {
	return "$KV." + OutputsBucket + "." + strings.TrimPrefix(ref.Key, kvPrefix)
}

func (o *Outputs) put(ctx context.Context, kvKey, objectKey string, data []byte, ctype string) (*ObjectRef, error) {
	if len(data) <= InlineOutputMax {
		if _, err := o.kv.Put(ctx, kvKey, data); err != nil {
			return nil, err
		}
		return &ObjectRef{Key: kvPrefix + kvKey, Size: len(data)}, nil
	}
	if err := o.store.Put(ctx, objectKey, data, ctype); err != nil {
		return nil, err
	}
	return &ObjectRef{Key: objectKey, Size: len(data)}, nil
}

// Get reads a stored result or log; ErrNoOutput when it has expired.
func (o *Outputs) Get(ctx context.Context, ref *ObjectRef) ([]byte, error) {
	if key, ok := strings.CutPrefix(ref.Key, kvPrefix); ok {
		entry, err := o.kv.Get(ctx, key)
		if errors.Is(err, jetstream.ErrKeyNotFound) || errors.Is(err, jetstream.ErrKeyDeleted) {
			return nil, ErrNoOutput
		}
		if err != nil {
			return nil, err
		}
		return entry.Value(), nil
	}
	data, err := o.store.Get(ctx, ref.Key)
	if errors.Is(err, objstore.ErrNotFound) {
		return nil, ErrNoOutput
	}
	return data, err
}
