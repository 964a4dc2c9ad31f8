// Package meter gives a WebAssembly module a loop budget: it rewrites the
// binary so that every loop decrements an exported mutable i64 global,
// [Global], each time an iteration begins, and traps (unreachable) when
// the global is 0. The host sets the global before a call; a call that
// loops endlessly traps once the budget is spent, and the global, read
// back as 0, tells why. Recursion needs no meter: it ends on the stack
// limit.
//
// Counting in loop iterations rather than in time makes the bound
// deterministic — a loaded machine never makes a healthy call fail — and
// costs a global decrement per iteration, where wazero's own
// close-on-context-done leaves the compiled code to the Go runtime at
// every loop iteration and starts a goroutine per call.
//
// The rewriting walks every instruction of every function body, so it
// knows every opcode of the WebAssembly 2.0 core (with SIMD); a module
// with another (threads, exceptions, tail calls…) is refused, as the
// runtime would refuse it. DWARF custom sections (.debug_*) are dropped:
// they describe the code as it was.
package meter
