// Package templates holds the vendor templates for codec modules, one in
// Go (go/, GOOS=wasip1 GOARCH=wasm -buildmode=c-shared, //go:wasmexport)
// and one in C (c/, Debian's clang for wasm32-wasi with wasi-libc). Both
// implement the same codec, L16 at 8 kHz, so that they can be compared.
//
// The tests build both templates with the real toolchains and run the
// sdk/codec/codectest conformance suite on the modules; a vendor's copy
// runs the same few lines (see package codectest).
package templates
