package async

import (
	"errors"
	"net/url"
	"strings"
	"testing"

	"github.com/hearthfn/hearth/gateway/apierr"
	"github.com/hearthfn/hearth/gateway/records"
)

func TestIntakeInputs(t *testing.T) {
	for _, good := range []string{"http://example.test/cb", "https://127.0.0.1:8443/x?y=1"} {
		if err := CheckCallbackURL(good); err != nil {
			t.Errorf("CheckCallbackURL(%q) = %v", good, err)
		}
	}
	for _, bad := range []string{"", "example.test/cb", "ftp://example.test/", "http://", "http//x", "://x", "mailto:a@b"} {
		var ae *apierr.Error
		if err := CheckCallbackURL(bad); !errors.As(err, &ae) || ae.Status != 400 || ae.Code != apierr.InvalidCallbackURL {
			t.Errorf("CheckCallbackURL(%q) = %v, want a 400 invalid_callback_url", bad, err)
		}
	}
	a, _ := IdempotentID("default", "f", "order-42")
	b, _ := IdempotentID("default", "f", "order-42")
	c, _ := IdempotentID("default", "g", "order-42")
	if a != b || a == c || !records.ValidID(a) {
		t.Fatalf("IdempotentID: %q %q %q", a, b, c)
	}
	var ae *apierr.Error
	if _, err := IdempotentID("default", "f", strings.Repeat("k", 256)); !errors.As(err, &ae) || ae.Code != apierr.InvalidIdempotency {
		t.Fatalf("a 256-character key: %v", err)
	}
}

// FuzzCheckCallbackURL: whatever a client sends in Hearth-Callback-Url is
// refused with a 400 or is an absolute http(s) URL.
func FuzzCheckCallbackURL(f *testing.F) {
	for _, s := range []string{"http://example.test/cb", "https://[::1]:8080/", "http://%zz", "\x00", "HTTP://X"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		err := CheckCallbackURL(s)
		if err != nil {
			var ae *apierr.Error
			if !errors.As(err, &ae) || ae.Status != 400 {
				t.Fatalf("%q: %v is not a 400", s, err)
			}
			return
		}
		u, perr := url.Parse(s)
		if perr != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			t.Fatalf("%q accepted but not an absolute http(s) URL", s)
		}
	})
}
