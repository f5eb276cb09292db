package runner

import (
	"bytes"
	"fmt"
	"sync"
	"testing"

	"github.com/hearthfn/hearth/internal/abi"
	"github.com/hearthfn/hearth/internal/testmodules"
)

// Command instances get recycled memories, and every one starts zeroed:
// Dirty exits with code 1 if its memory (grown by a page) holds another
// instance's bytes, then fills it for the next one.
func TestCommandMemoriesStartZeroed(t *testing.T) {
	store := newStore(t)
	e := newTestEngine(t, store)
	dirty := fn{name: "dirty", digest: upload(t, store, testmodules.Dirty), abi: abi.Command}
	hello := fn{name: "hello", digest: upload(t, store, example("hello")), abi: abi.Command}
	for i := range 20 { // the first calls may run on the interpreter
		if res := run(e, dirty, ""); res.Err != nil {
			t.Fatalf("call %d: %v", i, res.Err)
		}
		wantOK(t, run(e, hello, "x"), "Hello, x!\n")
	}
	waitCompiled(t, e, dirty)
	errs := make(chan error, 8)
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 25 {
				if res := run(e, dirty, ""); res.Err != nil {
					errs <- fmt.Errorf("concurrent call %d: %v", i, res.Err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

func TestMemoryPool(t *testing.T) {
	var p memoryPool
	m := p.Allocate(0, 4<<20)
	buf := m.Reallocate(2 << 16) // two pages
	if len(buf) != 2<<16 || cap(buf) != 2<<16 {
		t.Fatalf("two pages: len %d cap %d", len(buf), cap(buf))
	}
	copy(buf, "kept when the memory grows")
	grown := m.Reallocate(3 << 16)
	if len(grown) != 3<<16 || !bytes.HasPrefix(grown, []byte("kept when the memory grows")) {
		t.Fatalf("grown: len %d, %q", len(grown), grown[:26])
	}
	if !allZero(grown[26:]) {
		t.Fatal("grown memory is not zero past what was written")
	}
	if m.Reallocate(5<<20) != nil {
		t.Fatal("grew past the maximum")
	}
	for i := range grown {
		grown[i] = 0xab
	}
	m.Free()
	again := p.Allocate(0, 4<<20).Reallocate(3 << 16)
	if !allZero(again[:cap(again)]) {
		t.Fatal("a recycled memory is not zero")
	}
	// Sizes the pool does not keep are allocated as usual.
	big := p.Allocate(0, 1<<30).Reallocate(maxPooledMemory + 1)
	if len(big) != maxPooledMemory+1 {
		t.Fatalf("large memory: len %d", len(big))
	}
	p.put(make([]byte, 100)) // not one of the pool's: ignored
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}
