// Package python holds the Go side of the Python plugin kit: its tests.
//
// The kit itself is the Python package sipstreams_plugin (this directory),
// with the contract's generated code in sipstreams/stream/v1 (`make proto`
// regenerates it from sdk/proto with Debian's protoc and
// grpc_python_plugin). Its unit tests are Python's (tests/); the Go tests
// here run them, check that the kit speaks the contract version of the Go
// SDK, and run the conformance suite against deliberately broken Python
// plugins (testdata/broken) to check that each is failed with a clear
// message. docs/vendors.md is the guide.
package python
