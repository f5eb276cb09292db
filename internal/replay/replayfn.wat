;; The function hearth replay deploys once per function of a trace: the
;; smallest reactor (hearth_alloc, hearth_handle by hand, no imports) that
;; answers every call with "ok", so that a replay measures the platform's
;; warm and cold starts and not a function's work. Build with
;; `wat2wasm replayfn.wat -o replayfn.wasm` (go generate).
(module
  (memory (export "memory") 1)
  ;; 0: the answer (15 bytes); inputs from 1024 on.
  (data (i32.const 0) "Status: 200\n\nok")

  ;; hearth_alloc grows memory to hold the input at 1024.
  (func (export "hearth_alloc") (param $size i32) (result i32)
    (local $end i32)
    (local.set $end (i32.add (i32.const 1024) (local.get $size)))
    (block $big
      (loop $grow
        (br_if $big (i32.le_u (local.get $end) (i32.mul (memory.size) (i32.const 65536))))
        (if (i32.lt_s (memory.grow (i32.const 1)) (i32.const 0))
          (then unreachable))
        (br $grow)))
    (i32.const 1024))

  (func (export "hearth_handle") (param i32 i32 i32 i32) (result i64)
    (i64.const 15)))
