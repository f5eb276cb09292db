package client

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
)

// Triggers lists the triggers of a function's latest version, numbered
// from 1 in order.
func (c *Client) Triggers(ctx context.Context, name string) ([]Trigger, error) {
	var out struct {
		Triggers []Trigger `json:"triggers"`
	}
	err := c.do(ctx, http.MethodGet, "/v1/functions/"+url.PathEscape(name)+"/triggers", "", nil, http.StatusOK, &out)
	return out.Triggers, err
}

// AddTrigger adds a trigger; the function gets a new version with the same
// module. It returns the new version's number.
func (c *Client) AddTrigger(ctx context.Context, name string, t Trigger) (int, error) {
	body, err := json.Marshal(t)
	if err != nil {
		return 0, err
	}
	var out struct {
		Version int `json:"version"`
	}
	err = c.do(ctx, http.MethodPost, "/v1/functions/"+url.PathEscape(name)+"/triggers", "application/json", bytes.NewReader(body), http.StatusCreated, &out)
	return out.Version, err
}

// DeleteTrigger removes trigger number n (from 1); the function gets a new
// version. It returns the new version's number.
func (c *Client) DeleteTrigger(ctx context.Context, name string, n int) (int, error) {
	var out struct {
		Version int `json:"version"`
	}
	// Not resent on 503: trigger n of the next version is another one.
	err := c.doAs(ctx, resendRefused, http.MethodDelete, "/v1/functions/"+url.PathEscape(name)+"/triggers/"+strconv.Itoa(n), "", nil, http.StatusCreated, &out)
	return out.Version, err
}
