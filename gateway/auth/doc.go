// Package auth is who may do what on a gateway: API keys, their scopes
// and namespaces, and the middleware that checks every request before its
// handler.
//
// A gateway opens the keys with [OpenKeys] (a NATS KV bucket, watched, so
// a key revoked on one gateway is refused by all within milliseconds,
// plus the bootstrap admin key) and puts a [Guard] in front of its routes:
// [Guard.Middleware] authenticates the bearer token ([Keys.Authenticate]),
// applies the key's rate limit, and checks the route's [Rule] — the scope
// it needs ([NeedRead] … [NeedAdmin]) and where its namespace comes from
// ([InRequest], [InObject], [Cluster]). Handlers of InObject routes call
// [CheckNamespace] once they know the object's namespace; [From] gives
// the request's [Principal].
//
// Keys are "hk_" + a 16-character id + "_" + 32 random bytes (base64url);
// only an HMAC-SHA-256 of the secret part is stored (docs/decisions/0009).
package auth
