// Package codecs holds the codec modules shipped with the audio plugin:
// C sources built by `make` into bin/plugins/codecs/ with Debian's clang
// for wasm32-wasi, against the codec module ABI of sdk/codec.
//
//   - g726/g726.c: G.726 at 32 kbit/s, encoding name G726-32 (RFC 3551
//     §4.5.4), bit-exact with the ITU reference behaviour. make builds
//     g726-32.wasm with RFC 3551's packing (the first codeword in the low
//     nibble) and extra/g726-32-aal2.wasm with the I.366.2 (AAL2) packing
//     that baresip 1.0's g726 module sends under the name G726-32.
//   - g711/g711.c: G.711 μ-law and A-law (PCMU, PCMA), bit for bit the
//     plugin's built-in ones, built into extra/ for the side-by-side
//     benchmark: installed in the codec directory, a module overrides the
//     built-in codec of the same name.
//
// The Go tests build the modules, run the sdk/codec/codectest conformance
// suite on each, compare G.711 with the built-in codecs over every input
// and G.726 with spandsp (which passes the ITU test sequences) on a long
// varied signal, and benchmark them against the built-ins.
package codecs
