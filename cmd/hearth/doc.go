// Command hearth is the one binary of the Hearth platform: the server roles
// (dev, gateway, runner) and the CLI (deploy, invoke, ls, rm, up, inspect,
// versions, alias, trigger, invocations, invocation, logs, dlq, sim, bench).
//
// It is entered by main → run (main.go), which picks the command from
// the commands table. The
// server roles (roles.go) parse their flags and hand the assembly to
// internal/stack; the CLI commands talk to a gateway through sdk/client;
// sim and bench print what gateway/autoscaler and internal/bench compute.
// This package holds flags, validation of flags (usage errors exit 2) and
// printing, nothing a role does.
package main
