package runner

import (
	"math/bits"
	"sync"

	"github.com/tetratelabs/wazero/experimental"
)

// memoryPool recycles the linear memories of command instances. A command
// gets a fresh instance per call, and each instance a zeroed linear memory
// from wazero: 128 KiB for the C hello, 2.4 MiB for a Go command, allocated
// and zeroed per call and left to the garbage collector, whose work then
// followed the call rate. From the pool, a memory is a buffer another
// instance used and the pool zeroed when that instance closed.
//
// A buffer in the pool is zero over its whole capacity: an instance only
// writes within its memory's length (wasm bounds checks), and Free zeroes
// that length before the buffer goes back. Buffers come in power-of-two
// capacities from 64 KiB (one page) to maxPooledMemory; larger memories
// are allocated and collected as wazero does.
type memoryPool struct {
	classes [maxPooledClass + 1]sync.Pool // by log2 of the capacity
}

const (
	minPooledClass  = 16 // 64 KiB, one wasm page
	maxPooledClass  = 26 // 64 MiB
	maxPooledMemory = 1 << maxPooledClass
)

var _ experimental.MemoryAllocator = (*memoryPool)(nil)

// Allocate implements experimental.MemoryAllocator.
func (p *memoryPool) Allocate(_, max uint64) experimental.LinearMemory {
	return &pooledMemory{pool: p, max: max}
}

// get returns a zeroed buffer of length size.
func (p *memoryPool) get(size uint64) []byte {
	class := max(bits.Len64(size-1), minPooledClass)
	if size == 0 || class > maxPooledClass {
		return make([]byte, size)
	}
	if b, ok := p.classes[class].Get().(*[]byte); ok {
		return (*b)[:size]
	}
	return make([]byte, size, 1<<class)
}

// put zeroes what was used of buf and keeps it for another instance.
func (p *memoryPool) put(buf []byte) {
	c := cap(buf)
	if c < 1<<minPooledClass || c > maxPooledMemory || c&(c-1) != 0 {
		return // not one of the pool's
	}
	clear(buf)
	buf = buf[:0]
	p.classes[bits.Len(uint(c))-1].Put(&buf)
}

// pooledMemory is one instance's linear memory.
type pooledMemory struct {
	pool *memoryPool
	buf  []byte
	max  uint64
}

// Reallocate implements experimental.LinearMemory: the memory grows to
// size bytes, in place while its buffer has room (the bytes past the old
// length are zero), else into a larger buffer.
func (m *pooledMemory) Reallocate(size uint64) []byte {
	if size > m.max {
		return nil
	}
	if size <= uint64(cap(m.buf)) {
		m.buf = m.buf[:size]
		return m.buf
	}
	grown := m.pool.get(size)
	copy(grown, m.buf)
	if m.buf != nil {
		m.pool.put(m.buf)
	}
	m.buf = grown
	return m.buf
}

// Free implements experimental.LinearMemory; wazero calls it once the
// instance is closed and its code no longer runs.
func (m *pooledMemory) Free() {
	if m.buf != nil {
		m.pool.put(m.buf)
		m.buf = nil
	}
}
