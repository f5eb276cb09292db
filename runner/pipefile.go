package runner

import (
	"bytes"
	"io"
	"os"
	"sync"
	"time"
)

// A pipeFile is a compilation cache file that wazero can read while it is
// still downloading. wazero validates the whole module (tens of
// milliseconds for a Go module) before it opens the cache file, so the
// download and the validation can run at once: until the file is complete,
// a named pipe stands at its path, which wazero opens and reads like the
// file while feed writes the downloaded bytes into it. Once every byte is
// here, the complete file replaces the pipe, so any later reader opens a
// plain file.
//
// The pipe is held open for reading and writing from before it appears
// until close, or pipeLinger after feed has written every byte: wazero's
// open never waits for a writer, and a reader gets every byte, then the
// end of the file; if the download fails, it gets the end early (wazero
// then reports a broken cache entry, and the caller compiles). The
// linger ends a read for more bytes than the file has (a corrupt entry),
// which would otherwise wait for ever, since close comes after the read.
type pipeFile struct {
	path string
	pipe *os.File
	data []byte // the file's bytes, data[:have] downloaded

	mu      sync.Mutex
	changed *sync.Cond // have, failed or closed changed
	have    int
	failed  bool
	closed  bool
	fed     chan struct{} // feed has returned
	linger  *time.Timer   // closes the pipe once everything is written
}

// pipeLinger is how long the pipe stays open after feed has written every
// byte: a reader reads them in milliseconds; one that opened the pipe just
// before the complete file replaced it still gets a writer meanwhile.
var pipeLinger = 10 * time.Second

// newPipeFile puts a named pipe at path for a file of size bytes, and
// starts feeding it what download receives. It returns
// errors.ErrUnsupported where the platform has no suitable pipes.
func newPipeFile(path string, size int64) (*pipeFile, error) {
	pipe, err := makePipe(path)
	if err != nil {
		return nil, err
	}
	p := &pipeFile{path: path, pipe: pipe, data: make([]byte, size), fed: make(chan struct{})}
	p.changed = sync.NewCond(&p.mu)
	go p.feed()
	return p, nil
}

// download reads the file's bytes from r into memory (the pipe's reader
// gets them as they come), then writes the complete file over the pipe.
// On failure it removes the pipe and ends what its reader gets.
func (p *pipeFile) download(r io.Reader) error {
	const chunk = 256 << 10
	for off := 0; off < len(p.data); {
		end := min(off+chunk, len(p.data))
		n, err := io.ReadFull(r, p.data[off:end])
		off += n
		p.mu.Lock()
		p.have = off
		p.changed.Broadcast()
		p.mu.Unlock()
		if err != nil {
			p.fail()
			return err
		}
	}
	if err := writeFileAtomic(p.path, bytes.NewReader(p.data)); err != nil {
		p.fail()
		return err
	}
	return nil
}

// fail removes the pipe (a later reader finds no file and compiles) and
// closes it (a reader now gets the end of the file).
func (p *pipeFile) fail() {
	if info, err := os.Lstat(p.path); err == nil && info.Mode()&os.ModeNamedPipe != 0 {
		_ = os.Remove(p.path)
	}
	p.mu.Lock()
	p.failed = true
	p.changed.Broadcast()
	p.mu.Unlock()
	_ = p.pipe.Close()
}

// feed writes the downloaded bytes into the pipe as they arrive. A write
// waits while the pipe is full, that is until wazero reads, or until close.
func (p *pipeFile) feed() {
	defer close(p.fed)
	written := 0
	for written < len(p.data) {
		p.mu.Lock()
		for p.have == written && !p.failed && !p.closed {
			p.changed.Wait()
		}
		have, stop := p.have, p.failed || p.closed
		p.mu.Unlock()
		if stop {
			return
		}
		if _, err := p.pipe.Write(p.data[written:have]); err != nil {
			return
		}
		written = have
	}
	p.mu.Lock()
	if !p.closed {
		p.linger = time.AfterFunc(pipeLinger, func() { _ = p.pipe.Close() })
	}
	p.mu.Unlock()
}

// close ends the pipe; call it once download has returned and the reader,
// if any, is done with it (Runtime.CompileModule has returned).
func (p *pipeFile) close() {
	p.mu.Lock()
	p.closed = true
	p.changed.Broadcast()
	p.mu.Unlock()
	_ = p.pipe.Close() // a feed blocked in Write returns
	<-p.fed
	if p.linger != nil { // set by feed, which has returned
		p.linger.Stop()
	}
}
