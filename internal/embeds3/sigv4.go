package embeds3

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Constants of AWS Signature Version 4 as used by S3.
const (
	sigV4Algorithm  = "AWS4-HMAC-SHA256"
	amzDateFormat   = "20060102T150405Z"
	scopeDateFormat = "20060102"
	scopeService    = "s3"
	scopeTerminator = "aws4_request"

	unsignedPayload          = "UNSIGNED-PAYLOAD"
	streamingSigned          = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
	streamingSignedTrailer   = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"
	streamingUnsignedTrailer = "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
	emptySHA256Hex           = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

	// maxClockSkew is how far the client's X-Amz-Date may be from the server clock.
	maxClockSkew = 15 * time.Minute
	// maxPresignExpiry is the longest X-Amz-Expires S3 accepts (seven days).
	maxPresignExpiry = 7 * 24 * time.Hour
)

// requestError is why a request is refused before it reaches gofakes3: it
// fails authentication or is malformed. The middleware reports it to the
// client as an S3 XML error.
type requestError struct {
	status int
	code   string
	msg    string
}

func (e *requestError) Error() string { return e.code + ": " + e.msg }

// accessDenied returns a 403 AccessDenied error with a formatted message.
func accessDenied(format string, args ...any) *requestError {
	return &requestError{status: http.StatusForbidden, code: "AccessDenied", msg: fmt.Sprintf(format, args...)}
}

// credentials is the single key pair the server accepts.
type credentials struct {
	accessKey string
	secretKey string
}

// signedRequest is what a successful verification knows about the request:
// the declared payload hash and, for header-signed requests, what is needed
// to check the signatures of aws-chunked chunks.
type signedRequest struct {
	payloadHash   string // X-Amz-Content-Sha256 as signed
	presigned     bool
	amzDate       string // ISO 8601 basic format, as in the string to sign
	scope         string // date/region/s3/aws4_request
	signingKey    []byte
	seedSignature string // lower-case hex signature of the request itself
}

// chunkSigner returns a verifier for the chunk signatures of a
// STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER] body, seeded with the request
// signature.
func (s *signedRequest) chunkSigner() *chunkSigner {
	return &chunkSigner{key: s.signingKey, amzDate: s.amzDate, scope: s.scope, prev: s.seedSignature}
}

// authFields are the parts of an Authorization header or of the presigned
// query parameters.
type authFields struct {
	accessKey     string
	scopeDate     string
	region        string
	service       string
	terminator    string
	signedHeaders []string
	signature     []byte
}

// verify checks the AWS Signature Version 4 of r, given either in the
// Authorization header or as presigned query parameters, against c at time now.
func (c credentials) verify(r *http.Request, now time.Time) (*signedRequest, error) {
	query := r.URL.Query()
	if query.Has("X-Amz-Signature") || query.Has("X-Amz-Algorithm") {
		return c.verifyPresigned(r, query, now)
	}
	return c.verifyHeader(r, now)
}

// verifyHeader checks a request signed in its Authorization header.
func (c credentials) verifyHeader(r *http.Request, now time.Time) (*signedRequest, error) {
	auth := r.Header.Get("Authorization")
	if auth == "" {
		return nil, accessDenied("anonymous access is not allowed; sign requests with AWS Signature Version 4")
	}
	algorithm, rest, _ := strings.Cut(auth, " ")
	if algorithm != sigV4Algorithm {
		return nil, accessDenied("unsupported authorization type %q; only %s is accepted", algorithm, sigV4Algorithm)
	}
	var credential, signedHeaders, signature string
	for part := range strings.SplitSeq(rest, ",") {
		key, value, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch key {
		case "Credential":
			credential = value
		case "SignedHeaders":
			signedHeaders = value
		case "Signature":
			signature = value
		}
	}
	fields, err := parseAuthFields(credential, signedHeaders, signature)
	if err != nil {
		return nil, err
	}
	if err := c.checkScope(fields); err != nil {
		return nil, err
	}

	amzDate := r.Header.Get("X-Amz-Date")
	if amzDate == "" {
		// SigV4 allows the standard Date header instead of X-Amz-Date.
		t, err := http.ParseTime(r.Header.Get("Date"))
		if err != nil {
			return nil, accessDenied("missing X-Amz-Date or Date header")
		}
		amzDate = t.UTC().Format(amzDateFormat)
	}
	t, err := parseAmzDate(amzDate, fields.scopeDate)
	if err != nil {
		return nil, err
	}
	if skew := now.Sub(t); skew > maxClockSkew || skew < -maxClockSkew {
		return nil, &requestError{http.StatusForbidden, "RequestTimeTooSkewed",
			fmt.Sprintf("the difference between the request time %s and the server time %s is more than %s", t.Format(time.RFC3339), now.UTC().Format(time.RFC3339), maxClockSkew)}
	}

	payloadHash := r.Header.Get("X-Amz-Content-Sha256")
	if payloadHash == "" {
		return nil, &requestError{http.StatusBadRequest, "InvalidRequest", "missing required header x-amz-content-sha256"}
	}
	return c.checkSignature(r, fields, amzDate, payloadHash, false)
}

// verifyPresigned checks a request signed in its query string (a presigned URL).
func (c credentials) verifyPresigned(r *http.Request, query url.Values, now time.Time) (*signedRequest, error) {
	if algorithm := query.Get("X-Amz-Algorithm"); algorithm != sigV4Algorithm {
		return nil, accessDenied("unsupported X-Amz-Algorithm %q; only %s is accepted", algorithm, sigV4Algorithm)
	}
	fields, err := parseAuthFields(query.Get("X-Amz-Credential"), query.Get("X-Amz-SignedHeaders"), query.Get("X-Amz-Signature"))
	if err != nil {
		return nil, err
	}
	if err := c.checkScope(fields); err != nil {
		return nil, err
	}
	amzDate := query.Get("X-Amz-Date")
	t, err := parseAmzDate(amzDate, fields.scopeDate)
	if err != nil {
		return nil, err
	}
	seconds, err := strconv.Atoi(query.Get("X-Amz-Expires"))
	if err != nil || seconds < 1 || time.Duration(seconds)*time.Second > maxPresignExpiry {
		return nil, accessDenied("X-Amz-Expires must be a number of seconds between 1 and %d", int(maxPresignExpiry.Seconds()))
	}
	if t.Sub(now) > maxClockSkew {
		return nil, &requestError{http.StatusForbidden, "RequestTimeTooSkewed", "the presigned URL is dated in the future"}
	}
	if now.After(t.Add(time.Duration(seconds) * time.Second)) {
		return nil, accessDenied("request has expired")
	}

	payloadHash := r.Header.Get("X-Amz-Content-Sha256")
	if payloadHash == "" {
		payloadHash = unsignedPayload
	}
	return c.checkSignature(r, fields, amzDate, payloadHash, true)
}

// parseAuthFields splits the Credential, SignedHeaders and Signature values.
func parseAuthFields(credential, signedHeaders, signature string) (*authFields, error) {
	if credential == "" || signedHeaders == "" || signature == "" {
		return nil, accessDenied("authorization is missing Credential, SignedHeaders or Signature")
	}
	parts := strings.Split(credential, "/")
	if len(parts) != 5 {
		return nil, accessDenied("malformed credential %q; expected ACCESSKEY/DATE/REGION/SERVICE/aws4_request", credential)
	}
	sig, err := hex.DecodeString(signature)
	if err != nil || len(sig) != sha256.Size {
		return nil, &requestError{http.StatusForbidden, "SignatureDoesNotMatch", "signature is not 64 hexadecimal digits"}
	}
	headers := strings.Split(signedHeaders, ";")
	if !slices.Contains(headers, "host") {
		return nil, accessDenied("the host header must be signed")
	}
	return &authFields{
		accessKey:     parts[0],
		scopeDate:     parts[1],
		region:        parts[2],
		service:       parts[3],
		terminator:    parts[4],
		signedHeaders: headers,
		signature:     sig,
	}, nil
}

// checkScope checks the access key and the credential scope apart from its date.
func (c credentials) checkScope(f *authFields) error {
	if subtle.ConstantTimeCompare([]byte(f.accessKey), []byte(c.accessKey)) != 1 {
		return &requestError{http.StatusForbidden, "InvalidAccessKeyId", "the access key ID does not exist in our records"}
	}
	if f.service != scopeService || f.terminator != scopeTerminator || f.region == "" {
		return accessDenied("credential scope must be DATE/REGION/s3/aws4_request")
	}
	return nil
}

// parseAmzDate parses an ISO 8601 basic timestamp and checks that it falls on
// the credential scope's date.
func parseAmzDate(amzDate, scopeDate string) (time.Time, error) {
	t, err := time.Parse(amzDateFormat, amzDate)
	if err != nil {
		return time.Time{}, accessDenied("malformed request date %q", amzDate)
	}
	if t.Format(scopeDateFormat) != scopeDate {
		return time.Time{}, accessDenied("credential scope date %q does not match the request date %q", scopeDate, amzDate)
	}
	return t, nil
}

// checkSignature rebuilds the string to sign and compares signatures.
func (c credentials) checkSignature(r *http.Request, f *authFields, amzDate, payloadHash string, presigned bool) (*signedRequest, error) {
	canonical, err := canonicalRequest(r, f.signedHeaders, payloadHash, presigned)
	if err != nil {
		return nil, err
	}
	scope := strings.Join([]string{f.scopeDate, f.region, f.service, f.terminator}, "/")
	key := signingKey(c.secretKey, f.scopeDate, f.region, f.service)
	stringToSign := sigV4Algorithm + "\n" + amzDate + "\n" + scope + "\n" + sha256Hex([]byte(canonical))
	if !hmac.Equal(hmacSHA256(key, stringToSign), f.signature) {
		return nil, &requestError{http.StatusForbidden, "SignatureDoesNotMatch",
			"the request signature we calculated does not match the signature you provided; check your secret access key and signing method"}
	}
	return &signedRequest{
		payloadHash:   payloadHash,
		presigned:     presigned,
		amzDate:       amzDate,
		scope:         scope,
		signingKey:    key,
		seedSignature: hex.EncodeToString(f.signature),
	}, nil
}

// canonicalRequest builds the SigV4 canonical request of r. When presigned is
// set, X-Amz-Signature is left out of the canonical query string.
func canonicalRequest(r *http.Request, signedHeaders []string, payloadHash string, presigned bool) (string, error) {
	query, err := canonicalQuery(r.URL.RawQuery, presigned)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	b.WriteString(r.Method)
	b.WriteByte('\n')
	b.WriteString(canonicalURI(r.URL.Path))
	b.WriteByte('\n')
	b.WriteString(query)
	b.WriteByte('\n')
	for _, name := range signedHeaders {
		b.WriteString(name)
		b.WriteByte(':')
		b.WriteString(canonicalHeaderValue(r, name))
		b.WriteByte('\n')
	}
	b.WriteByte('\n')
	b.WriteString(strings.Join(signedHeaders, ";"))
	b.WriteByte('\n')
	b.WriteString(payloadHash)
	return b.String(), nil
}

// canonicalURI URI-encodes the decoded request path the way S3 does: every
// byte except unreserved characters and '/' is percent-encoded, once. This is
// what clients sign whatever escaping they used on the wire.
func canonicalURI(path string) string {
	if path == "" {
		return "/"
	}
	return uriEncode(path, false)
}

// canonicalQuery decodes the raw query and re-encodes it sorted by name, then
// value. Parameters without a value get an empty one ("uploads=").
func canonicalQuery(rawQuery string, presigned bool) (string, error) {
	type param struct{ name, value string }
	var params []param
	for pair := range strings.SplitSeq(rawQuery, "&") {
		if pair == "" {
			continue
		}
		rawName, rawValue, _ := strings.Cut(pair, "=")
		name, err := url.QueryUnescape(rawName)
		if err != nil {
			return "", accessDenied("malformed query parameter %q", rawName)
		}
		value, err := url.QueryUnescape(rawValue)
		if err != nil {
			return "", accessDenied("malformed value of query parameter %q", name)
		}
		if presigned && name == "X-Amz-Signature" {
			continue
		}
		params = append(params, param{uriEncode(name, true), uriEncode(value, true)})
	}
	slices.SortFunc(params, func(a, b param) int {
		if c := strings.Compare(a.name, b.name); c != 0 {
			return c
		}
		return strings.Compare(a.value, b.value)
	})
	var b strings.Builder
	for i, p := range params {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(p.name)
		b.WriteByte('=')
		b.WriteString(p.value)
	}
	return b.String(), nil
}

// canonicalHeaderValue returns the value of a signed header: its values joined
// by commas, each trimmed with runs of spaces squeezed. Go's server moves Host
// and Transfer-Encoding out of r.Header, so those are taken from r.
func canonicalHeaderValue(r *http.Request, name string) string {
	switch name {
	case "host":
		return r.Host
	case "transfer-encoding":
		if len(r.TransferEncoding) > 0 {
			return strings.Join(r.TransferEncoding, ",")
		}
	}
	values := r.Header.Values(name)
	if len(values) == 0 && name == "content-length" && r.ContentLength >= 0 {
		return strconv.FormatInt(r.ContentLength, 10)
	}
	trimmed := make([]string, len(values))
	for i, v := range values {
		trimmed[i] = strings.Join(strings.Fields(v), " ")
	}
	return strings.Join(trimmed, ",")
}

// uriEncode percent-encodes every byte of s except the unreserved characters
// A-Z a-z 0-9 - _ . ~ and, unless encodeSlash is set, '/'.
func uriEncode(s string, encodeSlash bool) string {
	const upperHex = "0123456789ABCDEF"
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'A' <= c && c <= 'Z', 'a' <= c && c <= 'z', '0' <= c && c <= '9',
			c == '-', c == '_', c == '.', c == '~', c == '/' && !encodeSlash:
			b.WriteByte(c)
		default:
			b.WriteByte('%')
			b.WriteByte(upperHex[c>>4])
			b.WriteByte(upperHex[c&0xf])
		}
	}
	return b.String()
}

// signingKey derives the SigV4 signing key for a date, region and service.
func signingKey(secretKey, scopeDate, region, service string) []byte {
	key := hmacSHA256([]byte("AWS4"+secretKey), scopeDate)
	key = hmacSHA256(key, region)
	key = hmacSHA256(key, service)
	return hmacSHA256(key, scopeTerminator)
}

// hmacSHA256 returns HMAC-SHA256(key, data).
func hmacSHA256(key []byte, data string) []byte {
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(data))
	return mac.Sum(nil)
}

// sha256Hex returns the SHA-256 of data in lower-case hexadecimal.
func sha256Hex(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// chunkSigner verifies the chain of chunk signatures of an aws-chunked body
// signed with STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER]: each chunk's
// signature covers its data and the previous signature, starting from the
// request's own (seed) signature.
type chunkSigner struct {
	key     []byte
	amzDate string
	scope   string
	prev    string // lower-case hex of the previous signature
}

// verifyChunk checks the signature of a chunk whose data has SHA-256 dataHash,
// and on success moves the chain forward.
func (s *chunkSigner) verifyChunk(dataHash []byte, signature string) bool {
	return s.advance(s.chunkStringToSign(dataHash), signature)
}

// verifyTrailer checks the x-amz-trailer-signature of the trailing headers,
// whose canonical form ("name:value\n" per header) has SHA-256 trailerHash.
func (s *chunkSigner) verifyTrailer(trailerHash []byte, signature string) bool {
	return s.advance(s.trailerStringToSign(trailerHash), signature)
}

func (s *chunkSigner) chunkStringToSign(dataHash []byte) string {
	return "AWS4-HMAC-SHA256-PAYLOAD\n" + s.amzDate + "\n" + s.scope + "\n" + s.prev + "\n" +
		emptySHA256Hex + "\n" + hex.EncodeToString(dataHash)
}

func (s *chunkSigner) trailerStringToSign(trailerHash []byte) string {
	return "AWS4-HMAC-SHA256-TRAILER\n" + s.amzDate + "\n" + s.scope + "\n" + s.prev + "\n" +
		hex.EncodeToString(trailerHash)
}

// advance compares signature with the expected one for stringToSign and, if
// they match, makes it the previous signature of the chain.
func (s *chunkSigner) advance(stringToSign, signature string) bool {
	got, err := hex.DecodeString(signature)
	if err != nil || !hmac.Equal(hmacSHA256(s.key, stringToSign), got) {
		return false
	}
	s.prev = hex.EncodeToString(got)
	return true
}
