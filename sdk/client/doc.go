// Package client is the Go client of Hearth's HTTP API.
//
//	c := client.New("http://127.0.0.1:8080")
//	out, info, err := c.Invoke(ctx, "hello", []byte("Hearth"))
//
// [New] makes a [Client] for a gateway's base URL. Its methods follow the
// API (docs/api.md): [Client.Deploy] and [Client.List] for functions,
// [Client.Invoke] and [Client.InvokeAsync] for calls (with
// [Client.Invocation], [Client.Result] and [Client.Logs] for an async one),
// [Client.Versions] and [Client.SetAlias] for versions and aliases,
// [Client.Triggers] for triggers. An error the API answered is an [*Error].
package client
