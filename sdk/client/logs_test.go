package client_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hearthfn/hearth/internal/testutil"
	"github.com/hearthfn/hearth/sdk/client"
)

// TestFollowLogs: the backlog comes first, oldest first; an invocation
// made while following arrives; cancelling the context ends the stream
// with its error.
func TestFollowLogs(t *testing.T) {
	ctx := context.Background()
	c := newClient(nil)
	name := "client-follow"
	_ = c.Delete(ctx, name)
	if _, err := c.Deploy(ctx, name, module(t, "hello"), nil); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Delete(ctx, name) })
	var before []string
	for _, in := range []string{"a", "bb"} {
		_, info, err := c.Invoke(ctx, name, []byte(in))
		if err != nil {
			t.Fatal(err)
		}
		before = append(before, info.InvocationID)
	}
	// Sync records are written in the background: wait for both.
	testutil.Eventually(t, 30*time.Second, func() error {
		invs, err := c.Invocations(ctx, name, 10)
		if err != nil || len(invs) < 2 {
			return fmt.Errorf("%d records, %v", len(invs), err)
		}
		return nil
	})

	fctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		mu  sync.Mutex
		got []client.LogEvent
	)
	events := func() []client.LogEvent {
		mu.Lock()
		defer mu.Unlock()
		return append([]client.LogEvent(nil), got...)
	}
	done := make(chan error, 1)
	go func() {
		done <- c.FollowLogs(fctx, name, 10, func(ev client.LogEvent) error {
			mu.Lock()
			got = append(got, ev)
			mu.Unlock()
			return nil
		})
	}()
	testutil.Eventually(t, 30*time.Second, func() error {
		if n := len(events()); n < 2 {
			return fmt.Errorf("%d events of the backlog", n)
		}
		return nil
	})
	backlog := events()
	if backlog[0].ID != before[0] || backlog[1].ID != before[1] {
		t.Fatalf("backlog %+v, want %v oldest first", backlog, before)
	}
	if ev := backlog[1]; ev.Function != name || ev.Status != "succeeded" || ev.Mode != "sync" || !strings.Contains(ev.Logs, "greeted 2 bytes") || ev.FinishedAt == nil {
		t.Errorf("event %+v", ev)
	}

	_, info, err := c.Invoke(ctx, name, []byte("while following"))
	if err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, 30*time.Second, func() error {
		evs := events()
		if last := evs[len(evs)-1]; last.ID != info.InvocationID {
			return fmt.Errorf("last event %s, want %s", last.ID, info.InvocationID)
		}
		return nil
	})
	if ev := events()[2]; !strings.Contains(ev.Logs, "greeted 15 bytes") {
		t.Errorf("the new invocation's event: %+v", ev)
	}

	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("FollowLogs ended with %v, want context.Canceled", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("FollowLogs still running 30s after its context was cancelled")
	}
}

// TestFollowLogsStops: an error of the callback ends the stream and is
// returned; a bad backlog and a bad name are errors before any event.
func TestFollowLogsStops(t *testing.T) {
	ctx := context.Background()
	c := newClient(nil)
	if _, _, err := c.Invoke(ctx, "echo", []byte("x")); err != nil {
		t.Fatal(err)
	}
	stop := errors.New("enough")
	var n int
	testutil.Eventually(t, 30*time.Second, func() error {
		n = 0
		err := c.FollowLogs(ctx, "echo", 5, func(client.LogEvent) error { n++; return stop })
		if !errors.Is(err, stop) {
			return fmt.Errorf("FollowLogs: %v, want the callback's error", err)
		}
		return nil
	})
	if n != 1 {
		t.Errorf("callback called %d times after it returned an error, want once", n)
	}
	for _, b := range []int{-1, client.MaxLogsBacklog + 1} {
		if err := c.FollowLogs(ctx, "echo", b, func(client.LogEvent) error { return nil }); err == nil || !strings.Contains(err.Error(), "backlog") {
			t.Errorf("backlog %d: %v, want an error about the backlog", b, err)
		}
	}
	err := c.FollowLogs(ctx, "Not_A_Name", 0, func(client.LogEvent) error { return nil })
	wantAPIError(t, "FollowLogs of a bad name", err, 400, "invalid_name")
}
