package embeds3

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3afero"
)

// diskBackend is the s3afero backend with some of its faults fixed.
//
// Uploads are all-or-nothing. s3afero writes an upload straight into the
// object's file while holding its one backend-wide lock: a failed upload
// (client gone, chunk signature wrong, Content-MD5 mismatch) would leave a
// truncated object in place of the old one, and a slow client would stall
// every other request. diskBackend first copies the body to a file in
// spoolDir and hands it to s3afero only once it is complete.
//
// Keys that cannot be stored as files are refused with a 400 error up front,
// rather than failing in s3afero with a 500 that clients retry for a while:
// see checkKey.
//
// Deleting an object removes the directories it leaves empty. s3afero keeps
// each key's directories, so a deleted "a/b" would still be listed as the
// common prefix "a/" and its bucket could never be deleted.
type diskBackend struct {
	*s3afero.MultiBucketBackend
	spoolDir   string
	bucketsDir string // where s3afero keeps buckets/<bucket>/<key>

	// mu keeps directory clean-up from removing a directory that a PutObject
	// has just created for its file.
	mu sync.Mutex
}

// newDiskBackend wraps inner, an s3afero backend rooted at the data directory dir.
func newDiskBackend(inner *s3afero.MultiBucketBackend, dir string) *diskBackend {
	return &diskBackend{
		MultiBucketBackend: inner,
		spoolDir:           filepath.Join(dir, "tmp"),
		bucketsDir:         filepath.Join(dir, "buckets"),
	}
}

// PutObject implements gofakes3.Backend.
func (b *diskBackend) PutObject(bucket, key string, meta map[string]string, input io.Reader, size int64, conditions *gofakes3.PutConditions) (gofakes3.PutObjectResult, error) {
	if err := b.checkKey(bucket, key); err != nil {
		return gofakes3.PutObjectResult{}, err
	}
	if _, inMemory := input.(*bytes.Reader); !inMemory {
		// Completed multipart uploads arrive assembled in memory: nothing
		// can fail halfway. Everything else is spooled first.
		spool, err := b.spool(input, size)
		if err != nil {
			return gofakes3.PutObjectResult{}, err
		}
		defer func() {
			spool.Close()
			os.Remove(spool.Name())
		}()
		input = spool
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.MultiBucketBackend.PutObject(bucket, key, meta, input, size, conditions)
}

// maxKeyBytes is the longest key s3afero can store: it names the key's
// metadata file after the key plus 33 characters, and file names are limited
// to 255 bytes.
const maxKeyBytes = 255 - 33

// checkKey refuses keys that s3afero, which stores key "a/b" as the file
// buckets/<bucket>/a/b, cannot store: keys ending in "/" (folder markers,
// which would break listing the bucket), keys longer than maxKeyBytes, and
// keys that clash with a stored key, such as "a/b" when "a" exists or "a"
// when "a/b" exists.
func (b *diskBackend) checkKey(bucket, key string) error {
	if strings.HasSuffix(key, "/") {
		return gofakes3.ErrorMessage(gofakes3.ErrInvalidArgument, "keys ending in / are not supported by the embedded S3 server")
	}
	if len(key) > maxKeyBytes {
		return gofakes3.ErrorMessagef(gofakes3.ErrKeyTooLong, "the embedded S3 server stores keys of at most %d bytes", maxKeyBytes)
	}
	file := func(key string) string { return filepath.Join(b.bucketsDir, bucket, filepath.FromSlash(key)) }
	if info, err := os.Stat(file(key)); err == nil && info.IsDir() {
		return gofakes3.ErrorMessagef(gofakes3.ErrInvalidArgument, "the embedded S3 server cannot store key %q next to keys starting with %q", key, key+"/")
	}
	for dir := path.Dir(key); dir != "." && dir != "/"; dir = path.Dir(dir) {
		if info, err := os.Stat(file(dir)); err == nil && !info.IsDir() {
			return gofakes3.ErrorMessagef(gofakes3.ErrInvalidArgument, "the embedded S3 server cannot store key %q next to key %q", key, dir)
		}
	}
	return nil
}

// spool copies exactly size bytes of input to a temporary file and returns
// it open at its start. Errors reading input are returned as they are: the
// middleware has made them S3 errors.
func (b *diskBackend) spool(input io.Reader, size int64) (*os.File, error) {
	f, err := os.CreateTemp(b.spoolDir, "upload-*")
	if err != nil {
		return nil, fmt.Errorf("embeds3: spool upload: %w", err)
	}
	n, err := io.Copy(f, input)
	if err == nil && n != size {
		err = gofakes3.ErrorMessagef(gofakes3.ErrIncompleteBody, "got %d bytes, want %d", n, size)
	}
	if err == nil {
		_, err = f.Seek(0, io.SeekStart)
	}
	if err != nil {
		f.Close()
		os.Remove(f.Name())
		return nil, err
	}
	return f, nil
}

// CopyObject implements gofakes3.Backend. It goes through PutObject above, so
// that copying an object onto itself (to replace its metadata) does not
// truncate the file s3afero is reading from.
func (b *diskBackend) CopyObject(srcBucket, srcKey, dstBucket, dstKey string, meta map[string]string) (gofakes3.CopyObjectResult, error) {
	return gofakes3.CopyObject(b, srcBucket, srcKey, dstBucket, dstKey, meta)
}

// DeleteObject implements gofakes3.Backend.
func (b *diskBackend) DeleteObject(bucket, key string) (gofakes3.ObjectDeleteResult, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	result, err := b.MultiBucketBackend.DeleteObject(bucket, key)
	if err == nil {
		b.removeEmptyDirs(bucket, key)
	}
	return result, err
}

// DeleteMulti implements gofakes3.Backend.
func (b *diskBackend) DeleteMulti(bucket string, keys ...string) (gofakes3.MultiDeleteResult, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	result, err := b.MultiBucketBackend.DeleteMulti(bucket, keys...)
	for _, deleted := range result.Deleted {
		b.removeEmptyDirs(bucket, deleted.Key)
	}
	return result, err
}

// removeEmptyDirs removes the directories of key, deepest first, as long as
// they are empty. The bucket's own directory stays.
func (b *diskBackend) removeEmptyDirs(bucket, key string) {
	for dir := path.Dir(path.Clean("/" + key)); dir != "/"; dir = path.Dir(dir) {
		if os.Remove(filepath.Join(b.bucketsDir, bucket, filepath.FromSlash(dir))) != nil {
			return // not empty, or already gone
		}
	}
}
