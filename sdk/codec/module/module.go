package module

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"math"
	"os"
	"sync"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"

	"github.com/sipstreams/sipstreams/sdk/codec"
	"github.com/sipstreams/sipstreams/sdk/codec/module/internal/meter"
)

// Defaults of the options.
const (
	DefaultMemoryLimit = 32 << 20
	// DefaultCallBudget is the loop iterations a call may begin: a
	// G.726 frame takes about 20,000, an endless loop spends 2^28 in
	// about a second.
	DefaultCallBudget = 1 << 28
)

const pageSize = 65536

// config holds the options.
type config struct {
	memoryLimit uint32 // pages
	callBudget  uint64
	name        string
}

// Option configures Load.
type Option func(*config)

// WithMemoryLimit bounds the module's linear memory to bytes (rounded down
// to whole 64 KiB pages, at least one); memory.grow beyond it fails.
func WithMemoryLimit(bytes int) Option {
	return func(c *config) {
		p := bytes / pageSize
		if p < 1 {
			p = 1
		}
		if p > 65536 {
			p = 65536
		}
		c.memoryLimit = uint32(p)
	}
}

// WithCallBudget bounds each call into the module — initialize, describe,
// state create and free, encode, decode, conceal — to iterations loop
// iterations (default DefaultCallBudget, at least 1): a call that would
// begin one more traps, failing with ErrBudget. Counted in iterations,
// not time, the bound does not depend on how busy the machine is.
func WithCallBudget(iterations uint64) Option {
	return func(c *config) { c.callBudget = max(iterations, 1) }
}

// WithName names the module in errors (default: its file name for LoadFile,
// else "module").
func WithName(name string) Option { return func(c *config) { c.name = name } }

// FailedError is the error of every call on a state whose module instance
// failed: the module trapped, looped past its budget or ran out of memory.
// It wraps codec.ErrCodecFailed and the cause (ErrTrap, ErrBudget,
// ErrMemoryLimit, ErrBadResult).
type FailedError struct {
	Module string // the module's name
	Call   string // the call that failed: "encode", "decode", …
	Err    error  // ErrTrap, ErrBudget, ErrMemoryLimit or ErrBadResult
	Detail string // what the runtime said
}

func (e *FailedError) Error() string {
	s := fmt.Sprintf("codec module %s: %s: %v", e.Module, e.Call, e.Err)
	if e.Detail != "" {
		s += ": " + e.Detail
	}
	return s
}

// Unwrap gives codec.ErrCodecFailed and the cause.
func (e *FailedError) Unwrap() []error { return []error{codec.ErrCodecFailed, e.Err} }

// Module is a loaded codec module: a codec.Codec whose encoders and
// decoders are states in the module's WebAssembly instance. Its methods
// are safe for concurrent use.
type Module struct {
	cfg      config
	desc     codec.Description
	info     codec.Info
	sum      [32]byte
	size     int
	conceal  bool
	rt       wazero.Runtime
	compiled wazero.CompiledModule

	mu     sync.Mutex
	inst   *instance // serving new states; nil until needed again after a failure
	closed bool
	live   int // states not closed, over all instances
	failed int // instances discarded after a failure
}

var _ codec.Codec = (*Module)(nil)

// LoadFile reads and loads the module at path; see Load.
func LoadFile(ctx context.Context, path string, opts ...Option) (*Module, error) {
	wasm, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Load(ctx, wasm, append([]Option{WithName(baseName(path))}, opts...)...)
}

func baseName(path string) string {
	for i := len(path) - 1; i >= 0; i-- {
		if os.IsPathSeparator(path[i]) {
			return path[i+1:]
		}
	}
	return path
}

// wasmMagic starts every WebAssembly binary module: "\0asm", version 1.
var wasmMagic = []byte{0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00}

// Load compiles and checks a codec module: its imports (WASI preview 1
// only), the ABI version, every required export and its signature, the
// description, and one frame through a fresh encoder and decoder. A module
// that fails any of it is refused with an error wrapping ErrNotWasm,
// ErrInvalidModule, ErrABIVersion, ErrMissingExport, ErrDescription or
// ErrLoadCheck. ctx bounds the compilation.
func Load(ctx context.Context, wasm []byte, opts ...Option) (*Module, error) {
	cfg := config{memoryLimit: DefaultMemoryLimit / pageSize, callBudget: DefaultCallBudget, name: "module"}
	for _, o := range opts {
		o(&cfg)
	}
	if !bytes.HasPrefix(wasm, wasmMagic) {
		what := "no \\0asm header"
		if len(wasm) >= 4 && bytes.Equal(wasm[:4], wasmMagic[:4]) {
			what = fmt.Sprintf("binary format version %x, want 1", wasm[4:min(8, len(wasm))])
		}
		return nil, fmt.Errorf("%s: %w (%s)", cfg.name, ErrNotWasm, what)
	}
	m := &Module{cfg: cfg, sum: sha256.Sum256(wasm), size: len(wasm)}
	metered, err := meter.Instrument(wasm)
	if err != nil {
		return nil, fmt.Errorf("%s: %w: %v", cfg.name, ErrInvalidModule, err)
	}
	rcfg := wazero.NewRuntimeConfig().WithMemoryLimitPages(cfg.memoryLimit)
	m.rt = wazero.NewRuntimeWithConfig(ctx, rcfg)
	ok := false
	defer func() {
		if !ok {
			_ = m.rt.Close(context.Background())
		}
	}()
	if _, err := wasi_snapshot_preview1.Instantiate(ctx, m.rt); err != nil {
		return nil, fmt.Errorf("%s: WASI: %w", cfg.name, err)
	}
	compiled, err := m.rt.CompileModule(ctx, metered)
	if err != nil {
		return nil, fmt.Errorf("%s: %w: %v", cfg.name, ErrInvalidModule, err)
	}
	m.compiled = compiled
	if err := m.checkShape(); err != nil {
		return nil, fmt.Errorf("%s: %w", cfg.name, err)
	}
	if err := m.loadCheck(); err != nil {
		return nil, fmt.Errorf("%s: %w", cfg.name, err)
	}
	ok = true
	return m, nil
}

// signature is an export's parameter and result types.
type signature struct {
	params, results []api.ValueType
}

func (s signature) String() string {
	names := func(ts []api.ValueType) string {
		out := "("
		for i, t := range ts {
			if i > 0 {
				out += ","
			}
			out += api.ValueTypeName(t)
		}
		return out + ")"
	}
	return names(s.params) + "->" + names(s.results)
}

func i32s(n int) []api.ValueType {
	out := make([]api.ValueType, n)
	for i := range out {
		out[i] = api.ValueTypeI32
	}
	return out
}

// required are the exports of ABI version 1 and their signatures.
var required = []struct {
	name string
	sig  signature
}{
	{codec.ExportABI, signature{nil, i32s(1)}},
	{codec.ExportDescribe, signature{nil, i32s(1)}},
	{codec.ExportIO, signature{nil, i32s(1)}},
	{codec.ExportEncoderNew, signature{nil, i32s(1)}},
	{codec.ExportEncoderFree, signature{i32s(1), nil}},
	{codec.ExportEncode, signature{i32s(5), i32s(1)}},
	{codec.ExportDecoderNew, signature{nil, i32s(1)}},
	{codec.ExportDecoderFree, signature{i32s(1), nil}},
	{codec.ExportDecode, signature{i32s(5), i32s(1)}},
}

var (
	concealSig    = signature{i32s(3), i32s(1)}
	initializeSig = signature{nil, nil}
)

func sameTypes(a, b []api.ValueType) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// checkShape checks imports and exports without running anything.
func (m *Module) checkShape() error {
	for _, f := range m.compiled.ImportedFunctions() {
		mod, name, _ := f.Import()
		if mod != wasi_snapshot_preview1.ModuleName {
			return fmt.Errorf("%w: imports %s.%s: only %s functions are provided", ErrInvalidModule, mod, name, wasi_snapshot_preview1.ModuleName)
		}
	}
	if ims := m.compiled.ImportedMemories(); len(ims) > 0 {
		mod, name, _ := ims[0].Import()
		return fmt.Errorf("%w: imports memory %s.%s: a module exports its own", ErrInvalidModule, mod, name)
	}
	mems := m.compiled.ExportedMemories()
	mem, ok := mems[codec.ExportMemory]
	if !ok {
		return fmt.Errorf("%w: no memory exported as %q", ErrMissingExport, codec.ExportMemory)
	}
	if mem.Min() > m.cfg.memoryLimit {
		return fmt.Errorf("%w: its memory starts at %d pages, above the limit of %d", ErrInvalidModule, mem.Min(), m.cfg.memoryLimit)
	}
	exports := m.compiled.ExportedFunctions()
	if _, ok := exports["_start"]; ok {
		return fmt.Errorf("%w: exports _start: build a reactor (clang -mexec-model=reactor, go build -buildmode=c-shared)", ErrInvalidModule)
	}
	has := func(name string, want signature) (bool, error) {
		def, ok := exports[name]
		if !ok {
			return false, nil
		}
		got := signature{def.ParamTypes(), def.ResultTypes()}
		if !sameTypes(got.params, want.params) || !sameTypes(got.results, want.results) {
			return true, fmt.Errorf("%w: %s is %s, want %s", ErrMissingExport, name, got, want)
		}
		return true, nil
	}
	for _, r := range required {
		ok, err := has(r.name, r.sig)
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("%w: %s %s", ErrMissingExport, r.name, r.sig)
		}
	}
	if _, err := has(codec.ExportInitialize, initializeSig); err != nil {
		return err
	}
	ok, err := has(codec.ExportConceal, concealSig)
	if err != nil {
		return err
	}
	m.conceal = ok
	return nil
}

// loadCheck instantiates the module, reads the ABI version and the
// description, and runs one frame through a fresh encoder and decoder.
func (m *Module) loadCheck() error {
	inst, err := m.instantiate(context.Background())
	if err != nil {
		return err
	}
	defer inst.close()
	stack := inst.stack[:]
	if err := inst.call(codec.ExportABI, inst.fns.abi, stack); err != nil {
		return fmt.Errorf("%w: %v", ErrLoadCheck, err)
	}
	if v := int32(stack[0]); v != codec.ABIVersion {
		return fmt.Errorf("%w: the module implements version %d, the host version %d", ErrABIVersion, v, codec.ABIVersion)
	}
	if err := inst.call(codec.ExportDescribe, inst.fns.describe, stack); err != nil {
		return fmt.Errorf("%w: %v", ErrLoadCheck, err)
	}
	text, err := inst.cString(uint32(stack[0]), codec.MaxDescription)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrDescription, err)
	}
	desc, err := codec.ParseDescription(text)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrDescription, err)
	}
	m.desc, m.info = desc, desc.Info()

	// One frame of a 1 kHz tone through a fresh encoder and decoder.
	n := m.info.FrameSamples()
	pcm := make([]int16, n)
	for i := range pcm {
		pcm[i] = int16(8000 * math.Sin(2*math.Pi*1000*float64(i)/float64(m.info.SampleRate)))
	}
	enc, err := inst.newState(true)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrLoadCheck, err)
	}
	dec, err := inst.newState(false)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrLoadCheck, err)
	}
	payload, err := inst.encode(enc, pcm, nil)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrLoadCheck, err)
	}
	if len(payload) == 0 {
		return fmt.Errorf("%w: encode gave an empty payload for %d samples", ErrLoadCheck, n)
	}
	out, err := inst.decode(dec, payload, nil)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrLoadCheck, err)
	}
	if len(out) == 0 {
		return fmt.Errorf("%w: decode gave no samples for %d bytes", ErrLoadCheck, len(payload))
	}
	if m.conceal {
		if _, err := inst.conceal(dec, nil); err != nil {
			return fmt.Errorf("%w: %v", ErrLoadCheck, err)
		}
	}
	for _, s := range []struct {
		h   uint32
		enc bool
	}{{enc, true}, {dec, false}} {
		if err := inst.free(s.h, s.enc); err != nil {
			return fmt.Errorf("%w: %v", ErrLoadCheck, err)
		}
	}
	return nil
}

// Info describes the codec (codec.Codec).
func (m *Module) Info() codec.Info { return m.info }

// Name is the module's name (WithName): its file name, as a rule.
func (m *Module) Name() string { return m.cfg.name }

// Description is the module's description, version included.
func (m *Module) Description() codec.Description { return m.desc }

// SHA256 is the hex SHA-256 of the module's bytes.
func (m *Module) SHA256() string { return hex.EncodeToString(m.sum[:]) }

// Size is the module's size in bytes.
func (m *Module) Size() int { return m.size }

// HasConceal reports whether the module conceals lost packets itself.
func (m *Module) HasConceal() bool { return m.conceal }

// Stats are figures about a module's use.
type Stats struct {
	// Live counts the encoder and decoder states not closed.
	Live int
	// Failures counts the instances discarded after a trap, a spent budget or
	// running out of memory.
	Failures int
	// MemoryBytes is the linear memory of the instance serving new
	// states (0 when there is none).
	MemoryBytes int
	// Closed reports whether Close was called.
	Closed bool
}

// Stats returns the module's figures.
func (m *Module) Stats() Stats {
	m.mu.Lock()
	defer m.mu.Unlock()
	s := Stats{Live: m.live, Failures: m.failed, Closed: m.closed}
	if m.inst != nil && m.inst.failure == nil {
		s.MemoryBytes = int(m.inst.mem.Size())
	}
	return s
}

// NewEncoder makes an encoder state in the module (codec.Codec).
func (m *Module) NewEncoder() (codec.Encoder, error) {
	st, err := m.newState(true)
	if err != nil {
		return nil, err
	}
	return &encoder{st}, nil
}

// NewDecoder makes a decoder state in the module (codec.Codec).
func (m *Module) NewDecoder() (codec.Decoder, error) {
	st, err := m.newState(false)
	if err != nil {
		return nil, err
	}
	d := &decoder{state: st}
	d.fader.Frame = m.info.FrameSamples()
	return d, nil
}

func (m *Module) newState(enc bool) (*state, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil, fmt.Errorf("%s: %w", m.cfg.name, ErrClosed)
	}
	if m.inst == nil {
		inst, err := m.instantiate(context.Background())
		if err != nil {
			return nil, fmt.Errorf("%s: %w", m.cfg.name, err)
		}
		m.inst = inst
	}
	inst := m.inst
	h, err := inst.newState(enc)
	if err != nil {
		m.failedLocked(inst)
		return nil, err
	}
	inst.states++
	m.live++
	return &state{m: m, inst: inst, h: h, enc: enc}, nil
}

// failedLocked retires a failed instance: new states get a fresh one.
func (m *Module) failedLocked(inst *instance) {
	if inst.failure == nil {
		return
	}
	if m.inst == inst {
		m.inst = nil
		m.failed++
	}
	inst.close()
}

// release frees a state (Close of an encoder or decoder).
func (m *Module) release(st *state) {
	m.mu.Lock()
	defer m.mu.Unlock()
	inst := st.inst
	if inst.failure == nil {
		if err := inst.free(st.h, st.enc); err != nil {
			m.failedLocked(inst)
		}
	}
	inst.states--
	m.live--
	if inst.states == 0 && (inst != m.inst || m.closed) {
		if m.inst == inst {
			m.inst = nil
		}
		inst.close()
	}
	if m.closed && m.live == 0 {
		_ = m.rt.Close(context.Background())
	}
}

// Close stops the module from making new states; the runtime is released
// once the last state is closed. A second Close does nothing.
func (m *Module) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil
	}
	m.closed = true
	if m.inst != nil && m.inst.states == 0 {
		m.inst.close()
		m.inst = nil
	}
	if m.live == 0 {
		return m.rt.Close(context.Background())
	}
	return nil
}

// state is one encoder or decoder state in an instance.
type state struct {
	m      *Module
	inst   *instance
	h      uint32
	enc    bool
	closed bool
}

// lock takes the module's lock for a call on the state's instance and
// returns the instance, or the error every call of a closed state or a
// failed instance gets (the lock then released). unlock ends the call.
// A pair rather than a closure: a call per frame allocates nothing.
func (st *state) lock() (*instance, error) {
	m := st.m
	m.mu.Lock()
	if st.closed {
		m.mu.Unlock()
		return nil, fmt.Errorf("%s: %w", m.cfg.name, ErrClosed)
	}
	if st.inst.failure != nil {
		m.mu.Unlock()
		return nil, st.inst.failure
	}
	return st.inst, nil
}

// unlock ends a call begun with lock: an instance that failed in it is
// retired (new states get a fresh one).
func (st *state) unlock() {
	if st.inst.failure != nil {
		st.m.failedLocked(st.inst)
	}
	st.m.mu.Unlock()
}

func (st *state) Close() error {
	st.m.mu.Lock()
	if st.closed {
		st.m.mu.Unlock()
		return nil
	}
	st.closed = true
	st.m.mu.Unlock()
	st.m.release(st)
	return nil
}

type encoder struct{ *state }

func (e *encoder) Encode(pcm []int16, dst []byte) ([]byte, error) {
	inst, err := e.lock()
	if err != nil {
		return dst, err
	}
	defer e.unlock()
	return inst.encode(e.h, pcm, dst)
}

type decoder struct {
	*state
	fader codec.Fader
}

func (d *decoder) Decode(payload []byte, dst []int16) ([]int16, error) {
	start := len(dst)
	inst, err := d.lock()
	if err != nil {
		return dst, err
	}
	dst, err = inst.decode(d.h, payload, dst)
	d.unlock()
	if err == nil && !d.m.conceal {
		d.fader.Remember(dst[start:])
	}
	return dst, err
}

func (d *decoder) Conceal(dst []int16) ([]int16, error) {
	inst, err := d.lock()
	if err != nil {
		return dst, err
	}
	if !d.m.conceal {
		d.unlock()
		return d.fader.Conceal(dst), nil
	}
	defer d.unlock()
	return inst.conceal(d.h, dst)
}

var (
	_ io.Closer     = (*encoder)(nil)
	_ codec.Decoder = (*decoder)(nil)
)
