package client

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// AuditEntry is one entry of the audit log: an action (e.g.
// "function.deploy", "secret.put", "key.create"), who asked (KeyID), in
// which namespace, on what, and its outcome ("success", "denied" or
// "failed").
type AuditEntry struct {
	Time      time.Time `json:"time"`
	KeyID     string    `json:"key_id"`
	Action    string    `json:"action"`
	Namespace string    `json:"namespace"`
	Target    string    `json:"target"`
	Outcome   string    `json:"outcome"`
}

// AuditQuery selects audit entries: at most Limit (0: the gateway's
// default, 100; at most 1000) of one Action ("": all).
type AuditQuery struct {
	Limit  int
	Action string
}

// Audit returns audit entries, newest first (admin scope).
func (c *Client) Audit(ctx context.Context, q AuditQuery) ([]AuditEntry, error) {
	params := url.Values{}
	if q.Limit != 0 {
		params.Set("limit", strconv.Itoa(q.Limit))
	}
	if q.Action != "" {
		params.Set("action", q.Action)
	}
	path := "/v1/audit"
	if len(params) > 0 {
		path += "?" + params.Encode()
	}
	var out struct {
		Entries []AuditEntry `json:"entries"`
	}
	err := c.do(ctx, http.MethodGet, path, "", nil, http.StatusOK, &out)
	return out.Entries, err
}
