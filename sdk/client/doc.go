// Package client is the Go client of Hearth's HTTP API.
//
//	c := client.New("http://127.0.0.1:8080") // where `hearth dev` listens
//	c.APIKey = key                           // with auth on (hearth dev --auth: DATA/admin.key)
//	out, info, err := c.Invoke(ctx, "hello", []byte("Hearth"))
//
// [New] makes a [Client] for a gateway's base URL; set Namespace and
// APIKey on it as needed. Its methods follow the API (docs/api.md, and
// the OpenAPI document at /v1/openapi.json, against which the tests check
// every route the client calls): [Client.Deploy], [Client.DeployWith],
// [Client.CheckDeploy], [Client.List], [Client.Get] and [Client.Delete]
// for functions; [Client.Invoke] and [Client.InvokeAsync] for calls, with
// [Client.Invocation], [Client.Result] and [Client.Logs] for an async one
// and [Client.Invocations] for a function's recent ones;
// [Client.FollowLogs] streams a function's logs as its invocations finish
// (server-sent events); [Client.Versions], [Client.SetAlias] and
// [Client.SetAliasWeights] for versions and aliases; [Client.Triggers],
// [Client.PutSecret], [Client.CreateKey], [Client.Audit] and
// [Client.DeadLetters] for the rest.
//
// An error the API answered is an [*Error] with the HTTP status and the
// API's code (errors.As). A request the gateway refused with 429 or 503 is
// sent again, when that is safe, after the wait its Retry-After asks for:
// see [Client.MaxRetries] (0 turns it off) and [Client.MaxRetryWait].
//
// The examples run against an in-process dev stack, as the tests do.
package client
