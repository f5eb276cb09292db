// Package apierr is the error of Hearth's HTTP API: a status, a machine
// code and a message that says what was wrong and what to do, written as
// {"error":{"code":"…","message":"…"}} (API.md). Every package of the
// gateway that answers a request or records an outcome makes its errors
// with New and compares their codes with the typed constants below, never
// with string literals.
package apierr
