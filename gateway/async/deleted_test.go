package async_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/hearthfn/hearth/gateway"
	"github.com/hearthfn/hearth/internal/stack"
	"github.com/hearthfn/hearth/internal/stack/stacktest"
)

// TestQueuedCallOfADeletedFunction: an async call queued before its
// function was deleted is not run and not retried: it is dead-lettered at
// its first attempt with function_not_found. (Before, nothing checked: the
// call ran the deleted function's module while it was still stored, or
// was retried as module_unavailable once it was collected.)
func TestQueuedCallOfADeletedFunction(t *testing.T) {
	s := stacktest.DevWith(t, stack.DevConfig{Gateway: gateway.Config{NoDispatcher: true}})
	id := stacktest.Submit(t, s.GatewayURL, "hello", "gone", nil)
	if resp, body := stacktest.Call(t, http.MethodDelete, s.GatewayURL+"/v1/functions/hello", "", nil); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("delete: %d %s", resp.StatusCode, body)
	}
	// A gateway that dispatches now finds the call queued.
	url, err := s.StartExtraGateway(context.Background(), gateway.Config{RetryBase: 50 * time.Millisecond, MaxAttempts: 3})
	if err != nil {
		t.Fatal(err)
	}
	rec := stacktest.WaitStatus(t, url, id, "dead")
	if rec.Attempts != 1 || rec.Error == nil || rec.Error.Code != "function_not_found" {
		t.Fatalf("record %+v (error %+v), want dead at attempt 1 with function_not_found", rec, rec.Error)
	}
	resp, body := stacktest.Call(t, http.MethodGet, url+"/v1/dlq", "", nil)
	var dlq struct {
		DeadLetters []struct {
			ID        string `json:"id"`
			LastError string `json:"last_error"`
		} `json:"dead_letters"`
	}
	if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &dlq) != nil || len(dlq.DeadLetters) != 1 ||
		dlq.DeadLetters[0].ID != id || dlq.DeadLetters[0].LastError == "" {
		t.Fatalf("GET /v1/dlq: %d %s", resp.StatusCode, body)
	}
}
