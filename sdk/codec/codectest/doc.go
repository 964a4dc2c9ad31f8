// Package codectest is the conformance suite for audio codecs — built-in
// ones and WebAssembly codec modules — and the helpers a codec vendor
// needs to build and load a module in a Go test.
//
// [Run] checks a codec.Codec: a valid description; a round trip of a tone
// frame by frame (each packet decodes to one frame, the tone comes back
// at its frequency and level); frame sizes (a whole frame encodes to a
// payload, odd blocks and payloads are refused with codec.ErrFrameSize or
// codec.ErrCorruptPayload or taken, never a panic or a failed codec);
// concealment gives one frame; and state isolation: two encoders and two
// decoders used in turn give exactly what one alone gives.
//
// A vendor's test of a module is a few lines:
//
//	func TestConformance(t *testing.T) {
//		wasm := codectest.BuildC(t, "mycodec.wasm", "mycodec.c")
//		codectest.Run(t, codectest.Load(t, wasm))
//	}
//
// [BuildC] compiles C with Debian's clang for wasm32-wasi as a reactor
// against the ABI header (sdk/codec/include); [BuildGo] compiles a Go
// main package with GOOS=wasip1 GOARCH=wasm -buildmode=c-shared. Both fail
// the test when the toolchain is missing: a conformance test never skips.
package codectest
