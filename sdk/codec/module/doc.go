// Package module runs audio codecs compiled to WebAssembly — codec
// modules — in-process, sandboxed with wazero (pure Go, no cgo), as
// [codec.Codec] values.
//
// A module implements the codec module ABI of package codec (version
// [codec.ABIVersion]): it describes its codec in JSON and exports per-stream
// state create/free, encode, decode and optionally packet-loss
// concealment. [Load] compiles and checks a module and refuses it with a
// reason that wraps one of this package's sentinel errors: not WebAssembly
// ([ErrNotWasm]), not compiling or importing anything but WASI
// ([ErrInvalidModule]), another ABI version ([ErrABIVersion]), a missing or
// mistyped export ([ErrMissingExport]), an invalid description
// ([ErrDescription]), or failing the load check — initialize, make an
// encoder and a decoder, one frame through both, free them — each call
// within its loop budget ([ErrLoadCheck]).
//
// # Sandbox
//
// A module sees no file system, no environment, no network: WASI preview 1
// with stdout and stderr discarded, the real clocks and a random source.
// Each module has its own runtime with a memory limit
// ([WithMemoryLimit], default 32 MiB). Every call runs under a loop
// budget ([WithCallBudget], default 2^28 loop iterations): the module is
// instrumented at load so that each loop iteration spends one unit of a
// per-call allowance and a call that would begin one more traps
// ([ErrBudget]). A G.726 frame takes about 20,000; an endless loop spends
// the default in about a second. Counted in iterations, not time, the
// bound is deterministic: a loaded machine never fails a healthy call
// (a wall-clock deadline of 100 ms did, on a busy two-core machine under
// -race), and it costs a global decrement per iteration — wazero's
// close-on-context-done, the alternative, returned to the Go runtime at
// every loop iteration and started a goroutine per call, making a G.711
// frame ten times and a G.726 frame twenty times slower. Sleeps (WASI
// poll_oneoff) return at once, so a loop that sleeps spends its budget
// too. A codec's calls run on the audio plugin's mixer clock, so a module
// that loops holds every call's audio until its budget is spent, once,
// before its streams fail.
//
// One instance of a module serves every stream's state, its calls
// serialised by the module's lock (a frame takes microseconds). When a
// call traps, times out or runs out of memory, the instance is discarded
// and every state it held fails from then on with a [*FailedError] that
// wraps [codec.ErrCodecFailed]: only the streams using that module fail. The
// next new state gets a fresh instance.
//
// # Lifetime
//
// Encoders and decoders implement io.Closer: Close frees their state in
// the module. [Module.Close] stops new states; the module's runtime is
// released once the last state is closed, so streams running on a module
// that was replaced keep it until they end.
package module
