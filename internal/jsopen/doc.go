// Package jsopen opens JetStream streams, KV buckets and consumers while
// JetStream may not be ready yet: a cluster whose servers have just
// started elects its meta leader first and answers no API request until
// then, and gateways started together race to create the same streams.
//
// A store enters it once, where it creates or updates what it keeps:
//
//	err := jsopen.Retry(ctx, log, "KV bucket "+Bucket, func(ctx context.Context) (err error) {
//		kv, err = js.CreateOrUpdateKeyValue(ctx, cfg)
//		return err
//	})
//	if err != nil {
//		return nil, fmt.Errorf("registry: open KV bucket %s: %w", Bucket, err)
//	}
//
// Retry runs the function again, with backoff and a warning logged per
// retry, while its error is Transient, for up to Timeout; an error that
// stays (insufficient resources, a bad configuration) is returned at
// once. The function must be safe to repeat: create-or-update calls and
// durable consumers are. Transient is also the test of a publish worth
// repeating with the same message id.
//
// The package imports only nats.go: the gateway's stores and the registry
// use it, never the other way round.
package jsopen
