;; A reactor (hearth_alloc, hearth_handle by hand) that answers every call
;; with its whole environment, hex-encoded as printenv.wat writes it, after
;; a header block of one line ("Content-Type: text/plain"). An instance
;; reads the environment it was instantiated with, so a warm instance
;; answers with the env of the call that made it.
(module
  (import "wasi_snapshot_preview1" "environ_sizes_get" (func $environ_sizes_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "environ_get" (func $environ_get (param i32 i32) (result i32)))
  (memory (export "memory") 1)
  ;; 0: environ count, 4: environ buffer size, 32: the hex digits,
  ;; 64: the header block (26 bytes); inputs and answers from 1024 on.
  (data (i32.const 32) "0123456789abcdef")
  (data (i32.const 64) "Content-Type: text/plain\n\n")
  (global $out (mut i32) (i32.const 0))
  (global $out_len (mut i32) (i32.const 0))
  (global $free (mut i32) (i32.const 1024)) ;; past the input buffer

  (func $dump (param $at i32)
    (local $count i32) (local $size i32) (local $ptrs i32) (local $buf i32)
    (local $end i32) (local $i i32) (local $b i32) (local $d i32)
    (drop (call $environ_sizes_get (i32.const 0) (i32.const 4)))
    (local.set $count (i32.load (i32.const 0)))
    (local.set $size (i32.load (i32.const 4)))
    (local.set $ptrs (i32.add (local.get $at) (i32.shl (local.get $size) (i32.const 1))))
    (local.set $buf (i32.add (local.get $ptrs) (i32.shl (local.get $count) (i32.const 2))))
    (local.set $end (i32.add (local.get $buf) (local.get $size)))
    (call $reserve (local.get $end))
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

  ;; $reserve grows memory to hold $end bytes.
  (func $reserve (param $end i32)
    (block $big
      (loop $grow
        (br_if $big (i32.le_u (local.get $end) (i32.mul (memory.size) (i32.const 65536))))
        (if (i32.lt_s (memory.grow (i32.const 1)) (i32.const 0))
          (then unreachable))
        (br $grow))))

  ;; The input buffer is at 1024; the answer goes after it.
  (func (export "hearth_alloc") (param $size i32) (result i32)
    (global.set $free (i32.add (i32.const 1024) (local.get $size)))
    (call $reserve (global.get $free))
    (i32.const 1024))

  (func (export "hearth_handle") (param i32 i32 i32 i32) (result i64)
    (local $at i32)
    (local.set $at (global.get $free))
    (call $reserve (i32.add (local.get $at) (i32.const 26)))
    (memory.copy (local.get $at) (i32.const 64) (i32.const 26))
    (call $dump (i32.add (local.get $at) (i32.const 26)))
    (i64.or
      (i64.shl (i64.extend_i32_u (local.get $at)) (i64.const 32))
      (i64.extend_i32_u (i32.add (global.get $out_len) (i32.const 26))))))
