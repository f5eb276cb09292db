package gateway_test

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hearthfn/hearth/gateway"
	"github.com/hearthfn/hearth/gateway/records"
	"github.com/hearthfn/hearth/gateway/secrets"
	"github.com/hearthfn/hearth/internal/stack"
	"github.com/hearthfn/hearth/internal/stack/stacktest"
	"github.com/hearthfn/hearth/internal/testmodules"
	"github.com/hearthfn/hearth/internal/testutil"
)

// secLog is a slog destination the test reads while the stack writes.
type secLog struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *secLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *secLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// secValue is a distinctive secret value: "zq-" and 24 random hex digits.
// Its letters past f cannot come out of a hex encoding, which is how the
// test functions write their env.
func secValue(t *testing.T) string {
	t.Helper()
	b := make([]byte, 12)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return "zq-" + hex.EncodeToString(b)
}

// secDo makes one request with an API key ("" for none) and headers.
func secDo(t *testing.T, key, method, url, ctype string, body []byte, header map[string]string) (*http.Response, []byte) {
	t.Helper()
	h := map[string]string{}
	for k, v := range header {
		h[k] = v
	}
	if key != "" {
		h["Authorization"] = "Bearer " + key
	}
	return stacktest.Do(t, method, url, ctype, body, h)
}

// secAPI is a client of one gateway with one key (or none).
type secAPI struct {
	t         *testing.T
	base, key string
}

func (a secAPI) do(method, path, ctype string, body []byte) (*http.Response, []byte) {
	a.t.Helper()
	return secDo(a.t, a.key, method, a.base+path, ctype, body, nil)
}

// putSecret sets a secret in namespace ns.
func (a secAPI) putSecret(ns, name, value string) (*http.Response, []byte) {
	a.t.Helper()
	body, err := json.Marshal(map[string]string{"value": value})
	if err != nil {
		a.t.Fatal(err)
	}
	return a.do(http.MethodPut, "/v1/secrets/"+name+"?namespace="+ns, "application/json", body)
}

func (a secAPI) mustPutSecret(ns, name, value string, status int) {
	a.t.Helper()
	if resp, body := a.putSecret(ns, name, value); resp.StatusCode != status {
		a.t.Fatalf("PUT secret %s/%s: %d %s, want %d", ns, name, resp.StatusCode, body, status)
	}
}

// deploy deploys module as name in namespace ns with a JSON spec.
func (a secAPI) deploy(ns, name string, module []byte, spec string) (*http.Response, []byte) {
	a.t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	if err := mw.WriteField("spec", spec); err != nil {
		a.t.Fatal(err)
	}
	part, err := mw.CreateFormFile("module", name+".wasm")
	if err != nil {
		a.t.Fatal(err)
	}
	part.Write(module)
	mw.Close()
	return a.do(http.MethodPut, "/v1/functions/"+name+"?namespace="+ns, mw.FormDataContentType(), buf.Bytes())
}

func (a secAPI) mustDeploy(ns, name string, module []byte, spec string) {
	a.t.Helper()
	if resp, body := a.deploy(ns, name, module, spec); resp.StatusCode != http.StatusCreated {
		a.t.Fatalf("deploy %s/%s: %d %s", ns, name, resp.StatusCode, body)
	}
}

// invoke calls a function synchronously.
func (a secAPI) invoke(ns, fn string) (*http.Response, []byte) {
	a.t.Helper()
	return a.do(http.MethodPost, "/v1/functions/"+fn+"/invoke?namespace="+ns, "", nil)
}

// env calls a function that writes its env (testmodules.PrintEnv or
// EnvReactor) and returns what it saw and the invocation id.
func (a secAPI) env(ns, fn string) (map[string]string, string) {
	a.t.Helper()
	env, id, err := a.tryEnv(ns, fn)
	if err != nil {
		a.t.Fatal(err)
	}
	return env, id
}

func (a secAPI) tryEnv(ns, fn string) (map[string]string, string, error) {
	a.t.Helper()
	resp, body := a.invoke(ns, fn)
	if resp.StatusCode != http.StatusOK {
		return nil, "", fmt.Errorf("invoke %s/%s: %d %.300s", ns, fn, resp.StatusCode, body)
	}
	env, err := testmodules.DecodeEnv(body)
	return env, resp.Header.Get("Hearth-Invocation-Id"), err
}

// record polls GET /v1/invocations/{id} until the record is there (a sync
// call's is written in the background) and returns its raw JSON.
func (a secAPI) record(id string, done func(records.Record) error) []byte {
	a.t.Helper()
	var raw []byte
	testutil.Eventually(a.t, 20*time.Second, func() error {
		resp, body := a.do(http.MethodGet, "/v1/invocations/"+id, "", nil)
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("GET /v1/invocations/%s: %d %s", id, resp.StatusCode, body)
		}
		var rec records.Record
		if err := json.Unmarshal(body, &rec); err != nil {
			return err
		}
		if done != nil {
			if err := done(rec); err != nil {
				return err
			}
		}
		raw = body
		return nil
	})
	return raw
}

// leaks names the places a value shows: a file under dir (raw, or as
// the base64 a JSON []byte field would hold), or a log line.
func leaks(t *testing.T, dir string, logs *secLog, value string) []string {
	t.Helper()
	forms := [][]byte{[]byte(value), []byte(base64.RawStdEncoding.EncodeToString([]byte(value)))}
	var found []string
	files := 0
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil // a file NATS or S3 removed meanwhile
			}
			return err
		}
		if !d.Type().IsRegular() {
			return nil
		}
		data, err := os.ReadFile(path)
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil {
			return err
		}
		files++
		for _, form := range forms {
			if bytes.Contains(data, form) {
				rel, _ := filepath.Rel(dir, path)
				found = append(found, "file "+rel)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files < 10 {
		t.Fatalf("only %d files under %s: not the data dir of a stack", files, dir)
	}
	for _, line := range strings.Split(logs.String(), "\n") {
		if strings.Contains(line, value) {
			found = append(found, "log line "+line)
		}
	}
	return found
}

func wantNoLeaks(t *testing.T, dir string, logs *secLog, values []string) {
	t.Helper()
	if !strings.Contains(logs.String(), "level=DEBUG") {
		t.Fatal("the stack logged nothing at debug level: the log capture does not work")
	}
	// The scan sees what NATS stores: the KV subject of a secret is there
	// in the clear (so its sealed value must be beside it).
	testutil.Eventually(t, 5*time.Second, func() error {
		for _, where := range leaks(t, dir, &secLog{}, "$KV."+secrets.Bucket+".default.db-password") {
			if strings.HasPrefix(where, "file nats"+string(filepath.Separator)) {
				return nil
			}
		}
		return errors.New("the secret's KV subject is in no file under nats/: the scan does not see the store")
	})
	for _, v := range values {
		if found := leaks(t, dir, logs, v); len(found) > 0 {
			t.Errorf("the secret value %s is in the clear in:\n%s", v, strings.Join(found, "\n"))
		}
	}
}

// wantNoValue fails when a response carries a secret value.
func wantNoValue(t *testing.T, what string, body []byte, values []string) {
	t.Helper()
	for _, v := range values {
		if bytes.Contains(body, []byte(v)) {
			t.Fatalf("%s carries the secret value: %s", what, body)
		}
	}
}

// TestSecretsEndToEnd runs secrets through a dev stack: set, granted to a
// command and a reactor, rotated, deleted, per namespace, refused when
// malformed; and no value ever in the clear in the data dir, the logs,
// an invocation record or an API answer.
func TestSecretsEndToEnd(t *testing.T) {
	dir := t.TempDir()
	logs := &secLog{}
	s := stacktest.DevWith(t, stack.DevConfig{
		DataDir: dir,
		Log:     slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Gateway: gateway.Config{RetryBase: 20 * time.Millisecond},
	})
	const ns = "default"
	var values []string // every value set, for the leak checks
	spec := `{"env":{"MODE":"test"},"secrets":["db-password"]}`
	// A command (a fresh instance per call) and a reactor (pooled).
	fns := []string{"penv", "renv"}

	t.Run("round trip", func(t *testing.T) {
		api := secAPI{t: t, base: s.GatewayURL}
		v := secValue(t)
		values = append(values, v)
		resp, body := api.putSecret(ns, "db-password", v)
		if resp.StatusCode != http.StatusCreated || resp.Header.Get("Location") != "/v1/secrets/db-password" {
			t.Fatalf("PUT new secret: %d Location %q %s", resp.StatusCode, resp.Header.Get("Location"), body)
		}
		wantNoValue(t, "PUT's answer", body, values)
		api.mustDeploy(ns, "penv", testmodules.PrintEnv, spec)
		api.mustDeploy(ns, "renv", testmodules.EnvReactor, spec)

		var ids []string
		for _, fn := range fns {
			for range 2 { // the reactor's second call is on a warm instance
				env, id := api.env(ns, fn)
				if env["DB_PASSWORD"] != v || env["MODE"] != "test" {
					t.Fatalf("%s saw DB_PASSWORD=%q MODE=%q, want the secret and the spec's env", fn, env["DB_PASSWORD"], env["MODE"])
				}
				if _, ok := env["db-password"]; ok {
					t.Fatalf("%s sees the secret under its own name", fn)
				}
				ids = append(ids, id)
			}
		}
		for _, id := range ids {
			raw := api.record(id, func(rec records.Record) error {
				if rec.Status != records.StatusSucceeded {
					return fmt.Errorf("status %s", rec.Status)
				}
				return nil
			})
			wantNoValue(t, "the invocation record", raw, values)
			_, logBody := api.do(http.MethodGet, "/v1/invocations/"+id+"/logs", "", nil)
			wantNoValue(t, "the invocation's logs", logBody, values)
		}
		for _, path := range []string{"/v1/secrets", "/v1/secrets/db-password", "/v1/secrets?namespace=default"} {
			resp, body := api.do(http.MethodGet, path, "", nil)
			if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"db-password"`) {
				t.Fatalf("GET %s: %d %s", path, resp.StatusCode, body)
			}
			wantNoValue(t, "GET "+path, body, values)
			if strings.Contains(string(body), `"value"`) || strings.Contains(string(body), "ciphertext") {
				t.Fatalf("GET %s shows more than metadata: %s", path, body)
			}
		}
		wantNoLeaks(t, dir, logs, values)
	})

	t.Run("rotation", func(t *testing.T) {
		api := secAPI{t: t, base: s.GatewayURL}
		v := secValue(t)
		values = append(values, v)
		resp, body := api.putSecret(ns, "db-password", v)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("PUT over an existing secret: %d %s, want 200", resp.StatusCode, body)
		}
		for _, fn := range fns {
			testutil.Eventually(t, 5*time.Second, func() error {
				env, _, err := api.tryEnv(ns, fn)
				if err != nil {
					return err
				}
				if env["DB_PASSWORD"] != v {
					return fmt.Errorf("%s still sees DB_PASSWORD=%q", fn, env["DB_PASSWORD"])
				}
				return nil
			})
			for range 3 { // and never the old value again: no instance kept it
				if env, _ := api.env(ns, fn); env["DB_PASSWORD"] != v {
					t.Fatalf("%s went back to DB_PASSWORD=%q after seeing the new value", fn, env["DB_PASSWORD"])
				}
			}
		}
		resp, body = api.do(http.MethodGet, "/v1/functions/renv/versions", "", nil)
		if resp.StatusCode != http.StatusOK || strings.Count(string(body), `"version"`) != 1 {
			t.Fatalf("versions after the rotation: %d %s; want still the one version", resp.StatusCode, body)
		}
	})

	t.Run("delete", func(t *testing.T) {
		api := secAPI{t: t, base: s.GatewayURL}
		if resp, body := api.do(http.MethodDelete, "/v1/secrets/db-password", "", nil); resp.StatusCode != http.StatusNoContent {
			t.Fatalf("DELETE: %d %s", resp.StatusCode, body)
		}
		resp, body := api.do(http.MethodGet, "/v1/secrets/db-password", "", nil)
		stacktest.WantError(t, resp, body, http.StatusNotFound, "secret_not_found")
		resp, body = api.do(http.MethodDelete, "/v1/secrets/db-password", "", nil)
		stacktest.WantError(t, resp, body, http.StatusNotFound, "secret_not_found")
		for _, fn := range fns {
			resp, body := api.invoke(ns, fn)
			stacktest.WantError(t, resp, body, http.StatusBadGateway, "secret_unavailable")
			if msg := stacktest.ErrorMessage(body); !strings.Contains(msg, `"db-password"`) {
				t.Fatalf("%s: message %q does not name the secret", fn, msg)
			}
			wantNoValue(t, "the secret_unavailable answer", body, values)
		}

		// An async call fails the same way rather than running without it.
		for _, fn := range fns {
			resp, body := api.do(http.MethodPost, "/v1/functions/"+fn+"/invoke?async=true", "", nil)
			var acc struct{ ID string }
			if resp.StatusCode != http.StatusAccepted || json.Unmarshal(body, &acc) != nil || acc.ID == "" {
				t.Fatalf("async %s: %d %s", fn, resp.StatusCode, body)
			}
			raw := api.record(acc.ID, func(rec records.Record) error {
				switch rec.Status {
				case records.StatusFailed, records.StatusDead:
				case records.StatusSucceeded:
					t.Fatalf("async %s succeeded without its secret: %+v", fn, rec)
				default:
					return fmt.Errorf("status %s", rec.Status)
				}
				if rec.Error == nil || rec.Error.Code != "secret_unavailable" || !strings.Contains(rec.Error.Message, `"db-password"`) {
					t.Fatalf("async %s ended %s with error %+v, want secret_unavailable naming db-password", fn, rec.Status, rec.Error)
				}
				if rec.Result != nil {
					t.Fatalf("async %s has a result: it ran", fn)
				}
				return nil
			})
			wantNoValue(t, "the failed async record", raw, values)
		}

		// Set again, the functions run again.
		v := secValue(t)
		values = append(values, v)
		api.mustPutSecret(ns, "db-password", v, http.StatusCreated)
		for _, fn := range fns {
			testutil.Eventually(t, 5*time.Second, func() error {
				env, _, err := api.tryEnv(ns, fn)
				if err == nil && env["DB_PASSWORD"] != v {
					err = fmt.Errorf("%s sees DB_PASSWORD=%q", fn, env["DB_PASSWORD"])
				}
				return err
			})
		}
	})

	t.Run("deploy naming a missing secret", func(t *testing.T) {
		api := secAPI{t: t, base: s.GatewayURL}
		resp, body := api.deploy(ns, "needs-more", testmodules.PrintEnv, `{"secrets":["db-password","no-such-secret"]}`)
		stacktest.WantError(t, resp, body, http.StatusBadRequest, "invalid_spec")
		if msg := stacktest.ErrorMessage(body); !strings.Contains(msg, "no-such-secret") || strings.Contains(msg, "db-password") {
			t.Fatalf("message %q: want it to name the missing secret, and only that one", msg)
		}
		if resp, body := api.do(http.MethodGet, "/v1/functions/needs-more", "", nil); resp.StatusCode != http.StatusNotFound {
			t.Fatalf("the refused function exists: %d %s", resp.StatusCode, body)
		}
	})

	t.Run("namespaces", func(t *testing.T) {
		api := secAPI{t: t, base: s.GatewayURL}
		token, other := secValue(t), secValue(t)
		values = append(values, token, other)
		api.mustPutSecret("team-a", "team-token", token, http.StatusCreated)
		// The same name in two namespaces: two secrets.
		api.mustPutSecret("team-a", "db-password", other, http.StatusCreated)

		resp, body := api.deploy(ns, "steal", testmodules.PrintEnv, `{"secrets":["team-token"]}`)
		stacktest.WantError(t, resp, body, http.StatusBadRequest, "invalid_spec")
		if msg := stacktest.ErrorMessage(body); !strings.Contains(msg, "team-token") {
			t.Fatalf("message %q does not name the secret", msg)
		}
		for _, req := range []struct {
			url    string
			header map[string]string
		}{
			{"/v1/secrets?namespace=default", nil},
			{"/v1/secrets", map[string]string{"Hearth-Namespace": "default"}},
			{"/v1/secrets", nil},
		} {
			resp, body := secDo(t, "", http.MethodGet, s.GatewayURL+req.url, "", nil, req.header)
			if resp.StatusCode != http.StatusOK || strings.Contains(string(body), "team-token") || !strings.Contains(string(body), `"db-password"`) {
				t.Fatalf("GET %s %v: %d %s; want default's secrets only", req.url, req.header, resp.StatusCode, body)
			}
		}
		resp, body = secDo(t, "", http.MethodGet, s.GatewayURL+"/v1/secrets", "", nil, map[string]string{"Hearth-Namespace": "team-a"})
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"team-token"`) {
			t.Fatalf("GET /v1/secrets in team-a: %d %s", resp.StatusCode, body)
		}
		resp, body = api.do(http.MethodGet, "/v1/secrets/team-token", "", nil)
		stacktest.WantError(t, resp, body, http.StatusNotFound, "secret_not_found")

		// In its own namespace it is granted, beside team-a's db-password.
		api.mustDeploy("team-a", "penv", testmodules.PrintEnv, `{"secrets":["team-token","db-password"]}`)
		env, _ := api.env("team-a", "penv")
		if env["TEAM_TOKEN"] != token || env["DB_PASSWORD"] != other {
			t.Fatalf("team-a's function saw TEAM_TOKEN=%q DB_PASSWORD=%q", env["TEAM_TOKEN"], env["DB_PASSWORD"])
		}
		env, _ = api.env(ns, "penv")
		if env["DB_PASSWORD"] == other || env["TEAM_TOKEN"] != "" {
			t.Fatalf("default's function saw team-a's secrets: %v", env)
		}
	})

	t.Run("bad input", func(t *testing.T) {
		api := secAPI{t: t, base: s.GatewayURL}
		long := strings.Repeat("a", 300)
		for _, name := range []string{"..%2Fx", "A_B", long} {
			for _, method := range []string{http.MethodPut, http.MethodGet, http.MethodDelete} {
				resp, body := api.do(method, "/v1/secrets/"+name, "application/json", []byte(`{"value":"x"}`))
				stacktest.WantError(t, resp, body, http.StatusBadRequest, "invalid_name")
				if len(body) > 1000 {
					t.Fatalf("%s of a 300-character name: a %d-byte answer", method, len(body))
				}
			}
		}
		// The largest value is accepted; one byte more is 413.
		largest := strings.Repeat("v", 64<<10)
		api.mustPutSecret(ns, "big", largest, http.StatusCreated)
		resp, body := api.putSecret(ns, "big", largest+"v")
		stacktest.WantError(t, resp, body, http.StatusRequestEntityTooLarge, "payload_too_large")
		for _, b := range []string{
			`not json`,
			`{"value":5}`,
			`{}`,
			`{"value":""}`,
			`{"value":"x","extra":1}`,
			`{"value":"x"} {"value":"y"}`,
			`["x"]`,
			``,
		} {
			resp, body := api.do(http.MethodPut, "/v1/secrets/bad-body", "application/json", []byte(b))
			stacktest.WantError(t, resp, body, http.StatusBadRequest, "invalid_secret")
		}
		resp, body = api.do(http.MethodGet, "/v1/secrets", "", nil)
		if resp.StatusCode != http.StatusOK || strings.Contains(string(body), "bad-body") || strings.Contains(string(body), "A_B") {
			t.Fatalf("a refused secret was stored: %s", body)
		}
		if resp, body := api.do(http.MethodDelete, "/v1/secrets/big", "", nil); resp.StatusCode != http.StatusNoContent {
			t.Fatalf("DELETE big: %d %s", resp.StatusCode, body)
		}
	})

	t.Run("nothing in the clear", func(t *testing.T) {
		if len(values) < 5 {
			t.Fatalf("only %d values set: an earlier subtest stopped", len(values))
		}
		wantNoLeaks(t, dir, logs, values)
	})
}

// TestSecretsSurviveRestart restarts hearth dev --auth on its data dir:
// the secrets key and the admin key in it are the same files, with mode
// 0600, so a secret set before opens after and the admin key still works.
func TestSecretsSurviveRestart(t *testing.T) {
	dir := t.TempDir()
	cfg := stack.DevConfig{DataDir: dir, Gateway: gateway.Config{Auth: true}}
	keyFiles := []string{filepath.Join(dir, stack.AdminKeyFile), filepath.Join(dir, stack.SecretsKeyFile)}
	readKeys := func() []string {
		t.Helper()
		var out []string
		for _, path := range keyFiles {
			info, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			if mode := info.Mode().Perm(); mode != 0o600 {
				t.Fatalf("%s has mode %o, want 600", path, mode)
			}
			data, err := os.ReadFile(path)
			if err != nil || len(bytes.TrimSpace(data)) == 0 {
				t.Fatalf("%s: %q %v", path, data, err)
			}
			out = append(out, string(data))
		}
		return out
	}
	v := secValue(t)

	first := stacktest.DevWith(t, cfg)
	if first.AdminKey == "" {
		t.Fatal("hearth dev --auth has no admin key")
	}
	before := readKeys()
	if strings.TrimSpace(before[0]) != first.AdminKey {
		t.Fatalf("%s does not hold the stack's admin key", keyFiles[0])
	}
	api := secAPI{t: t, base: first.GatewayURL, key: first.AdminKey}
	api.mustPutSecret("default", "db-password", v, http.StatusCreated)
	api.mustDeploy("default", "penv", testmodules.PrintEnv, `{"secrets":["db-password"]}`)
	if env, _ := api.env("default", "penv"); env["DB_PASSWORD"] != v {
		t.Fatalf("before the restart: DB_PASSWORD=%q", env["DB_PASSWORD"])
	}
	if err := first.Close(t.Context()); err != nil {
		t.Fatal(err)
	}

	second := stacktest.DevWith(t, cfg)
	after := readKeys()
	for i := range keyFiles {
		if after[i] != before[i] {
			t.Fatalf("%s changed across the restart", keyFiles[i])
		}
	}
	if second.AdminKey != first.AdminKey {
		t.Fatal("the restarted stack has another admin key")
	}
	api = secAPI{t: t, base: second.GatewayURL, key: second.AdminKey}
	if resp, body := api.do(http.MethodGet, "/v1/functions", "", nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /v1/functions with the admin key: %d %s", resp.StatusCode, body)
	}
	for _, key := range []string{"", first.AdminKey + "x"} {
		resp, body := secDo(t, key, http.MethodGet, second.GatewayURL+"/v1/functions", "", nil, nil)
		stacktest.WantError(t, resp, body, http.StatusUnauthorized, "unauthorized")
	}
	testutil.Eventually(t, 10*time.Second, func() error { // the runner's first heartbeat
		env, _, err := api.tryEnv("default", "penv")
		if err == nil && env["DB_PASSWORD"] != v {
			err = fmt.Errorf("after the restart: DB_PASSWORD=%q", env["DB_PASSWORD"])
		}
		return err
	})
	resp, body := api.do(http.MethodGet, "/v1/secrets/db-password", "", nil)
	if resp.StatusCode != http.StatusOK || strings.Contains(string(body), v) {
		t.Fatalf("GET the secret after the restart: %d %s", resp.StatusCode, body)
	}
}
