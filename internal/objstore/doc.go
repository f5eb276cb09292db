// Package objstore is Hearth's view of S3-compatible storage: module
// artifacts, the compiled code runners share, and the request bodies,
// outputs and logs too large for a NATS message (claim checks). It speaks
// S3 through minio-go, against the embedded server in dev mode and MinIO or
// S3 in production.
//
// A caller starts from [New] with a [Config] (endpoint, keys, bucket),
// calls [Store.EnsureBucket] once, then reads and writes whole objects by
// key with [Store.Put], [Store.Get], [Store.Open], [Store.Exists],
// [Store.List] and [Store.Delete]. [ModuleKey] is where a module's bytes
// live; the keys of payloads, results and logs are wire's ([wire.PayloadKey]
// and the rest).
package objstore
