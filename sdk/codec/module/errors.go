package module

import "errors"

// Reasons a module is refused at load. Load wraps one of them with the
// details; test with errors.Is.
var (
	// ErrNotWasm: the file is not a WebAssembly binary module.
	ErrNotWasm = errors.New("not a WebAssembly module")
	// ErrInvalidModule: the binary does not compile, or imports what the
	// host does not provide (anything but WASI preview 1 functions).
	ErrInvalidModule = errors.New("invalid module")
	// ErrABIVersion: the module implements another ABI version.
	ErrABIVersion = errors.New("unsupported codec ABI version")
	// ErrMissingExport: an export the ABI requires is missing or has the
	// wrong signature.
	ErrMissingExport = errors.New("missing or mistyped export")
	// ErrDescription: the module's description is unreadable or invalid.
	ErrDescription = errors.New("invalid codec description")
	// ErrLoadCheck: the module failed the check run at load (initialize,
	// a state made, one frame encoded and decoded, the states freed).
	ErrLoadCheck = errors.New("module failed the load check")
	// ErrClosed: the module was closed; it makes no new states.
	ErrClosed = errors.New("codec module closed")
)

// Why a module's instance failed; FailedError.Err is one of them.
var (
	// ErrTrap: the module trapped (unreachable, an out-of-bounds access, a
	// division by zero, a stack overflow…).
	ErrTrap = errors.New("module trapped")
	// ErrBudget: a call looped past its budget (WithCallBudget): an
	// endless loop, stopped.
	ErrBudget = errors.New("module call ran past its loop budget")
	// ErrMemoryLimit: the module failed with more than three quarters of
	// its memory limit in use: memory.grow refused at the limit is the
	// likely cause.
	ErrMemoryLimit = errors.New("module reached its memory limit")
	// ErrBadResult: the module returned a result out of range (more
	// bytes or samples than the room it was given).
	ErrBadResult = errors.New("module returned a bad result")
)
