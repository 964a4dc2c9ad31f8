// Package pyecho holds the Go tests of the Python echo plugin: its package
// pyecho/ (the stream, in Python, built with the kit in sdk/python) is
// packaged into one executable file, as a vendor ships it, and run through
// the conformance suite as a host starts it.
package pyecho
