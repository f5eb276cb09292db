package chaos

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"sort"
	"sync"
	"time"
)

// record is the part of an invocation record the checks read.
type record struct {
	ID       string `json:"id"`
	Status   string `json:"status"`
	Attempts int    `json:"attempts"`
	Runner   string `json:"runner"`
	Error    *struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// final reports whether status is one an invocation ends in.
func final(status string) bool {
	return status == "succeeded" || status == "failed" || status == "dead"
}

// settle polls the records of the accepted invocations until every one
// is final or timeout passes; it returns the last record seen of each
// (nil: the gateways answered 404 every time) and how long it took.
func settle(ctx context.Context, c *client, subs []*submission, timeout time.Duration) (map[string]*record, time.Duration) {
	began := time.Now()
	recs := map[string]*record{}
	pending := map[string]bool{}
	for _, s := range subs {
		if s.ID != "" {
			pending[s.ID] = true
		}
	}
	deadline := began.Add(timeout)
	for len(pending) > 0 && time.Now().Before(deadline) && ctx.Err() == nil {
		ids := make([]string, 0, len(pending))
		for id := range pending {
			ids = append(ids, id)
		}
		got := fetchRecords(ctx, c, ids)
		for id, r := range got {
			recs[id] = r
			if r != nil && final(r.Status) {
				delete(pending, id)
			}
		}
		if len(pending) > 0 {
			select {
			case <-ctx.Done():
			case <-time.After(500 * time.Millisecond):
			}
		}
	}
	return recs, time.Since(began)
}

// fetchRecords reads the records of ids; an id whose record could not be
// read (404, a gateway error) maps to nil.
func fetchRecords(ctx context.Context, c *client, ids []string) map[string]*record {
	return parallel(ids, func(id string) *record {
		resp, _, err := c.do(ctx, http.MethodGet, "/v1/invocations/"+id, nil, nil)
		if err != nil || resp.status != http.StatusOK {
			return nil
		}
		r := new(record)
		if json.Unmarshal(resp.body, r) != nil {
			return nil
		}
		return r
	})
}

// outcome is a stored result, or why it could not be read.
type outcome struct {
	out string
	err error
}

// fetchResults reads the stored outputs of ids.
func fetchResults(ctx context.Context, c *client, ids []string) map[string]outcome {
	return parallel(ids, func(id string) outcome {
		out, err := result(ctx, c, id)
		return outcome{out, err}
	})
}

// parallel maps f over keys, 16 at a time.
func parallel[T any](keys []string, f func(string) T) map[string]T {
	out := make(map[string]T, len(keys))
	var mu sync.Mutex
	work := make(chan string)
	var wg sync.WaitGroup
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range work {
				v := f(k)
				mu.Lock()
				out[k] = v
				mu.Unlock()
			}
		}()
	}
	for _, k := range keys {
		work <- k
	}
	close(work)
	wg.Wait()
	return out
}

// result reads an invocation's stored output; a replica that has not
// caught up may answer 404 for a moment, so it reads for up to 2 s.
func result(ctx context.Context, c *client, id string) (string, error) {
	var out string
	err := poll(ctx, 2*time.Second, func() error {
		resp, _, err := c.do(ctx, http.MethodGet, "/v1/invocations/"+id+"/result", nil, nil)
		switch {
		case err != nil:
			return err
		case resp.status == http.StatusOK:
			out = string(resp.body)
			return nil
		default:
			return fmt.Errorf("%d %s", resp.status, resp.body)
		}
	})
	return out, err
}

// executions counts, per invocation id, the runs the runners logged as
// done ("invocation done", debug level, JSON): a run is logged before its
// answer is sent, so every answer a gateway got has a line.
func executions(files []string) (map[string]int, error) {
	n := map[string]int{}
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			return nil, err
		}
		err = scanDone(fh, n)
		fh.Close()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
	}
	return n, nil
}

func scanDone(r io.Reader, n map[string]int) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Bytes()
		if len(line) == 0 || line[0] != '{' {
			continue
		}
		var l struct {
			Msg        string `json:"msg"`
			Invocation string `json:"invocation"`
		}
		if json.Unmarshal(line, &l) != nil {
			continue // a line cut by SIGKILL
		}
		if l.Msg == "invocation done" && l.Invocation != "" {
			n[l.Invocation]++
		}
	}
	return sc.Err()
}

// check compares every accepted invocation with what it should be.
func check(ctx context.Context, c *client, subs []*submission, recs map[string]*record, cb *callbacks, runs map[string]int, r *Result) {
	var done []string
	for _, s := range subs {
		if rec := recs[s.ID]; s.ID != "" && rec != nil && rec.Status == "succeeded" {
			done = append(done, s.ID)
		}
	}
	results := fetchResults(ctx, c, done)
	for _, s := range subs {
		if s.ID == "" {
			r.NotAccepted++
			r.add(&r.NotAcceptedIDs, fmt.Sprintf("%s: %d tries, last %s", s.Key, s.Tries, s.LastErr))
			continue
		}
		r.Accepted++
		rec := recs[s.ID]
		switch {
		case rec == nil:
			r.Lost++
			r.add(&r.LostIDs, s.ID+": no record")
			continue
		case !final(rec.Status):
			r.Lost++
			r.add(&r.LostIDs, fmt.Sprintf("%s: still %s after the settle time (attempts %d, runner %s)", s.ID, rec.Status, rec.Attempts, rec.Runner))
			continue
		case rec.Status == "dead":
			r.DeadLettered++
			r.add(&r.DeadIDs, fmt.Sprintf("%s: dead after %d attempts: %v", s.ID, rec.Attempts, rec.Error))
			continue
		case rec.Status == "failed":
			r.Failed++
			r.add(&r.DeadIDs, fmt.Sprintf("%s: failed: %v", s.ID, rec.Error))
			continue
		}
		if rec.Attempts > 1 {
			r.Retried++
		}
		if res := results[s.ID]; res.err != nil || res.out != s.Body {
			r.WrongResult++
			r.add(&r.WrongIDs, fmt.Sprintf("%s: result %q (%v), want %q", s.ID, res.out, res.err, s.Body))
			continue
		}
		r.Completed++
		ok := 0
		for _, d := range cb.deliveries(s.ID) {
			if d.status == "succeeded" {
				ok++
				if d.body != s.Body {
					r.WrongCallbacks++
				}
			}
		}
		if ok == 0 {
			r.MissingCallbacks++
		}
		if ok > 1 {
			r.Duplicates++
			r.add(&r.DuplicateIDs, fmt.Sprintf("%s: %d succeeded callbacks", s.ID, ok))
		}
		if runs[s.ID] > 1 {
			r.ReExecuted++
			r.add(&r.ReExecutedIDs, fmt.Sprintf("%s: ran to the end %d times (attempts %d)", s.ID, runs[s.ID], rec.Attempts))
		}
	}
}

// sortedKeys returns m's keys in order.
func sortedKeys(m map[string]int) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
