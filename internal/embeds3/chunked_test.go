package embeds3

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

// chunkMode is one of the aws-chunked layouts the tests produce.
type chunkMode int

const (
	modeSigned          chunkMode = iota // STREAMING-AWS4-HMAC-SHA256-PAYLOAD, as minio-go writes it
	modeSignedTrailer                    // ...-PAYLOAD-TRAILER, as minio-go writes it
	modeUnsignedTrailer                  // STREAMING-UNSIGNED-PAYLOAD-TRAILER, as AWS documents it
	numChunkModes
)

// testSigner returns the signature chain both encoder and decoder start from.
func testSigner() *chunkSigner {
	return &chunkSigner{
		key:     signingKey("secret", "20240102", "us-east-1", "s3"),
		amzDate: "20240102T030405Z",
		scope:   "20240102/us-east-1/s3/aws4_request",
		prev:    strings.Repeat("ab", 32),
	}
}

// encodeChunked frames payload in chunks of chunkSize bytes. Signed modes
// sign the chunks (and trailer) with signer, which it advances.
func encodeChunked(payload []byte, chunkSize int, mode chunkMode, signer *chunkSigner) []byte {
	var b bytes.Buffer
	sign := func(stringToSign string) string {
		sig := hex.EncodeToString(hmacSHA256(signer.key, stringToSign))
		signer.prev = sig
		return sig
	}
	writeChunk := func(data []byte, last bool) {
		if mode == modeUnsignedTrailer {
			fmt.Fprintf(&b, "%x\r\n", len(data))
		} else {
			sum := sha256.Sum256(data)
			fmt.Fprintf(&b, "%x;chunk-signature=%s\r\n", len(data), sign(signer.chunkStringToSign(sum[:])))
		}
		b.Write(data)
		if !last || mode == modeSigned {
			b.WriteString("\r\n")
		}
	}
	for len(payload) > 0 {
		n := min(chunkSize, len(payload))
		writeChunk(payload[:n], false)
		payload = payload[n:]
	}
	writeChunk(nil, true)

	const trailer = "x-amz-checksum-crc32c:sOO8/Q=="
	switch mode {
	case modeSignedTrailer:
		sum := sha256.Sum256([]byte(trailer + "\n"))
		fmt.Fprintf(&b, "%s\n\r\nx-amz-trailer-signature:%s\r\n\r\n", trailer, sign(signer.trailerStringToSign(sum[:])))
	case modeUnsignedTrailer:
		b.WriteString(trailer + "\r\n\r\n")
	}
	return b.Bytes()
}

// decodeChunked decodes body as the server would for mode.
func decodeChunked(body io.Reader, want int64, mode chunkMode) ([]byte, error) {
	var signer *chunkSigner
	if mode != modeUnsignedTrailer {
		signer = testSigner()
	}
	return io.ReadAll(newChunkDecoder(body, want, signer, mode == modeSignedTrailer))
}

func TestChunkDecoderRoundTrip(t *testing.T) {
	payload := bytes.Repeat([]byte("0123456789abcdef"), 2_000)
	for mode := range numChunkModes {
		for _, chunkSize := range []int{1, 7, 8192, 65536, len(payload)} {
			t.Run(fmt.Sprintf("mode%d/chunk%d", mode, chunkSize), func(t *testing.T) {
				body := encodeChunked(payload, chunkSize, mode, testSigner())
				got, err := decodeChunked(iotest.HalfReader(bytes.NewReader(body)), int64(len(payload)), mode)
				if err != nil {
					t.Fatalf("decode: %v", err)
				}
				if !bytes.Equal(got, payload) {
					t.Fatalf("decoded %d bytes, want the %d-byte payload", len(got), len(payload))
				}
			})
		}
	}
}

func TestChunkDecoderRejects(t *testing.T) {
	payload := []byte(strings.Repeat("hello, world! ", 100))
	signed := encodeChunked(payload, 256, modeSigned, testSigner())
	withTrailer := encodeChunked(payload, 256, modeSignedTrailer, testSigner())

	flipped := bytes.Clone(signed)
	flipped[bytes.Index(flipped, []byte("hello"))] ^= 1

	badTrailer := bytes.Replace(withTrailer, []byte("sOO8"), []byte("xOO8"), 1)
	noTrailerSig := withTrailer[:bytes.Index(withTrailer, []byte("x-amz-trailer-signature"))]

	tests := []struct {
		name string
		body []byte
		want int64
		mode chunkMode
		err  error
	}{
		{"flipped data byte", flipped, int64(len(payload)), modeSigned, errChunkSignature},
		{"changed trailer", badTrailer, int64(len(payload)), modeSignedTrailer, errChunkSignature},
		{"missing trailer signature", noTrailerSig, int64(len(payload)), modeSignedTrailer, errChunkFormat},
		{"decoded length too small", signed, int64(len(payload)) - 1, modeSigned, errChunkLength},
		{"decoded length too large", signed, int64(len(payload)) + 1, modeSigned, errChunkLength},
		{"truncated in data", signed[:len(signed)/2], int64(len(payload)), modeSigned, errChunkTruncated},
		{"no final chunk", signed[:bytes.LastIndex(signed, []byte("0;chunk-signature"))], int64(len(payload)), modeSigned, errChunkTruncated},
		{"missing signature", []byte("5\r\nhello\r\n0\r\n\r\n"), 5, modeSigned, errChunkFormat},
		{"negative size", []byte("-5\r\nhello\r\n0\r\n\r\n"), -1, modeUnsignedTrailer, errChunkFormat},
		{"size with sign", []byte("+5\r\nhello\r\n0\r\n\r\n"), -1, modeUnsignedTrailer, errChunkFormat},
		{"huge size", []byte("fffffffffffffffff\r\nhello\r\n0\r\n\r\n"), -1, modeUnsignedTrailer, errChunkFormat},
		{"no CRLF after data", []byte("5\r\nhelloXX0\r\n\r\n"), -1, modeUnsignedTrailer, errChunkFormat},
		{"bare LF header", []byte("5\nhello\r\n0\r\n\r\n"), -1, modeUnsignedTrailer, errChunkFormat},
		{"bad trailer line", []byte("5\r\nhello\r\n0\r\nno colon here\r\n\r\n"), 5, modeUnsignedTrailer, errChunkFormat},
		{"empty body, data expected", nil, 5, modeSigned, errChunkTruncated},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := decodeChunked(bytes.NewReader(tt.body), tt.want, tt.mode)
			if !errors.Is(err, tt.err) {
				t.Fatalf("got error %v, want %v", err, tt.err)
			}
		})
	}
}

func TestChunkDecoderEmptyBody(t *testing.T) {
	// minio-go sends a zero-length upload as an empty body.
	got, err := decodeChunked(bytes.NewReader(nil), 0, modeSigned)
	if err != nil || len(got) != 0 {
		t.Fatalf("got %q, %v; want an empty payload", got, err)
	}
}

// FuzzChunkDecoder feeds the decoder arbitrary bodies, which must never make
// it panic, and well-formed encodings of arbitrary payloads, which it must
// decode to the payload.
func FuzzChunkDecoder(f *testing.F) {
	f.Add([]byte("5\r\nhello\r\n0\r\n\r\n"), []byte("hello"), uint16(2), uint8(0))
	f.Add(encodeChunked([]byte("hello world"), 4, modeSigned, testSigner()), []byte{}, uint16(0), uint8(1))
	f.Add(encodeChunked([]byte("hello world"), 3, modeSignedTrailer, testSigner()), []byte("x"), uint16(1), uint8(5))
	f.Add(encodeChunked([]byte("hello world"), 5, modeUnsignedTrailer, testSigner()), bytes.Repeat([]byte{0, 1, 2}, 100), uint16(64), uint8(2))
	f.Add([]byte("0;chunk-signature=zz\r\nx-amz-trailer-signature:\r\n"), []byte("\r\n0\r\n"), uint16(65535), uint8(4))

	f.Fuzz(func(t *testing.T, raw, payload []byte, chunkSize uint16, flags uint8) {
		// Arbitrary input: any result but a panic will do.
		for mode := range numChunkModes {
			_, _ = decodeChunked(bytes.NewReader(raw), -1, mode)
			_, _ = decodeChunked(iotest.OneByteReader(bytes.NewReader(raw)), int64(len(raw)/2), mode)
		}

		// Well-formed input: the payload comes back.
		mode := chunkMode(flags % uint8(numChunkModes))
		size := int(chunkSize) + 1
		if len(payload) > 1000*size {
			payload = payload[:1000*size] // a signature per chunk: keep each run fast
		}
		body := encodeChunked(payload, size, mode, testSigner())
		var src io.Reader = bytes.NewReader(body)
		if flags&0x80 != 0 {
			src = iotest.OneByteReader(src)
		}
		got, err := decodeChunked(src, int64(len(payload)), mode)
		if err != nil {
			t.Fatalf("decoding a well-formed body (mode %d, chunk size %d): %v", mode, size, err)
		}
		if !bytes.Equal(got, payload) {
			t.Fatalf("decoded %q, want %q", got, payload)
		}
	})
}
