// abort traps instead of importing env.abort, which Hearth does not provide.
export function abort(message: usize, file: usize, line: u32, column: u32): void {
  unreachable();
}
