// Package templates makes a function's folder for `hearth new NAME
// --template T`: the source, a hearth.yaml with the build command and the
// ABI its module must have, a README and a test.sh that builds, deploys
// and calls it. The templates' files are embedded (files/), rendered with
// text/template.
//
// Every template answers the same way ("Hearth" greets "Hello, Hearth!"),
// so one test drives them all. [List] gives the templates, [Lookup] one
// by name (with suggestions for a misspelt one), and [Create] writes a
// folder. The go template's go.mod needs github.com/hearthfn/hearth for
// sdk/guest; [FindGoModule] works out how to reach it.
package templates
