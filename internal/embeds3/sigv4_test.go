package embeds3

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7/pkg/s3utils"
	"github.com/minio/minio-go/v7/pkg/signer"
)

var testCreds = credentials{accessKey: "AKIDEXAMPLE", secretKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"}

// newTestRequest makes a request for key in bucket the way minio-go addresses
// it (path style, key encoded with s3utils.EncodePath).
func newTestRequest(t *testing.T, method, key, rawQuery string) *http.Request {
	t.Helper()
	url := "http://127.0.0.1:9000/bucket/" + s3utils.EncodePath(key)
	if rawQuery != "" {
		url += "?" + rawQuery
	}
	r, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// authCode returns the S3 error code of a verification error, or "" for nil.
func authCode(t *testing.T, err error) string {
	t.Helper()
	if err == nil {
		return ""
	}
	var ae *requestError
	if !errors.As(err, &ae) {
		t.Fatalf("error %v is not an *requestError", err)
	}
	return ae.code
}

// TestVerifyHeaderSignature checks verify against requests signed by
// minio-go's own signer, used here as the reference implementation.
func TestVerifyHeaderSignature(t *testing.T) {
	requests := []struct {
		method, key, query, sha string
	}{
		{"GET", "plain.txt", "", unsignedPayload},
		{"PUT", "dir/with space/ünïcødé (1)+[x]!$&'*,;=@.txt", "", emptySHA256Hex},
		{"GET", "", "list-type=2&prefix=a%20b%2Bc&delimiter=%2F&max-keys=10", unsignedPayload},
		{"POST", "multi part", "uploads", unsignedPayload},
		{"GET", "x", "versionId=1&a-b=1&a=2&response-content-type=text%2Fplain%3B%20charset%3Dutf-8", unsignedPayload},
	}
	now := time.Now()
	for _, rq := range requests {
		t.Run(rq.method+" "+rq.key+"?"+rq.query, func(t *testing.T) {
			sign := func(secret string) *http.Request {
				r := newTestRequest(t, rq.method, rq.key, rq.query)
				r.Header.Set("X-Amz-Content-Sha256", rq.sha)
				r.Header.Set("Content-Type", "text/plain;  charset=utf-8 ")
				r.Header.Add("X-Amz-Meta-Tags", "a")
				r.Header.Add("X-Amz-Meta-Tags", "b")
				return signer.SignV4(*r, testCreds.accessKey, secret, "", "eu-west-3")
			}

			signed, err := testCreds.verify(sign(testCreds.secretKey), now)
			if err != nil {
				t.Fatalf("verify: %v", err)
			}
			if signed.payloadHash != rq.sha {
				t.Errorf("payload hash %q, want %q", signed.payloadHash, rq.sha)
			}
			if _, err := testCreds.verify(sign("wrong secret"), now); authCode(t, err) != "SignatureDoesNotMatch" {
				t.Errorf("wrong secret: got %v, want SignatureDoesNotMatch", err)
			}
			tampered := sign(testCreds.secretKey)
			tampered.URL.Path += "x"
			if _, err := testCreds.verify(tampered, now); authCode(t, err) != "SignatureDoesNotMatch" {
				t.Errorf("changed path: got %v, want SignatureDoesNotMatch", err)
			}
			if _, err := testCreds.verify(sign(testCreds.secretKey), now.Add(maxClockSkew+time.Minute)); authCode(t, err) != "RequestTimeTooSkewed" {
				t.Errorf("late: got %v, want RequestTimeTooSkewed", err)
			}
			other := credentials{accessKey: "OTHER", secretKey: testCreds.secretKey}
			if _, err := other.verify(sign(testCreds.secretKey), now); authCode(t, err) != "InvalidAccessKeyId" {
				t.Errorf("unknown access key: got %v, want InvalidAccessKeyId", err)
			}
		})
	}
}

func TestVerifyRefusesUnsigned(t *testing.T) {
	r := newTestRequest(t, "GET", "key", "")
	if _, err := testCreds.verify(r, time.Now()); authCode(t, err) != "AccessDenied" {
		t.Fatalf("got %v, want AccessDenied", err)
	}
	r.Header.Set("Authorization", "AWS AKIDEXAMPLE:c2lnbmF0dXJl")
	if _, err := testCreds.verify(r, time.Now()); authCode(t, err) != "AccessDenied" {
		t.Fatalf("signature v2: got %v, want AccessDenied", err)
	}
}

func TestVerifyPresigned(t *testing.T) {
	now := time.Now()
	presign := func() *http.Request {
		r := newTestRequest(t, "GET", "photos/cat 1.jpg", "response-content-disposition=attachment%3B%20filename%3D%22cat.jpg%22")
		return signer.PreSignV4(*r, testCreds.accessKey, testCreds.secretKey, "", "us-east-1", 60)
	}

	signed, err := testCreds.verify(presign(), now)
	if err != nil {
		t.Fatalf("verify: %v", err)
	}
	if !signed.presigned || signed.payloadHash != unsignedPayload {
		t.Errorf("got presigned=%v payload %q, want a presigned UNSIGNED-PAYLOAD request", signed.presigned, signed.payloadHash)
	}
	if _, err := testCreds.verify(presign(), now.Add(2*time.Minute)); authCode(t, err) != "AccessDenied" {
		t.Errorf("expired: got %v, want AccessDenied", err)
	}
	tampered := presign()
	tampered.URL.RawQuery = strings.Replace(tampered.URL.RawQuery, "cat.jpg", "dog.jpg", 1)
	if _, err := testCreds.verify(tampered, now); authCode(t, err) != "SignatureDoesNotMatch" {
		t.Errorf("changed query: got %v, want SignatureDoesNotMatch", err)
	}
}
