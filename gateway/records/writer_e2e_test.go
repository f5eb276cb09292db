package records_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hearthfn/hearth/gateway/records"
	"github.com/hearthfn/hearth/internal/stack/stacktest"
	"github.com/hearthfn/hearth/internal/testutil"
)

// waitFor is a generous bound for calls that must end by themselves.
const waitFor = 30 * time.Second

// TestSyncRecordsUnderLoad: a burst of concurrent sync calls, some of them
// with logs, leaves a record for every one of them; the batched writer
// drops none.
func TestSyncRecordsUnderLoad(t *testing.T) {
	s := stacktest.Dev(t, t.TempDir())
	const calls, workers = 600, 16
	ids := make(chan string, calls)
	var wg sync.WaitGroup
	var failed atomic.Int64
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			fn := "reverse-c"
			if w%4 == 0 {
				fn = "hello" // logs a line to stderr on every call
			}
			for range calls / workers {
				resp, err := http.Post(s.GatewayURL+"/v1/functions/"+fn+"/invoke", "text/plain", strings.NewReader("Hearth"))
				if err != nil {
					failed.Add(1)
					continue
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					failed.Add(1)
					continue
				}
				ids <- fn + " " + resp.Header.Get("Hearth-Invocation-Id")
			}
		}()
	}
	wg.Wait()
	close(ids)
	if n := failed.Load(); n > 0 {
		t.Fatalf("%d calls failed", n)
	}
	for entry := range ids {
		fn, id, _ := strings.Cut(entry, " ")
		var rec records.Record
		testutil.Eventually(t, waitFor, func() error {
			resp, body := stacktest.Call(t, http.MethodGet, s.GatewayURL+"/v1/invocations/"+id, "", nil)
			if resp.StatusCode != http.StatusOK {
				return fmt.Errorf("GET invocation %s: %d %s", id, resp.StatusCode, body)
			}
			return json.Unmarshal(body, &rec)
		})
		if rec.Function != fn || rec.Status != records.StatusSucceeded || rec.Mode != "sync" || rec.Runner != s.Runner.ID() {
			t.Fatalf("record of %s: %+v", id, rec)
		}
		if fn == "hello" {
			resp, logs := stacktest.Call(t, http.MethodGet, s.GatewayURL+"/v1/invocations/"+id+"/logs", "", nil)
			if resp.StatusCode != http.StatusOK || !strings.Contains(string(logs), "hello: greeted 6 bytes") {
				t.Fatalf("logs of %s: %d %q", id, resp.StatusCode, logs)
			}
		}
	}
	_, metrics := stacktest.Call(t, http.MethodGet, s.GatewayURL+"/metrics", "", nil)
	if !strings.Contains(string(metrics), "\nhearth_records_dropped_total 0\n") {
		t.Fatal("records were dropped, or the metric is missing")
	}
}
