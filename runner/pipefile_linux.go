package runner

import (
	"crypto/rand"
	"encoding/hex"
	"os"

	"golang.org/x/sys/unix"
)

// makePipe makes a named pipe at path, open for reading and writing (which
// never waits for the other end), with a 1 MiB buffer where the system
// allows it. It appears at path already open.
func makePipe(path string) (*os.File, error) {
	var suffix [6]byte
	_, _ = rand.Read(suffix[:])
	tmp := path + "." + hex.EncodeToString(suffix[:]) + ".pipe.tmp"
	if err := unix.Mkfifo(tmp, 0o600); err != nil {
		return nil, err
	}
	defer os.Remove(tmp) // gone after the rename; left only on failure
	f, err := os.OpenFile(tmp, os.O_RDWR, 0)
	if err != nil {
		return nil, err
	}
	if raw, err := f.SyscallConn(); err == nil {
		_ = raw.Control(func(fd uintptr) { _, _ = unix.FcntlInt(fd, unix.F_SETPIPE_SZ, 1<<20) })
	}
	if err := os.Rename(tmp, path); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}
