// Package testutil starts the real parts that tests run against — an
// in-process NATS server, a MinIO server process — on random loopback ports
// in temporary directories, and stops them when the test ends.
//
// A test calls [StartNATS] for a JetStream server, [StartCluster] for a
// fresh JetStream cluster of n servers (no meta leader yet;
// [Cluster.Together] opens a store from several connections at once), [StartS3] for an object
// store on the embedded S3 server, or [StartMinIO] (skipped unless
// HEARTH_MINIO_BIN names a MinIO binary; see [HaveMinIO]) for a real one;
// each is stopped by t.Cleanup. [Eventually] polls a condition until a
// deadline instead of sleeping. [Fill] sets every field of a value, for
// tests that compare a hand-written JSON encoder with encoding/json.
package testutil
