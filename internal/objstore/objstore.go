package objstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// ErrNotFound is returned when an object does not exist.
var ErrNotFound = errors.New("object not found")

// Config says how to reach the object store.
type Config struct {
	Endpoint  string // host:port, or a URL such as http://127.0.0.1:9000
	AccessKey string
	SecretKey string
	Bucket    string // default "hearth"
	Secure    bool   // use TLS; implied by an https:// endpoint
	Region    string // default "us-east-1"
	// Metrics, when set, counts the store's requests and failures.
	Metrics *Metrics
}

// Store reads and writes objects in one bucket.
type Store struct {
	client  *minio.Client
	bucket  string
	metrics *Metrics // nil: not counted
}

// New connects to the endpoint. It does no I/O; call EnsureBucket to check
// that the store is reachable and the bucket exists.
func New(cfg Config) (*Store, error) {
	endpoint, secure := cfg.Endpoint, cfg.Secure
	switch {
	case strings.HasPrefix(endpoint, "https://"):
		endpoint, secure = strings.TrimPrefix(endpoint, "https://"), true
	case strings.HasPrefix(endpoint, "http://"):
		endpoint = strings.TrimPrefix(endpoint, "http://")
	}
	endpoint = strings.TrimSuffix(endpoint, "/")
	if endpoint == "" {
		return nil, errors.New("objstore: no S3 endpoint given (use --s3-endpoint or HEARTH_S3_ENDPOINT)")
	}
	if cfg.Bucket == "" {
		cfg.Bucket = "hearth"
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	client, err := minio.New(endpoint, &minio.Options{
		Creds:        credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, ""),
		Secure:       secure,
		Region:       cfg.Region,
		BucketLookup: minio.BucketLookupPath,
	})
	if err != nil {
		return nil, fmt.Errorf("objstore: %w", err)
	}
	return &Store{client: client, bucket: cfg.Bucket, metrics: cfg.Metrics}, nil
}

// Bucket is the bucket the store uses.
func (s *Store) Bucket() string { return s.bucket }

// EnsureBucket creates the bucket if it does not exist yet.
func (s *Store) EnsureBucket(ctx context.Context) (err error) {
	defer s.metrics.observe(opBucket, time.Now(), &err)
	ok, err := s.client.BucketExists(ctx, s.bucket)
	if err != nil {
		return fmt.Errorf("objstore: check bucket %q: %w", s.bucket, err)
	}
	if ok {
		return nil
	}
	if err := s.client.MakeBucket(ctx, s.bucket, minio.MakeBucketOptions{}); err != nil {
		// Another role may have created it in the meantime.
		if ok, err2 := s.client.BucketExists(ctx, s.bucket); err2 == nil && ok {
			return nil
		}
		return fmt.Errorf("objstore: create bucket %q: %w", s.bucket, err)
	}
	return nil
}

// Ping checks that the store answers and the bucket exists.
func (s *Store) Ping(ctx context.Context) (err error) {
	defer s.metrics.observe(opBucket, time.Now(), &err)
	ok, err := s.client.BucketExists(ctx, s.bucket)
	if err != nil {
		return fmt.Errorf("objstore: %w", err)
	}
	if !ok {
		return fmt.Errorf("objstore: bucket %q does not exist", s.bucket)
	}
	return nil
}

// Put stores data under key.
func (s *Store) Put(ctx context.Context, key string, data []byte, contentType string) (err error) {
	defer s.metrics.observe(opPut, time.Now(), &err)
	_, err = s.client.PutObject(ctx, s.bucket, key, bytes.NewReader(data), int64(len(data)),
		minio.PutObjectOptions{ContentType: contentType})
	if err != nil {
		return fmt.Errorf("objstore: put %s: %w", key, err)
	}
	return nil
}

// Get reads the whole object stored under key.
func (s *Store) Get(ctx context.Context, key string) (_ []byte, err error) {
	defer s.metrics.observe(opGet, time.Now(), &err)
	obj, err := s.client.GetObject(ctx, s.bucket, key, minio.GetObjectOptions{})
	if err != nil {
		return nil, s.wrap("get", key, err)
	}
	defer obj.Close()
	data, err := io.ReadAll(obj)
	if err != nil {
		return nil, s.wrap("get", key, err)
	}
	return data, nil
}

// Open streams the object stored under key; the caller closes it. A
// missing object is ErrNotFound from Open itself, not from the first Read.
func (s *Store) Open(ctx context.Context, key string) (_ io.ReadCloser, err error) {
	defer s.metrics.observe(opGet, time.Now(), &err)
	obj, err := s.client.GetObject(ctx, s.bucket, key, minio.GetObjectOptions{})
	if err != nil {
		return nil, s.wrap("get", key, err)
	}
	// Stat sends the request and keeps its response for the reads.
	if _, err := obj.Stat(); err != nil {
		obj.Close()
		return nil, s.wrap("get", key, err)
	}
	return obj, nil
}

// Exists reports whether an object is stored under key.
func (s *Store) Exists(ctx context.Context, key string) (bool, error) {
	start := time.Now()
	_, err := s.client.StatObject(ctx, s.bucket, key, minio.StatObjectOptions{})
	if err != nil {
		err = s.wrap("stat", key, err)
	}
	s.metrics.observe(opStat, start, &err)
	if err == nil {
		return true, nil
	}
	if errors.Is(err, ErrNotFound) {
		return false, nil
	}
	return false, err
}

// Delete removes the object under key; removing a missing object is not an error.
func (s *Store) Delete(ctx context.Context, key string) (err error) {
	defer s.metrics.observe(opDelete, time.Now(), &err)
	if err := s.client.RemoveObject(ctx, s.bucket, key, minio.RemoveObjectOptions{}); err != nil {
		return s.wrap("delete", key, err)
	}
	return nil
}

func (s *Store) wrap(op, key string, err error) error {
	if resp := minio.ToErrorResponse(err); resp.Code == minio.NoSuchKey || resp.StatusCode == 404 {
		return fmt.Errorf("objstore: %s %s: %w", op, key, ErrNotFound)
	}
	return fmt.Errorf("objstore: %s %s: %w", op, key, err)
}

// ModuleKey is where the module with the given sha256 hex digest is stored.
func ModuleKey(digestHex string) string {
	return "modules/sha256/" + digestHex + ".wasm"
}

// List returns the keys of every object whose key begins with prefix.
func (s *Store) List(ctx context.Context, prefix string) (_ []string, err error) {
	defer s.metrics.observe(opList, time.Now(), &err)
	var keys []string
	for obj := range s.client.ListObjects(ctx, s.bucket, minio.ListObjectsOptions{Prefix: prefix, Recursive: true}) {
		if obj.Err != nil {
			return nil, fmt.Errorf("objstore: list %s: %w", prefix, obj.Err)
		}
		keys = append(keys, obj.Key)
	}
	return keys, nil
}
