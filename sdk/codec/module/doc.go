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
// encoder and a decoder, one frame through both, free them — within the
// load timeout ([ErrLoadCheck]).
//
// # Sandbox
//
// A module sees no file system, no environment, no network: WASI preview 1
// with stdout and stderr discarded, the real clocks and a random source.
// Each module has its own runtime with a memory limit
// ([WithMemoryLimit], default 32 MiB). Every call runs under a deadline
// ([WithCallTimeout], default 1 s): a call that runs past it is stopped
// through the cancellation of its context (wazero's close-on-context-done
// checks at every loop header). The deadline is wall-clock time, so it
// leaves room for a loaded machine: under -race on a busy two-core machine
// a G.726 frame, microseconds of work, was seen to take over 100 ms
// between being descheduled and growing memory. A codec's calls run on
// the audio plugin's mixer clock, so a module that loops holds every
// call's audio for up to the deadline, once, before its streams fail.
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
