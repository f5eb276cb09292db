;; A WASI command that checks its memory starts zeroed, then dirties it
;; for whatever instance gets the memory next. It grows its memory by a
;; page first, so that memory which grew is checked too. Exit code 1: it
;; found a non-zero byte, that is another instance's data.
(module
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (memory (export "memory") 2)
  (func (export "_start")
    (local $i i32)
    (local $end i32)
    (drop (memory.grow (i32.const 1)))
    (local.set $end (i32.mul (memory.size) (i32.const 65536)))
    (block $clean
      (loop $scan
        (br_if $clean (i32.ge_u (local.get $i) (local.get $end)))
        (if (i32.load8_u (local.get $i))
          (then (call $exit (i32.const 1))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $scan)))
    (memory.fill (i32.const 0) (i32.const 0xab) (local.get $end))
    (call $exit (i32.const 0))))
