package embeds3

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"io"
	"strconv"
	"strings"
)

// Errors of the aws-chunked decoder. Decoding errors wrap one of them.
var (
	errChunkFormat    = errors.New("malformed aws-chunked body")
	errChunkTruncated = errors.New("aws-chunked body ends early")
	errChunkLength    = errors.New("aws-chunked body length does not match x-amz-decoded-content-length")
	errChunkSignature = errors.New("aws-chunked signature does not match")
)

const (
	// maxChunkHeader bounds a chunk header line ("hex-size;chunk-signature=...").
	maxChunkHeader = 4096
	// maxTrailerSection bounds everything after the final zero-size chunk.
	maxTrailerSection = 16 << 10
	// maxChunkSizeDigits keeps chunk sizes well inside int64.
	maxChunkSizeDigits = 15
)

// chunkDecoder reads the payload out of an aws-chunked body:
//
//	hex-size[;chunk-signature=SIG]\r\n DATA \r\n ... 0[;chunk-signature=SIG]\r\n [trailers] \r\n
//
// It returns io.EOF only after the final zero-size chunk and the trailer
// section, which must run to the end of the underlying body, have been read
// and checked. An empty body counts as an empty payload when want is 0, as
// minio-go sends zero-length uploads that way. Trailer lines ("name:value",
// ended by "\n" or "\r\n") are parsed but their values are not used; blank
// lines are skipped, which accepts both AWS's and minio-go's layout of the
// trailer section.
//
// With a signer, every chunk must carry a chunk-signature that continues the
// signature chain, checked when the chunk's data has been read; and if
// signedTrailer is set, the trailers must end with a valid
// x-amz-trailer-signature. A chunk's data is handed out before its signature
// is checked, so a caller must treat everything it read as void when Read
// fails. Without a signer, signatures are ignored.
type chunkDecoder struct {
	src           *bufio.Reader
	signer        *chunkSigner // nil: signatures are not checked
	signedTrailer bool
	want          int64 // declared decoded length, or -1 if unknown

	started bool      // a chunk header has been read
	got     int64     // payload bytes handed out so far
	remain  int64     // payload bytes of the current chunk not yet handed out
	inChunk bool      // a chunk's data has been started; its CRLF and signature are pending
	sig     string    // chunk-signature of the current chunk
	hash    hash.Hash // SHA-256 of the current chunk's data, when verifying
	err     error     // sticky: io.EOF once done, or the first failure
}

// newChunkDecoder returns a decoder of the aws-chunked body src that expects
// want payload bytes (-1: any number). signer may be nil; see chunkDecoder.
func newChunkDecoder(src io.Reader, want int64, signer *chunkSigner, signedTrailer bool) *chunkDecoder {
	d := &chunkDecoder{
		src:           bufio.NewReaderSize(src, maxChunkHeader),
		signer:        signer,
		signedTrailer: signedTrailer,
		want:          want,
	}
	if signer != nil {
		d.hash = sha256.New()
	}
	return d
}

// Read implements io.Reader.
func (d *chunkDecoder) Read(p []byte) (int, error) {
	if d.err != nil {
		return 0, d.err
	}
	if len(p) == 0 {
		return 0, nil
	}
	for d.remain == 0 {
		if err := d.nextChunk(); err != nil {
			d.err = err
			return 0, err
		}
	}
	if int64(len(p)) > d.remain {
		p = p[:d.remain]
	}
	n, err := d.src.Read(p)
	d.remain -= int64(n)
	d.got += int64(n)
	if d.hash != nil {
		d.hash.Write(p[:n])
	}
	if err != nil {
		if errors.Is(err, io.EOF) {
			err = fmt.Errorf("%w: in the data of a chunk", errChunkTruncated)
		}
		d.err = err
	}
	return n, err
}

// nextChunk finishes the current chunk and reads the next chunk header. At
// the final chunk it reads the trailers and returns io.EOF.
func (d *chunkDecoder) nextChunk() error {
	if d.inChunk {
		if err := d.expectCRLF(); err != nil {
			return err
		}
		if err := d.checkChunkSignature(); err != nil {
			return err
		}
		d.inChunk = false
	}

	if d.want == 0 && !d.started {
		// minio-go sends an empty upload as an empty body, without even the
		// final chunk; the signed headers already say it is empty.
		if _, err := d.src.Peek(1); errors.Is(err, io.EOF) {
			return io.EOF
		}
	}
	d.started = true
	line, err := d.readChunkHeader()
	if err != nil {
		return err
	}
	size, sig, err := parseChunkHeader(line)
	if err != nil {
		return err
	}
	if d.signer != nil && sig == "" {
		return fmt.Errorf("%w: chunk without chunk-signature", errChunkFormat)
	}
	d.sig = sig
	if d.hash != nil {
		d.hash.Reset()
	}

	if size == 0 {
		if err := d.checkChunkSignature(); err != nil {
			return err
		}
		if err := d.readTrailers(); err != nil {
			return err
		}
		if d.want >= 0 && d.got != d.want {
			return fmt.Errorf("%w: got %d bytes, want %d", errChunkLength, d.got, d.want)
		}
		return io.EOF
	}
	if d.want >= 0 && size > d.want-d.got {
		return fmt.Errorf("%w: more than %d bytes", errChunkLength, d.want)
	}
	d.remain = size
	d.inChunk = true
	return nil
}

// readChunkHeader reads a chunk header line and strips its CRLF.
func (d *chunkDecoder) readChunkHeader() (string, error) {
	line, err := d.src.ReadSlice('\n')
	switch {
	case errors.Is(err, bufio.ErrBufferFull):
		return "", fmt.Errorf("%w: chunk header longer than %d bytes", errChunkFormat, maxChunkHeader)
	case errors.Is(err, io.EOF):
		return "", fmt.Errorf("%w: before the final zero-size chunk", errChunkTruncated)
	case err != nil:
		return "", err
	}
	header, ok := bytes.CutSuffix(line, []byte("\r\n"))
	if !ok {
		return "", fmt.Errorf("%w: chunk header not ended by CRLF", errChunkFormat)
	}
	return string(header), nil
}

// parseChunkHeader parses "hex-size[;name=value]..." and returns the size and
// the chunk-signature extension, if any.
func parseChunkHeader(line string) (size int64, signature string, err error) {
	sizeHex, extensions, _ := strings.Cut(line, ";")
	if sizeHex == "" || len(sizeHex) > maxChunkSizeDigits || strings.Trim(sizeHex, "0123456789abcdefABCDEF") != "" {
		return 0, "", fmt.Errorf("%w: bad chunk size %q", errChunkFormat, truncate(sizeHex))
	}
	size, err = strconv.ParseInt(sizeHex, 16, 64)
	if err != nil {
		return 0, "", fmt.Errorf("%w: bad chunk size %q", errChunkFormat, sizeHex)
	}
	for ext := range strings.SplitSeq(extensions, ";") {
		if name, value, _ := strings.Cut(ext, "="); name == "chunk-signature" {
			signature = value
		}
	}
	return size, signature, nil
}

// expectCRLF consumes the CRLF that ends a chunk's data.
func (d *chunkDecoder) expectCRLF() error {
	var crlf [2]byte
	if _, err := io.ReadFull(d.src, crlf[:]); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return fmt.Errorf("%w: after the data of a chunk", errChunkTruncated)
		}
		return err
	}
	if crlf != [2]byte{'\r', '\n'} {
		return fmt.Errorf("%w: chunk data not followed by CRLF", errChunkFormat)
	}
	return nil
}

// checkChunkSignature checks the current chunk's signature, if verifying.
func (d *chunkDecoder) checkChunkSignature() error {
	if d.signer == nil {
		return nil
	}
	if !d.signer.verifyChunk(d.hash.Sum(nil), d.sig) {
		return fmt.Errorf("%w: chunk ending at payload byte %d", errChunkSignature, d.got)
	}
	return nil
}

// readTrailers reads everything after the final chunk header up to the end of
// the body, and checks the trailer signature when one is required.
func (d *chunkDecoder) readTrailers() error {
	var canonical bytes.Buffer // "name:value\n" per trailer, as signed
	var trailerSig string
	total := 0
	for {
		line, err := d.src.ReadSlice('\n')
		total += len(line)
		if total > maxTrailerSection || errors.Is(err, bufio.ErrBufferFull) {
			return fmt.Errorf("%w: trailer section longer than %d bytes", errChunkFormat, maxTrailerSection)
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return err
		}
		text := strings.TrimSuffix(strings.TrimSuffix(string(line), "\n"), "\r")
		if text != "" {
			name, value, ok := strings.Cut(text, ":")
			name = strings.ToLower(strings.TrimSpace(name))
			if !ok || name == "" {
				return fmt.Errorf("%w: bad trailer line %q", errChunkFormat, truncate(text))
			}
			if name == "x-amz-trailer-signature" {
				trailerSig = strings.TrimSpace(value)
			} else {
				canonical.WriteString(name + ":" + strings.TrimSpace(value) + "\n")
			}
		}
		if err != nil { // io.EOF: the body is complete
			break
		}
	}
	if d.signer == nil || !d.signedTrailer {
		return nil
	}
	if trailerSig == "" {
		return fmt.Errorf("%w: missing x-amz-trailer-signature", errChunkFormat)
	}
	sum := sha256.Sum256(canonical.Bytes())
	if !d.signer.verifyTrailer(sum[:], trailerSig) {
		return fmt.Errorf("%w: trailer", errChunkSignature)
	}
	return nil
}

// truncate shortens s for use in an error message.
func truncate(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}
