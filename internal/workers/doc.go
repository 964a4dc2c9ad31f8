// Package workers runs functions on goroutines kept for the next one.
//
// A new goroutine starts with a small stack and grows it, copying it each
// time, as deep calls need more: a goroutine per SIP call or per plugin
// call, under load, spends a good part of its CPU there (a tenth of the
// audio plugin's at 2,500 calls/s). A Pool's workers keep their grown
// stacks for the next function instead. It serves the plugins' batched
// calls (sdk) and the session loops of the session manager.
package workers
