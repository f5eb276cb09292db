package auth

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/base64"
	"errors"
	"hash"
	"strings"
	"sync"
)

// A key as a client sends it: "hk_" + id + "_" + secret, 63 characters.
// The id (16 characters of lower-case base32) names the key in listings,
// the audit log and revocation; the secret is 32 random bytes, base64url
// without padding. Only the hash of the secret is stored (docs/decisions
// 0009).
const (
	tokenPrefix = "hk_"
	idLen       = 16
	secretLen   = 43 // base64url of 32 bytes, no padding
	// TokenLen is the length of a key.
	TokenLen = len(tokenPrefix) + idLen + 1 + secretLen
	// MaxHeaderLen bounds the Authorization header read; longer is refused
	// unread.
	MaxHeaderLen = 1024
)

var idEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// Errors of a credential, each answered 401.
var (
	ErrNoCredentials = errors.New("no API key: send Authorization: Bearer <key>")
	ErrMalformed     = errors.New("the Authorization header is not \"Bearer <key>\"")
	ErrNotAKey       = errors.New("the bearer token is not a Hearth API key (hk_… of 63 characters)")
	ErrUnknownKey    = errors.New("the API key is not valid: unknown, revoked or mistyped")
)

// newToken makes a key: its id and the token the client sends.
func newToken() (id, token string, hash [32]byte) {
	var idBytes [10]byte
	var secret [32]byte
	_, _ = rand.Read(idBytes[:]) // crypto/rand.Read never fails
	_, _ = rand.Read(secret[:])
	id = idEncoding.EncodeToString(idBytes[:])
	s := base64.RawURLEncoding.EncodeToString(secret[:])
	return id, tokenPrefix + id + "_" + s, hashSecret(id, s)
}

// hashSecret is the stored form of a key's secret: HMAC-SHA-256 keyed by
// a constant of this scheme, over the id and the secret. The secrets are
// 256 random bits, so a fast one-way hash is enough (no password hash);
// binding the id means a hash copied to another key id does not verify.
// It runs on every authenticated request, so the HMACs are reused: one
// that was Reset starts from its saved key state (crypto/hmac), and
// hashing allocates nothing.
func hashSecret(id, secret string) [32]byte {
	h := hashers.Get().(*hasher)
	h.in = append(append(append(h.in[:0], id...), 0), secret...)
	h.mac.Write(h.in)
	var out [32]byte
	copy(out[:], h.mac.Sum(h.sum[:0]))
	// Nothing of the secret stays in the pool.
	clear(h.in)
	h.mac.Reset()
	hashers.Put(h)
	return out
}

var hashKey = []byte("hearth api key v1")

// hasher is an HMAC of hashKey, ready (Reset) to hash, with room for its
// input and output.
type hasher struct {
	mac hash.Hash
	in  []byte
	sum [sha256.Size]byte
}

var hashers = sync.Pool{New: func() any {
	h := &hasher{mac: hmac.New(sha256.New, hashKey), in: make([]byte, 0, idLen+1+secretLen)}
	h.mac.Reset() // saves the key state, which later Resets restore
	return h
}}

// ParseToken splits a key into its id and secret, checking its form.
func ParseToken(token string) (id, secret string, err error) {
	if len(token) != TokenLen || !strings.HasPrefix(token, tokenPrefix) || token[len(tokenPrefix)+idLen] != '_' {
		return "", "", ErrNotAKey
	}
	id = token[len(tokenPrefix) : len(tokenPrefix)+idLen]
	secret = token[len(tokenPrefix)+idLen+1:]
	if !ValidID(id) {
		return "", "", ErrNotAKey
	}
	for i := 0; i < len(secret); i++ {
		c := secret[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return "", "", ErrNotAKey
		}
	}
	return id, secret, nil
}

// ValidID reports whether id has the form of a key id.
func ValidID(id string) bool {
	if len(id) != idLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'a' && c <= 'z' || c >= '2' && c <= '7') {
			return false
		}
	}
	return true
}

// BearerToken reads the token of an Authorization header value: the
// scheme "Bearer" (any case), one or more spaces, the token. An empty
// header is ErrNoCredentials; anything else that is not of that form
// ErrMalformed.
func BearerToken(header string) (string, error) {
	if header == "" {
		return "", ErrNoCredentials
	}
	if len(header) > MaxHeaderLen {
		return "", ErrMalformed
	}
	scheme, rest, ok := strings.Cut(header, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", ErrMalformed
	}
	token := strings.TrimLeft(rest, " ")
	if token == "" || strings.ContainsAny(token, " \t\r\n") {
		return "", ErrMalformed
	}
	return token, nil
}
