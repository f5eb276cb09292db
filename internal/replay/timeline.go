package replay

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"
)

// The autoscaler's timeline (GET /v1/autoscaler) says what its controller
// counted in each of its last closed minutes (autoscaler.TimelineMinutes,
// for its busiest autoscaler.TimelineFunctions functions). A replay reads
// it every timelineEvery minutes and at the end, and compares it with the
// calls it made: a minute counted otherwise means the policy was fed
// something else than the simulator (a call counted in the next minute).
const timelineEvery = 100

type timelineView struct {
	Enabled bool `json:"enabled"`
	Minutes []struct {
		Minute int `json:"minute"`
	} `json:"minutes"`
	Functions []struct {
		Namespace string `json:"namespace"`
		Function  string `json:"function"`
		Counts    []int  `json:"counts"`
	} `json:"functions"`
}

// readTimeline notes, in seen, what the controller counted for the
// replay's functions in the replayed minutes: seen[k*n+i] is minute i of
// function k, -1 where the timeline did not say.
func (r *run) readTimeline(ctx context.Context, seen []int) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, r.cl.BaseURL+"/v1/autoscaler", nil)
	if err != nil {
		return err
	}
	if r.cl.APIKey != "" {
		req.Header.Set("Authorization", "Bearer "+r.cl.APIKey)
	}
	req.Header.Set("Hearth-Namespace", r.ns)
	resp, err := r.sc.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET /v1/autoscaler: HTTP %d", resp.StatusCode)
	}
	var tl timelineView
	if err := json.NewDecoder(resp.Body).Decode(&tl); err != nil {
		return fmt.Errorf("GET /v1/autoscaler: %w", err)
	}
	for _, f := range tl.Functions {
		k, ok := r.byName[f.Function]
		if !ok || f.Namespace != r.ns {
			continue
		}
		for j, m := range tl.Minutes {
			if i := m.Minute - r.controllerFrom; i >= 0 && i < r.n && j < len(f.Counts) {
				seen[k*r.n+i] = f.Counts[j]
			}
		}
	}
	return nil
}
