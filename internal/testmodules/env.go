package testmodules

import (
	"bytes"
	_ "embed"
	"encoding/hex"
	"fmt"
)

// PrintEnv is a WASI command (printenv.wat) that writes its whole
// environment to stdout, hex-encoded: see [DecodeEnv].
//
//go:embed printenv.wasm
var PrintEnv []byte

// EnvReactor is a reactor (envreactor.wat, the ABI by hand, no sdk/guest)
// that answers every call with the environment its instance was made
// with, hex-encoded as PrintEnv writes it, after a one-line header block.
//
//go:embed envreactor.wasm
var EnvReactor []byte

// DecodeEnv reads the output of PrintEnv or the body of EnvReactor's
// answer: the hex of the WASI environ buffer, NAME=value strings each
// ended by a NUL byte.
func DecodeEnv(out []byte) (map[string]string, error) {
	raw, err := hex.DecodeString(string(bytes.TrimSpace(out)))
	if err != nil {
		return nil, fmt.Errorf("environment output %.80q is not hex: %w", out, err)
	}
	env := make(map[string]string)
	for _, kv := range bytes.Split(raw, []byte{0}) {
		if len(kv) == 0 {
			continue
		}
		name, value, ok := bytes.Cut(kv, []byte("="))
		if !ok {
			return nil, fmt.Errorf("environment entry %q has no =", kv)
		}
		env[string(name)] = string(value)
	}
	return env, nil
}
