// Package secrets keeps the per-namespace secrets of functions, sealed at
// rest, and opens them for invocations.
//
// A gateway enters it with [Open], which creates the NATS JetStream KV
// bucket [Bucket] ("hearth_secrets") if needed and watches it into an
// in-memory cache, returning once the bucket's current contents are in;
// every gateway on the same NATS sees a secret set or deleted through any
// other within milliseconds, and its own writes at once. The API handlers
// call [Store.Put], [Store.Get], [Store.List] and [Store.Delete] (metadata
// only: no listing or error ever carries a value) and [Store.Missing] to
// refuse a deploy that grants a secret that does not exist; each
// invocation of a function with secrets calls [Store.Env], which opens
// them from the cache into environment variables named by [EnvName]
// ("db-password" is DB_PASSWORD).
//
// Names follow the function-name rule (registry.ValidateName): 1 to 63 of
// a-z, 0-9 and '-', starting with a letter. A bad name is both
// [ErrInvalidName] and a *registry.ValidationError (HTTP 400); an empty
// value is [ErrEmpty] (400) and one over [MaxValueBytes] (64 KiB)
// [ErrTooLarge] (413); deleting a missing secret is [ErrNotFound] (404).
//
// # Master key
//
// One 32-byte key, the same on every gateway (HEARTH_SECRETS_KEY), seals
// every value. [ParseKey] reads it as 64 hex characters or as base64
// (standard or URL-safe, padded or not); `openssl rand -base64 32` makes
// one. [LoadOrCreateKeyFile] reads it from a file, or creates the file
// (mode 0600, base64) with a fresh key when it does not exist; it does not
// refuse a file others can read. A store opened without a key still lists
// and deletes, but Put and Env answer [ErrNoKey].
//
// # At rest
//
// The KV key of a secret is "<namespace>.<name>" (both validated, so
// neither has a dot or a wildcard) and its value is JSON:
//
//	{"ciphertext": "<base64 of nonce || AES-256-GCM ciphertext and tag>",
//	 "key_id": "<Fingerprint of the key>",
//	 "created_at": "<RFC 3339>", "updated_at": "<RFC 3339>"}
//
// Every write draws a fresh random 12-byte nonce, and the GCM additional
// data is "<namespace>/<name>", so a ciphertext copied to another secret
// does not open ([ErrCorrupt]). key_id is the first 8 bytes, in hex, of
// SHA-256("hearth-secrets-key-id" || key) ([Fingerprint]): a gateway with
// a different key answers [ErrKeyMismatch] naming both fingerprints
// instead of a bare authentication failure. Delete purges the key, so no
// earlier revision of the ciphertext stays in the stream; the bucket keeps
// one revision per key.
package secrets
