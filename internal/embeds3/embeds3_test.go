package embeds3_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/hearthfn/hearth/internal/embeds3"
)

const (
	testAccessKey = "TESTACCESSKEY0000000"
	testSecretKey = "test-secret-key-0123456789abcdefghijklm"
	testBucket    = "hearth-test"
)

// payloadRecorder is a slog.Handler that remembers the payload signing
// methods of the requests the server logged.
type payloadRecorder struct {
	mu       sync.Mutex
	payloads map[string]int
}

func (p *payloadRecorder) Enabled(context.Context, slog.Level) bool { return true }
func (p *payloadRecorder) WithAttrs([]slog.Attr) slog.Handler       { return p }
func (p *payloadRecorder) WithGroup(string) slog.Handler            { return p }
func (p *payloadRecorder) Handle(_ context.Context, rec slog.Record) error {
	rec.Attrs(func(a slog.Attr) bool {
		if a.Key == "payload" {
			p.mu.Lock()
			p.payloads[a.Value.String()]++
			p.mu.Unlock()
		}
		return true
	})
	return nil
}

func (p *payloadRecorder) seen(payload string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.payloads[payload] > 0
}

// startServer starts a server on dir with the test keys and stops it at the
// end of the test.
func startServer(t *testing.T, dir string) (*embeds3.Server, *payloadRecorder) {
	t.Helper()
	rec := &payloadRecorder{payloads: map[string]int{}}
	srv, err := embeds3.Start(embeds3.Config{
		Dir:       dir,
		AccessKey: testAccessKey,
		SecretKey: testSecretKey,
		Logger:    slog.New(rec),
	})
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := srv.Close(ctx); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return srv, rec
}

// newClient returns a minio-go client for the server at endpoint.
func newClient(t *testing.T, endpoint, accessKey, secretKey string, modify ...func(*minio.Options)) *minio.Client {
	t.Helper()
	opts := &minio.Options{Creds: credentials.NewStaticV4(accessKey, secretKey, "")}
	for _, m := range modify {
		m(opts)
	}
	client, err := minio.New(endpoint, opts)
	if err != nil {
		t.Fatalf("minio.New: %v", err)
	}
	return client
}

func makeBucket(t *testing.T, client *minio.Client, bucket string) {
	t.Helper()
	if err := client.MakeBucket(t.Context(), bucket, minio.MakeBucketOptions{}); err != nil {
		t.Fatalf("MakeBucket: %v", err)
	}
}

func getObject(t *testing.T, client *minio.Client, bucket, key string, opts minio.GetObjectOptions) []byte {
	t.Helper()
	obj, err := client.GetObject(t.Context(), bucket, key, opts)
	if err != nil {
		t.Fatalf("GetObject %q: %v", key, err)
	}
	defer obj.Close()
	data, err := io.ReadAll(obj)
	if err != nil {
		t.Fatalf("reading object %q: %v", key, err)
	}
	return data
}

func randomBytes(n int, seed uint64) []byte {
	data := make([]byte, n)
	rng := rand.NewChaCha8([32]byte{byte(seed), byte(seed >> 8)})
	_, _ = rng.Read(data)
	return data
}

func errorCode(err error) string {
	return minio.ToErrorResponse(err).Code
}

func TestSmallObjects(t *testing.T) {
	srv, _ := startServer(t, t.TempDir())
	client := newClient(t, srv.Endpoint(), testAccessKey, testSecretKey)
	ctx := t.Context()

	makeBucket(t, client, testBucket)
	if ok, err := client.BucketExists(ctx, testBucket); err != nil || !ok {
		t.Fatalf("BucketExists(%q) = %v, %v; want true", testBucket, ok, err)
	}
	if ok, err := client.BucketExists(ctx, "no-such-bucket"); err != nil || ok {
		t.Fatalf("BucketExists(no-such-bucket) = %v, %v; want false", ok, err)
	}
	if err := client.MakeBucket(ctx, testBucket, minio.MakeBucketOptions{}); err == nil {
		t.Fatal("making an existing bucket again succeeded")
	}

	objects := map[string][]byte{
		"hello.txt":                  []byte("hello, world\n"),
		"dir/sub dir/file (1).txt":   []byte("nested"),
		"dir/ünïcødé ✓.txt":          []byte("unicode key"),
		"dir/a+b=c&d;e,f'g!h$i*~.js": []byte("reserved characters"),
		"empty":                      {},
		"binary.bin":                 randomBytes(300_000, 1),
	}
	for key, data := range objects {
		_, err := client.PutObject(ctx, testBucket, key, bytes.NewReader(data), int64(len(data)), minio.PutObjectOptions{
			ContentType:  "application/x-test",
			UserMetadata: map[string]string{"Owner": "hearth"},
		})
		if err != nil {
			t.Fatalf("PutObject %q: %v", key, err)
		}
	}

	for key, data := range objects {
		if got := getObject(t, client, testBucket, key, minio.GetObjectOptions{}); !bytes.Equal(got, data) {
			t.Errorf("object %q: got %d bytes, want %d", key, len(got), len(data))
		}
		info, err := client.StatObject(ctx, testBucket, key, minio.StatObjectOptions{})
		if err != nil {
			t.Fatalf("StatObject %q: %v", key, err)
		}
		if info.Size != int64(len(data)) || info.ContentType != "application/x-test" || info.UserMetadata["Owner"] != "hearth" {
			t.Errorf("StatObject %q: size %d, type %q, metadata %v; want %d, application/x-test, Owner=hearth",
				key, info.Size, info.ContentType, info.UserMetadata, len(data))
		}
	}

	var ranged minio.GetObjectOptions
	if err := ranged.SetRange(1000, 1999); err != nil {
		t.Fatal(err)
	}
	if got := getObject(t, client, testBucket, "binary.bin", ranged); !bytes.Equal(got, objects["binary.bin"][1000:2000]) {
		t.Errorf("range read: got %d bytes that differ from the object's bytes 1000-1999", len(got))
	}

	var listed []string
	for obj := range client.ListObjects(ctx, testBucket, minio.ListObjectsOptions{Recursive: true}) {
		if obj.Err != nil {
			t.Fatalf("ListObjects: %v", obj.Err)
		}
		listed = append(listed, obj.Key)
	}
	want := slices.Sorted(func(yield func(string) bool) {
		for key := range objects {
			if !yield(key) {
				return
			}
		}
	})
	if !slices.Equal(listed, want) {
		t.Errorf("ListObjects: got %q, want %q", listed, want)
	}

	var top []string
	for obj := range client.ListObjects(ctx, testBucket, minio.ListObjectsOptions{Prefix: "dir/"}) {
		if obj.Err != nil {
			t.Fatalf("ListObjects dir/: %v", obj.Err)
		}
		top = append(top, obj.Key)
	}
	slices.Sort(top) // minio-go yields objects before common prefixes
	if want := []string{"dir/a+b=c&d;e,f'g!h$i*~.js", "dir/sub dir/", "dir/ünïcødé ✓.txt"}; !slices.Equal(top, want) {
		t.Errorf("ListObjects dir/: got %q, want %q", top, want)
	}

	for key := range objects {
		if err := client.RemoveObject(ctx, testBucket, key, minio.RemoveObjectOptions{}); err != nil {
			t.Fatalf("RemoveObject %q: %v", key, err)
		}
	}
	if _, err := client.StatObject(ctx, testBucket, "hello.txt", minio.StatObjectOptions{}); errorCode(err) != "NoSuchKey" {
		t.Errorf("StatObject after RemoveObject: got %v, want NoSuchKey", err)
	}
	for obj := range client.ListObjects(ctx, testBucket, minio.ListObjectsOptions{}) {
		t.Errorf("ListObjects after removing every object: got %q, %v", obj.Key, obj.Err)
	}
	if err := client.RemoveBucket(ctx, testBucket); err != nil {
		t.Errorf("RemoveBucket: %v", err)
	}
}

func TestLargeObjects(t *testing.T) {
	const size = 40<<20 + 12345 // not a multiple of the 64 KiB chunk size
	data := randomBytes(size, 2)

	tests := []struct {
		name    string
		data    []byte
		size    int64 // passed to PutObject; -1 makes minio-go stream multipart
		client  func(*minio.Options)
		opts    minio.PutObjectOptions
		payload string // signing method minio-go uses for the upload
	}{
		{name: "single PUT", data: data[:5<<20+3], size: 5<<20 + 3, payload: "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"},
		{name: "known size", data: data, size: size, payload: "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"},
		{name: "unknown size", data: data, size: -1, payload: "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"},
		{
			name: "signed chunks with checksum trailer", data: data, size: size,
			client:  func(o *minio.Options) { o.TrailingHeaders = true },
			payload: "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER",
		},
		{
			name: "unsigned chunks with checksum trailer", data: data, size: size,
			client:  func(o *minio.Options) { o.TrailingHeaders = true },
			opts:    minio.PutObjectOptions{DisableContentSha256: true},
			payload: "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
		},
		{
			name: "unsigned payload", data: data, size: size,
			opts:    minio.PutObjectOptions{DisableContentSha256: true},
			payload: "UNSIGNED-PAYLOAD",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, rec := startServer(t, t.TempDir())
			var modify []func(*minio.Options)
			if tt.client != nil {
				modify = append(modify, tt.client)
			}
			client := newClient(t, srv.Endpoint(), testAccessKey, testSecretKey, modify...)
			makeBucket(t, client, testBucket)

			info, err := client.PutObject(t.Context(), testBucket, "big/object.bin", bytes.NewReader(tt.data), tt.size, tt.opts)
			if err != nil {
				t.Fatalf("PutObject: %v", err)
			}
			if info.Size != int64(len(tt.data)) {
				t.Errorf("PutObject reported size %d, want %d", info.Size, len(tt.data))
			}
			stat, err := client.StatObject(t.Context(), testBucket, "big/object.bin", minio.StatObjectOptions{})
			if err != nil {
				t.Fatalf("StatObject: %v", err)
			}
			if stat.Size != int64(len(tt.data)) {
				t.Errorf("StatObject size %d, want %d", stat.Size, len(tt.data))
			}
			got := getObject(t, client, testBucket, "big/object.bin", minio.GetObjectOptions{})
			if len(got) != len(tt.data) || !bytes.Equal(got, tt.data) {
				t.Errorf("got %d bytes back, want the %d bytes uploaded", len(got), len(tt.data))
			}
			if !rec.seen(tt.payload) {
				t.Errorf("the upload did not use %s; payloads seen: %v", tt.payload, rec.payloads)
			}
		})
	}
}

func TestKeysThatCannotBeFiles(t *testing.T) {
	srv, _ := startServer(t, t.TempDir())
	client := newClient(t, srv.Endpoint(), testAccessKey, testSecretKey)
	makeBucket(t, client, testBucket)
	put := func(key string) error {
		_, err := client.PutObject(t.Context(), testBucket, key, strings.NewReader("v"), 1, minio.PutObjectOptions{})
		return err
	}
	for _, key := range []string{"a", "x/y"} {
		if err := put(key); err != nil {
			t.Fatalf("PutObject %q: %v", key, err)
		}
	}
	for key, code := range map[string]string{
		"a/b":                    "InvalidArgument",
		"x":                      "InvalidArgument",
		"folder/":                "InvalidArgument",
		strings.Repeat("k", 23):  "",
		strings.Repeat("k", 223): "KeyTooLongError",
	} {
		if err := put(key); errorCode(err) != code {
			t.Errorf("PutObject %q: got %v, want code %q", key, err, code)
		}
	}
	n := 0
	for obj := range client.ListObjects(t.Context(), testBucket, minio.ListObjectsOptions{Recursive: true}) {
		if obj.Err != nil {
			t.Fatalf("ListObjects: %v", obj.Err)
		}
		n++
	}
	if n != 3 {
		t.Errorf("ListObjects: got %d objects, want 3", n)
	}
}

func TestObjectsSurviveRestart(t *testing.T) {
	dir := t.TempDir()
	data := randomBytes(1<<20, 3)

	first, err := embeds3.Start(embeds3.Config{Dir: dir, AccessKey: testAccessKey, SecretKey: testSecretKey})
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	client := newClient(t, first.Endpoint(), testAccessKey, testSecretKey)
	makeBucket(t, client, testBucket)
	if _, err := client.PutObject(t.Context(), testBucket, "keep/me.bin", bytes.NewReader(data), int64(len(data)), minio.PutObjectOptions{}); err != nil {
		t.Fatalf("PutObject: %v", err)
	}
	if err := first.Close(t.Context()); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := first.Close(t.Context()); err != nil {
		t.Fatalf("second Close: %v", err)
	}

	second, _ := startServer(t, dir)
	client = newClient(t, second.Endpoint(), testAccessKey, testSecretKey)
	buckets, err := client.ListBuckets(t.Context())
	if err != nil {
		t.Fatalf("ListBuckets: %v", err)
	}
	if len(buckets) != 1 || buckets[0].Name != testBucket {
		t.Errorf("ListBuckets: got %v, want just %q", buckets, testBucket)
	}
	if got := getObject(t, client, testBucket, "keep/me.bin", minio.GetObjectOptions{}); !bytes.Equal(got, data) {
		t.Errorf("after restart: got %d bytes, want the %d bytes stored", len(got), len(data))
	}
}

func TestRefusesBadCredentials(t *testing.T) {
	srv, _ := startServer(t, t.TempDir())
	good := newClient(t, srv.Endpoint(), testAccessKey, testSecretKey)
	makeBucket(t, good, testBucket)
	ctx := t.Context()

	wrongSecret := newClient(t, srv.Endpoint(), testAccessKey, "not-the-secret-key")
	if _, err := wrongSecret.ListBuckets(ctx); errorCode(err) != "SignatureDoesNotMatch" {
		t.Errorf("wrong secret key, ListBuckets: got %v, want SignatureDoesNotMatch", err)
	}
	if _, err := wrongSecret.PutObject(ctx, testBucket, "sneaky", strings.NewReader("x"), 1, minio.PutObjectOptions{}); err == nil {
		t.Error("wrong secret key, PutObject succeeded")
	}

	wrongAccess := newClient(t, srv.Endpoint(), "WRONGACCESSKEY000000", testSecretKey)
	if _, err := wrongAccess.ListBuckets(ctx); errorCode(err) != "InvalidAccessKeyId" {
		t.Errorf("wrong access key, ListBuckets: got %v, want InvalidAccessKeyId", err)
	}
	if _, err := good.StatObject(ctx, testBucket, "sneaky", minio.StatObjectOptions{}); errorCode(err) != "NoSuchKey" {
		t.Errorf("object put with wrong keys: StatObject got %v, want NoSuchKey", err)
	}

	for _, path := range []string{"/", "/" + testBucket, "/" + testBucket + "/sneaky"} {
		status, body := rawRequest(t, http.MethodGet, "http://"+srv.Endpoint()+path, nil)
		if status != http.StatusForbidden || !strings.Contains(body, "<Code>AccessDenied</Code>") {
			t.Errorf("unsigned GET %s: got %d %q, want 403 AccessDenied", path, status, body)
		}
	}
	if status, _ := rawRequest(t, http.MethodPut, "http://"+srv.Endpoint()+"/"+testBucket+"/sneaky", strings.NewReader("x")); status != http.StatusForbidden {
		t.Errorf("unsigned PUT: got %d, want 403", status)
	}
}

func TestPresignedURLs(t *testing.T) {
	srv, _ := startServer(t, t.TempDir())
	client := newClient(t, srv.Endpoint(), testAccessKey, testSecretKey)
	makeBucket(t, client, testBucket)
	ctx := t.Context()

	putURL, err := client.PresignedPutObject(ctx, testBucket, "uploads/photo 1.jpg", time.Minute)
	if err != nil {
		t.Fatalf("PresignedPutObject: %v", err)
	}
	if status, body := rawRequest(t, http.MethodPut, putURL.String(), strings.NewReader("jpeg bytes")); status != http.StatusOK {
		t.Fatalf("presigned PUT: got %d %q, want 200", status, body)
	}

	getURL, err := client.PresignedGetObject(ctx, testBucket, "uploads/photo 1.jpg", time.Minute, url.Values{})
	if err != nil {
		t.Fatalf("PresignedGetObject: %v", err)
	}
	if status, body := rawRequest(t, http.MethodGet, getURL.String(), nil); status != http.StatusOK || body != "jpeg bytes" {
		t.Errorf("presigned GET: got %d %q, want 200 %q", status, body, "jpeg bytes")
	}

	forged := *getURL
	q := forged.Query()
	q.Set("X-Amz-Expires", "604800")
	forged.RawQuery = q.Encode()
	if status, body := rawRequest(t, http.MethodGet, forged.String(), nil); status != http.StatusForbidden || !strings.Contains(body, "SignatureDoesNotMatch") {
		t.Errorf("presigned GET with a changed expiry: got %d %q, want 403 SignatureDoesNotMatch", status, body)
	}
}

// tamperingTransport flips one byte of the aws-chunked body of PUT requests,
// after minio-go has signed it.
type tamperingTransport struct{}

func (tamperingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Method == http.MethodPut && strings.HasPrefix(r.Header.Get("X-Amz-Content-Sha256"), "STREAMING-") {
		r.Body = &flipReader{ReadCloser: r.Body, at: 100_000}
	}
	return http.DefaultTransport.RoundTrip(r)
}

// flipReader inverts the byte at offset at.
type flipReader struct {
	io.ReadCloser
	at, off int64
}

func (f *flipReader) Read(p []byte) (int, error) {
	n, err := f.ReadCloser.Read(p)
	if i := f.at - f.off; i >= 0 && i < int64(n) {
		p[i] ^= 0xff
	}
	f.off += int64(n)
	return n, err
}

func TestTamperedUploadKeepsOldObject(t *testing.T) {
	srv, _ := startServer(t, t.TempDir())
	client := newClient(t, srv.Endpoint(), testAccessKey, testSecretKey)
	makeBucket(t, client, testBucket)
	ctx := t.Context()

	original := randomBytes(300_000, 4)
	if _, err := client.PutObject(ctx, testBucket, "doc", bytes.NewReader(original), int64(len(original)), minio.PutObjectOptions{}); err != nil {
		t.Fatalf("PutObject: %v", err)
	}

	tampering := newClient(t, srv.Endpoint(), testAccessKey, testSecretKey, func(o *minio.Options) {
		o.Transport = tamperingTransport{}
	})
	replacement := randomBytes(300_000, 5)
	_, err := tampering.PutObject(ctx, testBucket, "doc", bytes.NewReader(replacement), int64(len(replacement)), minio.PutObjectOptions{})
	if errorCode(err) != "BadDigest" {
		t.Fatalf("PutObject with a changed chunk: got %v, want BadDigest", err)
	}
	if got := getObject(t, client, testBucket, "doc", minio.GetObjectOptions{}); !bytes.Equal(got, original) {
		t.Errorf("after the refused upload the object has %d bytes that differ from the original", len(got))
	}
}

// rawRequest makes an HTTP request without any S3 signing and returns the
// status and body.
func rawRequest(t *testing.T, method, url string, body io.Reader) (int, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("reading response: %v", err)
	}
	return resp.StatusCode, string(data)
}

func TestLoadOrCreateCredentials(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")

	access, secret, err := embeds3.LoadOrCreateCredentials(dir)
	if err != nil {
		t.Fatalf("first call: %v", err)
	}
	if len(access) < 16 || len(secret) < 32 {
		t.Errorf("keys too short: access %q (%d), secret of %d characters", access, len(access), len(secret))
	}
	path := filepath.Join(dir, "s3-credentials.json")
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Perm() != 0o600 {
		t.Errorf("file mode %v, want 0600", info.Mode().Perm())
	}

	access2, secret2, err := embeds3.LoadOrCreateCredentials(dir)
	if err != nil {
		t.Fatalf("second call: %v", err)
	}
	if access2 != access || secret2 != secret {
		t.Error("second call returned different keys")
	}

	otherAccess, otherSecret, err := embeds3.LoadOrCreateCredentials(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if otherAccess == access || otherSecret == secret {
		t.Error("two data directories got the same keys")
	}

	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := embeds3.LoadOrCreateCredentials(dir); err != nil {
		t.Fatal(err)
	}
	if info, err := os.Stat(path); err != nil || info.Mode().Perm() != 0o600 {
		t.Errorf("a world-readable credentials file was not narrowed to 0600: %v, %v", info.Mode(), err)
	}

	// The keys work against a server on the same directory.
	srv, err := embeds3.Start(embeds3.Config{Dir: dir, AccessKey: access, SecretKey: secret})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close(context.Background()) })
	if _, err := newClient(t, srv.Endpoint(), access, secret).ListBuckets(t.Context()); err != nil {
		t.Errorf("ListBuckets with the generated keys: %v", err)
	}

	if err := os.WriteFile(path, []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := embeds3.LoadOrCreateCredentials(dir); err == nil {
		t.Error("a corrupt credentials file was accepted")
	}
}

func TestStartValidatesConfig(t *testing.T) {
	for _, cfg := range []embeds3.Config{
		{AccessKey: "a", SecretKey: "b"},
		{Dir: t.TempDir(), SecretKey: "b"},
		{Dir: t.TempDir(), AccessKey: "a"},
	} {
		if srv, err := embeds3.Start(cfg); err == nil {
			_ = srv.Close(context.Background())
			t.Errorf("Start(%+v) succeeded", cfg)
		}
	}
}
