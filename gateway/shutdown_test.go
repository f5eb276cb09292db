package gateway_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/hearthfn/hearth/gateway/records"
	"github.com/hearthfn/hearth/internal/stack/stacktest"
	"github.com/hearthfn/hearth/internal/testmodules"
	"github.com/hearthfn/hearth/internal/testutil"
)

// TestShutdownWithATriggerCallInFlight: a NATS trigger's call that is
// running when the gateway shuts down finishes, answers its requester and
// is recorded; shutdown waits for it. (Before the services had Start and
// Stop, shutdown closed the record queue while the trigger's goroutine
// still ran, and its record write panicked on the closed channel.)
func TestShutdownWithATriggerCallInFlight(t *testing.T) {
	s := stacktest.Dev(t, t.TempDir())
	stacktest.MustDeploy(t, s.GatewayURL, "sleeper", testmodules.Sleep, `{"triggers":[{"type":"nats","subject":"test.sleep"}]}`)

	nc, err := nats.Connect(s.NATSServer.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	testutil.Eventually(t, 10*time.Second, func() error { // the trigger starts on the manager's next tick
		msg, err := nc.Request("test.sleep", []byte("1"), time.Second)
		if err != nil {
			return err
		}
		if string(msg.Data) != "slept 1\n" {
			return fmt.Errorf("reply %q", msg.Data)
		}
		return nil
	})

	replies := make(chan *nats.Msg, 1)
	go func() {
		msg, err := nc.Request("test.sleep", []byte("500"), 10*time.Second)
		if err != nil {
			t.Errorf("the call in flight at shutdown got no answer: %v", err)
		}
		replies <- msg
	}()
	testutil.Eventually(t, 5*time.Second, func() error {
		if n := s.Runner.Heartbeat().InFlight; n != 1 {
			return fmt.Errorf("%d calls in flight", n)
		}
		return nil
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.Gateway.Shutdown(ctx); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	// Shutdown returned: the call has finished and its answer is sent.
	select {
	case msg := <-replies:
		if msg != nil && string(msg.Data) != "slept 500\n" {
			t.Fatalf("reply %q, want slept 500", msg.Data)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("shutdown returned before the trigger's call answered")
	}
	// ... and its record was written before the writer stopped.
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	kv, err := js.KeyValue(ctx, records.RecordsBucket)
	if err != nil {
		t.Fatal(err)
	}
	keys, err := kv.ListKeysFiltered(ctx, "default.sleeper.*")
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for k := range keys.Keys() {
		entry, err := kv.Get(ctx, k)
		if err != nil {
			t.Fatal(err)
		}
		var rec records.Record
		if err := json.Unmarshal(entry.Value(), &rec); err != nil {
			t.Fatal(err)
		}
		if rec.Mode == "nats" && rec.Status == records.StatusSucceeded && rec.Timings.RunMs >= 400 {
			found = true
		}
	}
	if !found {
		t.Fatal("no record of the call that was in flight at shutdown")
	}
}

// TestUnknownRouteAnswer: an unknown route answers the JSON 404 and names
// the route; a document it points to exists.
func TestUnknownRouteAnswer(t *testing.T) {
	s := stacktest.Dev(t, t.TempDir())
	resp, body := stacktest.Call(t, "GET", s.GatewayURL+"/v1/nope", "", nil)
	stacktest.WantError(t, resp, body, 404, "not_found")
	msg := stacktest.ErrorMessage(body)
	if !strings.Contains(msg, "GET /v1/nope") {
		t.Fatalf("message %q does not name the route", msg)
	}
	if strings.Contains(msg, "/v1/openapi.json") {
		if resp, _ := stacktest.Call(t, "GET", s.GatewayURL+"/v1/openapi.json", "", nil); resp.StatusCode != 200 {
			t.Fatalf("the 404 points to /v1/openapi.json, which answers %d", resp.StatusCode)
		}
	}
}
