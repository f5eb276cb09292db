;; A WASI command that writes its whole environment to stdout, hex-encoded:
;; the environ_get buffer ("NAME=value\0" after one another) as lowercase
;; hex digits, nothing else. Hex, so that a test can tell the value it
;; reads from a copy of the output that a platform stores (the digits of a
;; hex encoding never spell a value that has a letter past f).
(module
  (import "wasi_snapshot_preview1" "environ_sizes_get" (func $environ_sizes_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "environ_get" (func $environ_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  ;; 0: environ count, 4: environ buffer size, 8: iovec, 16: bytes written,
  ;; 32: the hex digits; the environment from 1024 on.
  (data (i32.const 32) "0123456789abcdef")
  (global $out (mut i32) (i32.const 0))
  (global $out_len (mut i32) (i32.const 0))

  ;; $dump lays out, from $at: the hex (twice the environ buffer), the
  ;; environ pointers, the environ buffer; memory grows to hold them. It
  ;; leaves the hex's place in $out and $out_len.
  (func $dump (param $at i32)
    (local $count i32) (local $size i32) (local $ptrs i32) (local $buf i32)
    (local $end i32) (local $i i32) (local $b i32) (local $d i32)
    (drop (call $environ_sizes_get (i32.const 0) (i32.const 4)))
    (local.set $count (i32.load (i32.const 0)))
    (local.set $size (i32.load (i32.const 4)))
    (local.set $ptrs (i32.add (local.get $at) (i32.shl (local.get $size) (i32.const 1))))
    (local.set $buf (i32.add (local.get $ptrs) (i32.shl (local.get $count) (i32.const 2))))
    (local.set $end (i32.add (local.get $buf) (local.get $size)))
    (block $big
      (loop $grow
        (br_if $big (i32.le_u (local.get $end) (i32.mul (memory.size) (i32.const 65536))))
        (if (i32.lt_s (memory.grow (i32.const 1)) (i32.const 0))
          (then unreachable))
        (br $grow)))
    (drop (call $environ_get (local.get $ptrs) (local.get $buf)))
    (block $done
      (loop $hex
        (br_if $done (i32.ge_u (local.get $i) (local.get $size)))
        (local.set $b (i32.load8_u (i32.add (local.get $buf) (local.get $i))))
        (local.set $d (i32.add (local.get $at) (i32.shl (local.get $i) (i32.const 1))))
        (i32.store8 (local.get $d)
          (i32.load8_u (i32.add (i32.const 32) (i32.shr_u (local.get $b) (i32.const 4)))))
        (i32.store8 (i32.add (local.get $d) (i32.const 1))
          (i32.load8_u (i32.add (i32.const 32) (i32.and (local.get $b) (i32.const 15)))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $hex)))
    (global.set $out (local.get $at))
    (global.set $out_len (i32.shl (local.get $size) (i32.const 1))))

  (func (export "_start")
    (call $dump (i32.const 1024))
    (i32.store (i32.const 8) (global.get $out))
    (i32.store (i32.const 12) (global.get $out_len))
    (drop (call $fd_write (i32.const 1) (i32.const 8) (i32.const 1) (i32.const 16)))))
