;; wc-wat is Hearth's WebAssembly text example: a reactor (docs/abi.md)
;; written by hand, with no imports, that counts its input as wc does and
;; answers "LINES WORDS BYTES\n" (words are runs of bytes other than space,
;; tab, CR, LF, VT and FF). Half a KB; a warm call over a megabyte of text
;; takes a millisecond or so.
;;
;; Build: wat2wasm wc.wat -o wc-wat.wasm
;;
;; Memory: the header at 0, the answer's digits below 1024 (written
;; backwards from there), the input buffer from 64 KiB.
(module
  (memory (export "memory") 2)
  (data (i32.const 0) "Status: 200\nContent-Type: text/plain; charset=utf-8\n\n")
  (global $head_len i32 (i32.const 53))
  (global $input i32 (i32.const 65536))

  ;; reserve grows the memory to hold the bytes below end.
  (func $reserve (param $end i32)
    (local $have i32)
    (local.set $have (i32.mul (memory.size) (i32.const 65536)))
    (if (i32.gt_u (local.get $end) (local.get $have))
      (then
        (if (i32.eq
              (memory.grow (i32.shr_u (i32.add (i32.sub (local.get $end) (local.get $have)) (i32.const 65535)) (i32.const 16)))
              (i32.const -1))
          (then unreachable)))))

  (func (export "hearth_alloc") (param $size i32) (result i32)
    (call $reserve (i32.add (global.get $input) (local.get $size)))
    (global.get $input))

  ;; $digits writes n in decimal ending just below end, and returns where
  ;; the digits start.
  (func $digits (param $n i32) (param $end i32) (result i32)
    (loop $next
      (local.set $end (i32.sub (local.get $end) (i32.const 1)))
      (i32.store8 (local.get $end) (i32.add (i32.const 48) (i32.rem_u (local.get $n) (i32.const 10))))
      (local.set $n (i32.div_u (local.get $n) (i32.const 10)))
      (br_if $next (local.get $n)))
    (local.get $end))

  (func $is_space (param $c i32) (result i32)
    (i32.or
      (i32.eq (local.get $c) (i32.const 32))
      (i32.and (i32.ge_u (local.get $c) (i32.const 9)) (i32.le_u (local.get $c) (i32.const 13)))))

  (func (export "hearth_handle") (param $meta i32) (param $meta_len i32) (param $body i32) (param $len i32) (result i64)
    (local $i i32)
    (local $c i32)
    (local $lines i32)
    (local $words i32)
    (local $in_word i32)
    (local $p i32)
    (local $start i32)
    (block $done
      (loop $scan
        (br_if $done (i32.ge_u (local.get $i) (local.get $len)))
        (local.set $c (i32.load8_u (i32.add (local.get $body) (local.get $i))))
        (if (i32.eq (local.get $c) (i32.const 10))
          (then (local.set $lines (i32.add (local.get $lines) (i32.const 1)))))
        (if (call $is_space (local.get $c))
          (then (local.set $in_word (i32.const 0)))
          (else
            (if (i32.eqz (local.get $in_word))
              (then
                (local.set $words (i32.add (local.get $words) (i32.const 1)))
                (local.set $in_word (i32.const 1))))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $scan)))
    ;; "LINES WORDS BYTES\n", written backwards from 1024
    (i32.store8 (i32.const 1023) (i32.const 10))
    (local.set $p (call $digits (local.get $len) (i32.const 1023)))
    (local.set $p (i32.sub (local.get $p) (i32.const 1)))
    (i32.store8 (local.get $p) (i32.const 32))
    (local.set $p (call $digits (local.get $words) (local.get $p)))
    (local.set $p (i32.sub (local.get $p) (i32.const 1)))
    (i32.store8 (local.get $p) (i32.const 32))
    (local.set $p (call $digits (local.get $lines) (local.get $p)))
    ;; the header just before the digits
    (local.set $start (i32.sub (local.get $p) (global.get $head_len)))
    (memory.copy (local.get $start) (i32.const 0) (global.get $head_len))
    (i64.or
      (i64.shl (i64.extend_i32_u (local.get $start)) (i64.const 32))
      (i64.extend_i32_u (i32.sub (i32.const 1024) (local.get $start)))))
)
