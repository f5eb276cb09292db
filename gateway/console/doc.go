// Package console is Hearth's web console: a single-page app of plain
// JavaScript modules, CSS and SVG, embedded in the binary (no build step)
// and served by the gateway at / and /console/… (docs/console.md).
//
// The assets hold no data: every figure the pages show comes from the
// API, called from the browser with the API key the user typed in
// (sessionStorage only). So the gateway serves them without a key
// (docs/decisions/0012-console.md), with a Content-Security-Policy that
// allows only the gateway's own scripts, styles and connections, and
// forbids framing.
package console
