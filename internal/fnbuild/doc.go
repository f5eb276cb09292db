// Package fnbuild builds a function's module as its hearth.yaml says and
// checks the result: `hearth build`, `hearth up` and `hearth up --watch`
// are made of it.
//
// A [Step] is one function's build: a shell command run in the manifest's
// directory, the programs it needs, the module it writes and the ABI that
// module must have. [Run] checks the programs first ([Tools] knows where
// each comes from, so that a missing one is reported with what installs
// it), runs the command, then compiles the module with wazero by the rules
// of a deploy (registry.InspectModule) and compares its ABI with the one
// expected. [Scan] and [Changed] are the file watching of `up --watch`:
// modification times and sizes polled, which needs no platform support and
// sees every kind of editor's save.
package fnbuild
