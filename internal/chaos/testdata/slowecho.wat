;; slowecho: a WASI command that reads all of stdin, sleeps 25 ms
;; (poll_oneoff on the monotonic clock) and writes what it read to stdout.
;; The chaos suite's async function: every output is known (the input),
;; and each call lasts long enough that a runner killed mid-load has calls
;; in flight. Built with: wat2wasm slowecho.wat -o slowecho.wasm
(module
  (import "wasi_snapshot_preview1" "fd_read" (func $fd_read (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "poll_oneoff" (func $poll_oneoff (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 2)
  ;; 0: iovec (8), 8: count (4); 64: subscription (48); 128: event (32);
  ;; the input from 1024 up to the end of the two pages.
  (func (export "_start")
    (local $len i32)
    (block $eof
      (loop $read
        (i32.store (i32.const 0) (i32.add (i32.const 1024) (local.get $len)))
        (i32.store (i32.const 4) (i32.sub (i32.const 130048) (local.get $len)))
        (br_if $eof (i32.eqz (i32.load (i32.const 4))))
        (br_if $eof (call $fd_read (i32.const 0) (i32.const 0) (i32.const 1) (i32.const 8)))
        (br_if $eof (i32.eqz (i32.load (i32.const 8))))
        (local.set $len (i32.add (local.get $len) (i32.load (i32.const 8))))
        (br $read)))
    ;; subscription: userdata 0, tag 0 (clock), clock id 1 (monotonic),
    ;; timeout 25 ms relative, precision 0, flags 0.
    (i64.store (i32.const 64) (i64.const 0))
    (i32.store8 (i32.const 72) (i32.const 0))
    (i32.store (i32.const 80) (i32.const 1))
    (i64.store (i32.const 88) (i64.const 25000000))
    (i64.store (i32.const 96) (i64.const 0))
    (i32.store16 (i32.const 104) (i32.const 0))
    (drop (call $poll_oneoff (i32.const 64) (i32.const 128) (i32.const 1) (i32.const 8)))
    (i32.store (i32.const 0) (i32.const 1024))
    (i32.store (i32.const 4) (local.get $len))
    (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))))
