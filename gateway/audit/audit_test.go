package audit

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/hearthfn/hearth/internal/testutil"
)

func openLog(t *testing.T) (*Log, jetstream.JetStream) {
	t.Helper()
	js, err := jetstream.New(testutil.ConnectNATS(t))
	if err != nil {
		t.Fatal(err)
	}
	l, err := Open(context.Background(), js, 1)
	if err != nil {
		t.Fatal(err)
	}
	return l, js
}

func appendAll(t *testing.T, l *Log, entries ...Entry) {
	t.Helper()
	for _, e := range entries {
		if err := l.Append(context.Background(), e); err != nil {
			t.Fatalf("append %+v: %v", e, err)
		}
	}
}

func list(t *testing.T, l *Log, q Query) []Entry {
	t.Helper()
	out, err := l.List(context.Background(), q)
	if err != nil {
		t.Fatalf("list %+v: %v", q, err)
	}
	return out
}

// targets are the targets of entries in order.
func targets(es []Entry) []string {
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = e.Target
	}
	return out
}

func wantTargets(t *testing.T, what string, got []Entry, want ...string) {
	t.Helper()
	if g := targets(got); fmt.Sprint(g) != fmt.Sprint(want) {
		t.Errorf("%s: targets %q, want %q", what, g, want)
	}
}

func entry(ns, action, target string) Entry {
	return Entry{KeyID: "k1", Action: action, Namespace: ns, Target: target, Outcome: Success}
}

func TestOpenStreamConfig(t *testing.T) {
	_, js := openLog(t)
	s, err := js.Stream(context.Background(), Stream)
	if err != nil {
		t.Fatal(err)
	}
	c := s.CachedInfo().Config
	if len(c.Subjects) != 1 || c.Subjects[0] != Subjects || c.Storage != jetstream.FileStorage ||
		c.Retention != jetstream.LimitsPolicy || c.Discard != jetstream.DiscardOld ||
		c.MaxAge != 90*24*time.Hour || c.MaxMsgs != 1_000_000 || c.Replicas != 1 {
		t.Fatalf("stream config %+v", c)
	}
}

func TestAppendListNewestFirst(t *testing.T) {
	l, _ := openLog(t)
	if got := list(t, l, Query{}); len(got) != 0 || got == nil {
		t.Fatalf("empty log lists %#v, want an empty non-nil slice", got)
	}
	before := time.Now()
	appendAll(t, l,
		entry("team-a", FunctionDeploy, "hello"),
		entry("team-a", AliasSet, "hello:prod"),
		Entry{KeyID: "k2", Action: KeyCreate, Namespace: "*", Target: "key-9", Outcome: Denied},
	)
	got := list(t, l, Query{})
	wantTargets(t, "list", got, "key-9", "hello:prod", "hello")
	e := got[0]
	if e.KeyID != "k2" || e.Action != KeyCreate || e.Namespace != "*" || e.Outcome != Denied ||
		e.Time.Before(before.Add(-time.Second)) || e.Time.Location() != time.UTC {
		t.Errorf("entry %+v", e)
	}
	for i := 1; i < len(got); i++ {
		if got[i].Time.After(got[i-1].Time) {
			t.Errorf("entry %d (%v) is newer than entry %d (%v)", i, got[i].Time, i-1, got[i-1].Time)
		}
	}
	// A given time is kept.
	at := time.Date(2030, 1, 2, 3, 4, 5, 6, time.UTC)
	appendAll(t, l, Entry{Time: at, Action: SecretPut, Namespace: "team-a", Target: "db", Outcome: Failed})
	if got := list(t, l, Query{Limit: 1}); len(got) != 1 || !got[0].Time.Equal(at) || got[0].KeyID != "" {
		t.Errorf("entry with a time: %+v", got)
	}
}

func TestListLimit(t *testing.T) {
	l, _ := openLog(t)
	for i := range 25 {
		appendAll(t, l, entry("team-a", FunctionDeploy, fmt.Sprint(i)))
	}
	wantTargets(t, "limit 3", list(t, l, Query{Limit: 3}), "24", "23", "22")
	if got := list(t, l, Query{}); len(got) != 25 || got[0].Target != "24" || got[24].Target != "0" {
		t.Errorf("default limit: %q", targets(got))
	}
	if got := list(t, l, Query{Limit: 1_000_000}); len(got) != 25 {
		t.Errorf("limit above MaxLimit: %d entries", len(got))
	}
	if got := list(t, l, Query{Limit: -1}); len(got) != 25 {
		t.Errorf("negative limit: %d entries", len(got))
	}
}

func TestListDefaultAndMaxLimit(t *testing.T) {
	l, js := openLog(t)
	// Published without waiting for each ack, then confirmed: 1,100 entries.
	var acks []jetstream.PubAckFuture
	for i := range MaxLimit + 100 {
		f, err := js.PublishAsync("hearth.audit.team-a.function_deploy",
			fmt.Appendf(nil, `{"action":"function.deploy","namespace":"team-a","target":"%d","outcome":"success"}`, i))
		if err != nil {
			t.Fatal(err)
		}
		acks = append(acks, f)
	}
	for _, f := range acks {
		select {
		case <-f.Ok():
		case err := <-f.Err():
			t.Fatal(err)
		case <-time.After(30 * time.Second):
			t.Fatal("no ack")
		}
	}
	if got := list(t, l, Query{}); len(got) != DefaultLimit || got[0].Target != "1099" {
		t.Errorf("default: %d entries, first %+v", len(got), got[0])
	}
	if got := list(t, l, Query{Limit: 5000}); len(got) != MaxLimit || got[0].Target != "1099" || got[MaxLimit-1].Target != "100" {
		t.Errorf("max: %d entries", len(got))
	}
}

func TestListFilters(t *testing.T) {
	l, _ := openLog(t)
	appendAll(t, l,
		entry("team-a", FunctionDeploy, "a1"),
		entry("team-b", FunctionDeploy, "b1"),
		entry("team-a", SecretPut, "a-secret"),
		entry("*", KeyCreate, "global-key"),
		entry("", KeyDelete, "no-namespace"),
		entry("team-b", SecretDelete, "b-secret"),
		entry("team-a", FunctionDeploy, "a2"),
		entry("team-ab", FunctionDeploy, "ab1"),
	)
	for _, tt := range []struct {
		q    Query
		want []string
	}{
		{Query{Namespace: "team-a"}, []string{"a2", "a-secret", "a1"}},
		{Query{Namespace: "team-b"}, []string{"b-secret", "b1"}},
		{Query{Namespace: "*"}, []string{"ab1", "a2", "b-secret", "no-namespace", "global-key", "a-secret", "b1", "a1"}},
		{Query{Action: FunctionDeploy}, []string{"ab1", "a2", "b1", "a1"}},
		{Query{Namespace: "team-a", Action: FunctionDeploy}, []string{"a2", "a1"}},
		{Query{Namespace: "team-a", Action: FunctionDeploy, Limit: 1}, []string{"a2"}},
		{Query{Namespace: "team-b", Action: SecretPut}, []string{}},
		{Query{Namespace: "team-c"}, []string{}},
		{Query{Action: KeyCreate}, []string{"global-key"}},
	} {
		wantTargets(t, fmt.Sprintf("%+v", tt.q), list(t, l, tt.q), tt.want...)
	}
	for _, q := range []Query{
		{Action: "function.*"}, {Action: "deploy"}, {Action: "function_deploy"},
		{Namespace: "team.a"}, {Namespace: "team-*"}, {Namespace: ">"}, {Namespace: "a b"}, {Namespace: "_all"},
	} {
		if _, err := l.List(context.Background(), q); !errors.Is(err, ErrInvalid) {
			t.Errorf("list %+v: %v, want ErrInvalid", q, err)
		}
	}
}

func TestAppendRejectsBadEntries(t *testing.T) {
	l, _ := openLog(t)
	for _, e := range []Entry{
		entry("team.a", FunctionDeploy, "x"),
		entry("team-*", FunctionDeploy, "x"),
		entry("*.>", FunctionDeploy, "x"),
		entry(">", FunctionDeploy, "x"),
		entry("team a", FunctionDeploy, "x"),
		entry("team\ta", FunctionDeploy, "x"),
		entry("_all", FunctionDeploy, "x"),
		entry("team-a", "function.run", "x"),
		entry("team-a", "", "x"),
		entry("team-a", "function_deploy", "x"),
		{Action: FunctionDeploy, Namespace: "team-a", Outcome: "ok"},
		{Action: FunctionDeploy, Namespace: "team-a"},
	} {
		if err := l.Append(context.Background(), e); !errors.Is(err, ErrInvalid) {
			t.Errorf("append %+v: %v, want ErrInvalid", e, err)
		}
	}
	if got := list(t, l, Query{}); len(got) != 0 {
		t.Errorf("rejected entries were stored: %+v", got)
	}
}

func TestListSkipsDeletedAndForeignMessages(t *testing.T) {
	l, js := openLog(t)
	appendAll(t, l, entry("team-a", FunctionDeploy, "1"), entry("team-a", FunctionDeploy, "2"))
	if _, err := js.Publish(context.Background(), "hearth.audit.team-a.function_deploy", []byte("not json")); err != nil {
		t.Fatal(err)
	}
	appendAll(t, l, entry("team-a", FunctionDeploy, "4"), entry("team-a", FunctionDeploy, "5"))
	s, err := js.Stream(context.Background(), Stream)
	if err != nil {
		t.Fatal(err)
	}
	for _, seq := range []uint64{2, 5} { // the second and the newest
		if err := s.DeleteMsg(context.Background(), seq); err != nil {
			t.Fatal(err)
		}
	}
	wantTargets(t, "after deletes", list(t, l, Query{}), "4", "1")
	wantTargets(t, "limit 1 after deletes", list(t, l, Query{Limit: 1}), "4")
}

func TestListScanIsBounded(t *testing.T) {
	l, _ := openLog(t)
	l.maxScan = 20
	appendAll(t, l, entry("team-a", KeyCreate, "old"))
	for i := range 25 {
		appendAll(t, l, entry("team-b", FunctionDeploy, fmt.Sprint(i)))
	}
	appendAll(t, l, entry("team-a", KeyCreate, "new"))
	// The old key.create is 26 messages back, beyond the scan.
	wantTargets(t, "rare filter", list(t, l, Query{Action: KeyCreate}), "new")
	if got := list(t, l, Query{Limit: 100}); len(got) != 20 || got[0].Target != "new" || got[19].Target != "6" {
		t.Errorf("unfiltered: %q, want the 20 newest", targets(got))
	}
}

func TestReopenKeepsEntries(t *testing.T) {
	l, js := openLog(t)
	appendAll(t, l, entry("team-a", TriggerAdd, "hello#1"), entry("team-a", TriggerDelete, "hello#1"))
	l2, err := Open(context.Background(), js, 1)
	if err != nil {
		t.Fatal(err)
	}
	wantTargets(t, "reopened", list(t, l2, Query{}), "hello#1", "hello#1")
	if got := list(t, l2, Query{}); got[0].Action != TriggerDelete || got[1].Action != TriggerAdd {
		t.Errorf("reopened: %+v", got)
	}
	appendAll(t, l2, entry("team-a", FunctionDelete, "hello"))
	if got := list(t, l, Query{}); len(got) != 3 || got[0].Action != FunctionDelete {
		t.Errorf("after an append through the reopened log: %+v", got)
	}
}

func TestActionsAndOutcomes(t *testing.T) {
	all := []string{FunctionDeploy, FunctionDelete, AliasSet, AliasDelete, TriggerAdd, TriggerDelete, SecretPut, SecretDelete, KeyCreate, KeyDelete, DLQReplay}
	for _, a := range all {
		if !ValidAction(a) {
			t.Errorf("ValidAction(%q) = false", a)
		}
	}
	if len(actions) != len(all) || ValidAction("") || ValidAction("function") {
		t.Errorf("actions %v", actions)
	}
	for _, o := range []string{Success, Denied, Failed} {
		if !ValidOutcome(o) {
			t.Errorf("ValidOutcome(%q) = false", o)
		}
	}
	if ValidOutcome("") || ValidOutcome("ok") {
		t.Error("ValidOutcome accepts others")
	}
}
