// Command hearth is the one binary of the Hearth platform: the server roles
// (dev, gateway, runner) and the CLI (deploy, invoke, ls, rm, up, inspect,
// versions, alias, trigger, invocations, invocation, logs, dlq, login,
// context, key, secret, audit, sim, bench, version, completion; and the hidden docs, which writes
// docs/cli-reference.md from the command tree: docs_cli.go).
//
// It is entered by main → run (main.go): newRoot (root.go) builds the
// cobra command tree afresh for each run, normalizeLegacyFlags
// (legacyflags.go) rewrites the single-dash long flags of the flag package
// it was built on, and exitCode (exitcode.go) turns the command's error
// into the documented exit code (docs/cli.md). The server roles (roles.go)
// parse their flags and hand the assembly to internal/stack; the CLI
// commands talk to a gateway through sdk/client, with the gateway,
// namespace and key resolved from flags, the environment and the config
// file of internal/cliconfig (clientflags.go); sim and bench print what
// gateway/autoscaler and internal/bench compute. This package holds
// flags, validation of flags (usage errors exit 2) and printing, nothing
// a role does.
package main
