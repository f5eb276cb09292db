package gateway

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"

	"github.com/hearthfn/hearth/gateway/apierr"
	"github.com/hearthfn/hearth/registry"
	"github.com/labstack/echo/v4"
)

// readBody reads an invocation's body, at most limit bytes. With a known
// Content-Length it reads into one buffer of that size (net/http stops the
// body there) instead of growing one as it goes.
func readBody(r *http.Request, limit int64) ([]byte, error) {
	n := r.ContentLength
	if n < 0 || n > limit {
		return readLimited(r.Body, limit, "request body") // chunked, or too large: its error
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(r.Body, body); err != nil {
		return nil, readError(err, "request body")
	}
	return body, nil
}

// readError maps a failed read of a request's body to an API error.
func readError(err error, what string) error {
	if mbe := (*http.MaxBytesError)(nil); errors.As(err, &mbe) {
		// The function's max_payload (limitBody) cut the body off.
		return apierr.New(http.StatusRequestEntityTooLarge, apierr.PayloadTooLarge, "the %s is larger than the function's max_payload of %d bytes", what, mbe.Limit)
	}
	return apierr.New(http.StatusBadRequest, apierr.BadRequest, "read %s: %v", what, err)
}

// readLimited reads r up to limit bytes; more is a 413.
func readLimited(r io.Reader, limit int64, what string) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, readError(err, what)
	}
	if int64(len(data)) > limit {
		code := apierr.PayloadTooLarge
		if what == "module" {
			code = registry.CodeModuleTooLarge
		}
		return nil, apierr.New(http.StatusRequestEntityTooLarge, code, "the %s is larger than the limit of %d bytes", what, limit)
	}
	return data, nil
}

// decodeJSON reads a JSON request body of at most limit bytes into v:
// one object, no unknown fields, nothing after it. A body that is not that
// is 400 with code; a larger one 413.
func decodeJSON(c echo.Context, limit int64, what string, code apierr.Code, v any) error {
	raw, err := readLimited(c.Request().Body, limit, what)
	if err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil || dec.More() {
		msg := "trailing data after the JSON object"
		if err != nil {
			msg = err.Error()
		}
		return apierr.New(http.StatusBadRequest, code, "the body must be a JSON %s: %s", what, msg)
	}
	return nil
}
