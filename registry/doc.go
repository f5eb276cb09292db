// Package registry keeps deployed functions: their immutable numbered
// versions (each with its spec) and their aliases in a NATS KV bucket, their
// module bytes in the object store, content-addressed by sha256 so
// identical modules are stored once and collected once no version uses
// them (gc.go). Deploys are validated first (validate.go, spec.go); calls
// name what they run as NAME, NAME@VERSION or NAME:ALIAS (alias.go).
// docs/registry.md is the user's view.
//
// A caller starts from [Open] with a [Config], a JetStream context and a
// [ModuleStore]; then [Registry.Deploy] takes a [DeployRequest] (module
// bytes and a [Spec], parsed with [DecodeSpec]), [Registry.Resolve] turns a
// reference into the [Function] and [Version] to run, and
// [Registry.SetAlias] moves an alias. Specs are checked against
// internal/limits; errors a user caused are [ValidationError]s.
package registry
