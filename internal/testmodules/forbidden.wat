;; forbidden: imports a host function Hearth does not provide.
(module
  (import "env" "socket_open" (func $socket_open (param i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "_start") (drop (call $socket_open (i32.const 0)))))
