package procutil

import (
	"net"
	"os"
	"strings"
)

// FreePort is a TCP port on 127.0.0.1 that was free a moment ago, for a
// process that takes its port as a flag.
func FreePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// EnvWithout is this process's environment less the variables whose
// names start with prefix (such as "HEARTH_", so that a started process
// gets its settings from its flags alone).
func EnvWithout(prefix string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, prefix) {
			env = append(env, kv)
		}
	}
	return env
}

// Tail is the last n lines of a log file, or the error reading it, for an
// error message.
func Tail(path string, n int) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
