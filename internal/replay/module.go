package replay

import _ "embed"

//go:generate wat2wasm replayfn.wat -o replayfn.wasm

// Function is the module a replay deploys for every function of a trace:
// a reactor without imports that answers "ok" (replayfn.wat).
//
//go:embed replayfn.wasm
var Function []byte
