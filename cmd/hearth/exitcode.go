package main

import (
	"context"
	"errors"
	"net/http"

	"github.com/hearthfn/hearth/sdk/client"
)

// The exit codes scripts can rely on (docs/cli.md).
const (
	exitOK       = 0 // the command did what it was asked
	exitError    = 1 // any other failure: the gateway refused or could not be reached, a file could not be read …
	exitUsage    = 2 // the command line is wrong: an unknown command or flag, a missing or bad argument
	exitNotFound = 3 // the gateway has no such function, version, alias, invocation, key, secret or trigger (HTTP 404)
	exitFailed   = 4 // the function ran and failed: a trap, a non-zero exit, its memory limit (HTTP 502; an async call failed or dead)
	exitTimeout  = 5 // the function or the wait for it ran out of time (HTTP 504, or the CLI's own deadline)
)

// exitCodeDocs are the exit codes as the CLI reference (hearth docs) lists
// them.
var exitCodeDocs = []struct {
	code    int
	meaning string
}{
	{exitOK, "ok: the command did what it was asked"},
	{exitError, "error: any other failure — the gateway cannot be reached or refuses the request (400, 401, 403, 409, 429 …), a file cannot be read, a build fails"},
	{exitUsage, "usage: the command line is wrong — an unknown command or flag, a missing or extra argument, a bad flag value"},
	{exitNotFound, "not found (HTTP 404): no such function, version, alias, invocation, result, key, secret or trigger"},
	{exitFailed, "function failed (HTTP 502): a trap, a non-zero exit, its memory limit; a waited-for async call that ended failed or dead; a passthrough call answered 5xx"},
	{exitTimeout, "timeout: the function ran out of its time (HTTP 504), or the CLI's own --timeout passed"},
}

// exitCode is the exit code of a command's error.
func exitCode(err error) int {
	var (
		usage  usageError
		silent silentError
		apiErr *client.Error
		failed *functionFailedError
	)
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &silent):
		return silent.code
	case errors.As(err, &usage):
		return exitUsage
	case errors.As(err, &failed):
		return failed.code()
	case errors.As(err, &apiErr):
		return statusExitCode(apiErr.Status, apiErr.Code)
	case errors.Is(err, context.DeadlineExceeded):
		return exitTimeout
	}
	return exitError
}

// statusExitCode maps an HTTP answer (and its error code) to an exit code.
func statusExitCode(status int, code string) int {
	switch {
	case status == http.StatusNotFound:
		return exitNotFound
	case status == http.StatusGatewayTimeout || code == "timeout":
		return exitTimeout
	case status == http.StatusBadGateway:
		return exitFailed
	}
	return exitError
}

// functionFailedError is an async invocation that ended failed or dead,
// or a passthrough call whose function answered an error status.
type functionFailedError struct {
	msg     string
	status  int    // HTTP status of a passthrough answer; 0 for an async record
	errCode string // the API's error code
}

func (e *functionFailedError) Error() string { return e.msg }

func (e *functionFailedError) code() int {
	switch {
	case e.status == http.StatusNotFound:
		return exitNotFound
	case e.status == http.StatusGatewayTimeout:
		return exitTimeout
	case e.status >= 500:
		return exitFailed // the function's own error answer
	case e.status != 0:
		return exitError
	}
	if e.errCode == "timeout" {
		return exitTimeout
	}
	return exitFailed
}
