package embeds3

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"hash"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/johannesboyne/gofakes3"
)

// errPayloadHash is returned by a body whose SHA-256 differs from the signed
// X-Amz-Content-Sha256.
var errPayloadHash = errors.New("request body does not match x-amz-content-sha256")

// authHandler authenticates every request with AWS Signature Version 4 and
// hands gofakes3 a plain body: aws-chunked bodies are decoded (checking chunk
// signatures), other signed bodies are checked against their SHA-256, and the
// signing headers are removed so that gofakes3 does not store them as object
// metadata.
type authHandler struct {
	creds  credentials
	next   http.Handler
	logger *slog.Logger
	now    func() time.Time
}

// ServeHTTP implements http.Handler.
func (h *authHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if isCORSPreflight(r) {
		// Browsers send preflights without credentials; gofakes3 answers them
		// with CORS headers only.
		h.next.ServeHTTP(w, r)
		return
	}
	inner, err := h.admit(r)
	if err != nil {
		var re *requestError
		if !errors.As(err, &re) {
			re = &requestError{http.StatusInternalServerError, "InternalError", err.Error()}
		}
		h.logger.Debug("embeds3: request refused", "method", r.Method, "path", r.URL.Path, "code", re.code, "reason", re.msg)
		writeS3Error(w, r, re)
		return
	}
	h.next.ServeHTTP(w, inner)
}

// admit verifies r and returns the request to pass on to gofakes3.
func (h *authHandler) admit(r *http.Request) (*http.Request, error) {
	signed, err := h.creds.verify(r, h.now())
	if err != nil {
		return nil, err
	}
	if err := checkKeyPath(r.URL.Path); err != nil {
		return nil, err
	}
	h.logger.Debug("embeds3: request", "method", r.Method, "path", r.URL.Path, "payload", payloadKind(signed.payloadHash), "presigned", signed.presigned)
	return plainRequest(r, signed)
}

// isCORSPreflight reports whether r is a browser's CORS preflight request.
func isCORSPreflight(r *http.Request) bool {
	return r.Method == http.MethodOptions && r.Header.Get("Origin") != "" && r.Header.Get("Access-Control-Request-Method") != ""
}

// checkKeyPath refuses "." and ".." path segments: the file-system backend
// would resolve them, letting a key name another key or bucket.
func checkKeyPath(path string) error {
	for segment := range strings.SplitSeq(path, "/") {
		if segment == "." || segment == ".." {
			return &requestError{http.StatusBadRequest, "InvalidArgument", `object keys with "." or ".." path segments are not supported`}
		}
	}
	return nil
}

// plainRequest returns a copy of r for gofakes3 whose body is the plain,
// verified payload and whose headers no longer carry the signature.
func plainRequest(r *http.Request, signed *signedRequest) (*http.Request, error) {
	inner := r.Clone(r.Context())
	switch ph := signed.payloadHash; {
	case ph == unsignedPayload:
	case ph == streamingSigned || ph == streamingSignedTrailer || ph == streamingUnsignedTrailer:
		decoded, err := strconv.ParseInt(r.Header.Get("X-Amz-Decoded-Content-Length"), 10, 64)
		if err != nil || decoded < 0 {
			return nil, &requestError{http.StatusLengthRequired, "MissingContentLength", "aws-chunked uploads need a valid x-amz-decoded-content-length header"}
		}
		var signer *chunkSigner
		if ph != streamingUnsignedTrailer {
			signer = signed.chunkSigner()
		}
		inner.Body = &s3Body{Reader: newChunkDecoder(r.Body, decoded, signer, ph == streamingSignedTrailer), Closer: r.Body}
		inner.ContentLength = decoded
		inner.TransferEncoding = nil
		inner.Header.Set("Content-Length", strconv.FormatInt(decoded, 10))
		removeContentEncoding(inner.Header, "aws-chunked")
	case isSHA256Hex(ph):
		want, _ := hex.DecodeString(ph)
		inner.Body = &s3Body{Reader: &sha256Reader{src: r.Body, hash: sha256.New(), want: want}, Closer: r.Body}
	case strings.HasPrefix(ph, "STREAMING-"):
		return nil, &requestError{http.StatusNotImplemented, "NotImplemented", fmt.Sprintf("payload signing method %s is not supported", ph)}
	default:
		return nil, &requestError{http.StatusBadRequest, "InvalidArgument", "x-amz-content-sha256 must be UNSIGNED-PAYLOAD, a STREAMING-* value or a SHA-256 in hexadecimal"}
	}
	for _, name := range []string{"Authorization", "X-Amz-Date", "X-Amz-Content-Sha256", "X-Amz-Decoded-Content-Length", "X-Amz-Trailer", "X-Amz-Security-Token"} {
		inner.Header.Del(name)
	}
	return inner, nil
}

// payloadKind names the payload signing method for logs.
func payloadKind(payloadHash string) string {
	if isSHA256Hex(payloadHash) {
		return "sha256"
	}
	return payloadHash
}

// isSHA256Hex reports whether s is 64 hexadecimal digits.
func isSHA256Hex(s string) bool {
	if len(s) != 2*sha256.Size {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil
}

// removeContentEncoding drops one coding from the Content-Encoding header,
// keeping any others (e.g. "aws-chunked,gzip" becomes "gzip").
func removeContentEncoding(h http.Header, coding string) {
	var keep []string
	for _, value := range h.Values("Content-Encoding") {
		for c := range strings.SplitSeq(value, ",") {
			if c = strings.TrimSpace(c); c != "" && !strings.EqualFold(c, coding) {
				keep = append(keep, c)
			}
		}
	}
	h.Del("Content-Encoding")
	if len(keep) > 0 {
		h.Set("Content-Encoding", strings.Join(keep, ","))
	}
}

// sha256Reader passes src through and, at its end, fails with errPayloadHash
// unless the data had SHA-256 want.
type sha256Reader struct {
	src  io.Reader
	hash hash.Hash
	want []byte
}

// Read implements io.Reader.
func (s *sha256Reader) Read(p []byte) (int, error) {
	n, err := s.src.Read(p)
	s.hash.Write(p[:n])
	if errors.Is(err, io.EOF) && !bytes.Equal(s.hash.Sum(nil), s.want) {
		return n, errPayloadHash
	}
	return n, err
}

// s3Body is a request body whose read errors are turned into gofakes3 errors,
// so that a body failing verification is answered with a 4xx S3 error rather
// than an internal error.
type s3Body struct {
	io.Reader
	io.Closer
}

// Read implements io.Reader.
func (b *s3Body) Read(p []byte) (int, error) {
	n, err := b.Reader.Read(p)
	if err != nil && !errors.Is(err, io.EOF) {
		err = toS3Error(err)
	}
	return n, err
}

// toS3Error maps a body verification error to the gofakes3 error to answer.
func toS3Error(err error) error {
	switch {
	case errors.Is(err, errChunkSignature), errors.Is(err, errPayloadHash):
		return gofakes3.ErrorMessage(gofakes3.ErrBadDigest, err.Error())
	case errors.Is(err, errChunkLength), errors.Is(err, errChunkTruncated):
		return gofakes3.ErrorMessage(gofakes3.ErrIncompleteBody, err.Error())
	case errors.Is(err, errChunkFormat):
		return gofakes3.ErrorMessage(gofakes3.ErrInvalidArgument, err.Error())
	}
	return err
}

// s3ErrorBody is the XML body of an S3 error response.
type s3ErrorBody struct {
	XMLName  xml.Name `xml:"Error"`
	Code     string   `xml:"Code"`
	Message  string   `xml:"Message"`
	Resource string   `xml:"Resource"`
}

// writeS3Error answers with an S3 XML error (no body for HEAD).
func writeS3Error(w http.ResponseWriter, r *http.Request, e *requestError) {
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(e.status)
	if r.Method == http.MethodHead {
		return
	}
	body, err := xml.Marshal(s3ErrorBody{Code: e.code, Message: e.msg, Resource: r.URL.Path})
	if err != nil {
		return
	}
	_, _ = io.WriteString(w, xml.Header)
	_, _ = w.Write(body)
}
