// Package embeds3 is an embedded S3-compatible server that keeps objects on
// disk. `hearth dev` runs it so that the S3 code path (minio-go) is the same
// as against a real MinIO.
//
// Storage and the S3 API are gofakes3 with its s3afero backend. In front of
// them sits our own middleware that verifies AWS Signature Version 4 (header
// and presigned-URL forms) against one key pair and decodes aws-chunked
// uploads, so gofakes3 only ever sees authenticated requests with plain
// bodies. See docs/decisions/0001-embedded-s3.md.
//
// Layout of the data directory: buckets/<bucket>/<key> holds object data,
// metadata/ holds s3afero's JSON metadata, tmp/ holds uploads in progress, and
// s3-credentials.json the keys made by LoadOrCreateCredentials.
//
// Unfinished multipart uploads live in memory: they are lost when the server
// stops, and a completed one is assembled in memory before it is written.
//
// A caller makes or reads the key pair with [LoadOrCreateCredentials],
// then [Start]s a [Server] with a [Config] (data directory, address, keys);
// [Server.Endpoint] is what an objstore.Config points at, and
// [Server.Close] stops it.
package embeds3
