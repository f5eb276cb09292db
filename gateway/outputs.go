package gateway

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/hearthfn/hearth/internal/objstore"
	"github.com/hearthfn/hearth/internal/wire"
)

// OutputsBucket keeps small results and logs in NATS KV; larger ones go to
// the object store under results/<id> and logs/<id>.
const OutputsBucket = "hearth_outputs"

// inlineOutputMax is the largest result or log kept in KV. Writing an
// object to S3 costs far more than a KV put (on the embedded server: three
// file creations), and most outputs are small.
const inlineOutputMax = 64 << 10

// kvPrefix marks an ObjectRef key that lives in the outputs bucket.
const kvPrefix = "kv:"

// outputs stores invocation results and logs.
type outputs struct {
	kv    jetstream.KeyValue
	store Storage
}

func openOutputs(ctx context.Context, js jetstream.JetStream, store Storage, retention time.Duration, replicas int) (*outputs, error) {
	kv, err := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket:       OutputsBucket,
		Description:  "Hearth results and logs up to 64 KiB",
		History:      1,
		TTL:          retention,
		Storage:      jetstream.FileStorage,
		Replicas:     replicas,
		MaxValueSize: inlineOutputMax,
	})
	if err != nil {
		return nil, fmt.Errorf("gateway: open KV bucket %s: %w", OutputsBucket, err)
	}
	return &outputs{kv: kv, store: store}, nil
}

// putResult stores an invocation's output.
func (o *outputs) putResult(ctx context.Context, id string, data []byte, ctype string) (*ObjectRef, error) {
	return o.put(ctx, "r."+id, wire.ResultKey(id), data, ctype)
}

// putLogs stores an invocation's log.
func (o *outputs) putLogs(ctx context.Context, id string, data []byte) (*ObjectRef, error) {
	return o.put(ctx, logsKVKey(id), wire.LogKey(id), data, "text/plain")
}

// logsKVKey is the outputs bucket's key of a log up to inlineOutputMax.
func logsKVKey(id string) string { return "l." + id }

// logsRef is where a log of size bytes, up to inlineOutputMax, is kept in
// the outputs bucket.
func (o *outputs) logsRef(id string, size int) *ObjectRef {
	return &ObjectRef{Key: kvPrefix + logsKVKey(id), Size: size}
}

// subject is the KV subject of a ref in the outputs bucket, for writers
// that publish without the KeyValue API.
func (o *outputs) subject(ref *ObjectRef) string {
	return "$KV." + OutputsBucket + "." + strings.TrimPrefix(ref.Key, kvPrefix)
}

func (o *outputs) put(ctx context.Context, kvKey, objectKey string, data []byte, ctype string) (*ObjectRef, error) {
	if len(data) <= inlineOutputMax {
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

// get reads a stored result or log; errNoOutput when it has expired.
func (o *outputs) get(ctx context.Context, ref *ObjectRef) ([]byte, error) {
	if key, ok := strings.CutPrefix(ref.Key, kvPrefix); ok {
		entry, err := o.kv.Get(ctx, key)
		if errors.Is(err, jetstream.ErrKeyNotFound) || errors.Is(err, jetstream.ErrKeyDeleted) {
			return nil, errNoOutput
		}
		if err != nil {
			return nil, err
		}
		return entry.Value(), nil
	}
	data, err := o.store.Get(ctx, ref.Key)
	if errors.Is(err, objstore.ErrNotFound) {
		return nil, errNoOutput
	}
	return data, err
}

var errNoOutput = errors.New("output no longer stored")
