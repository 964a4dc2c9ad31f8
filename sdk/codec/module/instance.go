package module

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"

	"github.com/sipstreams/sipstreams/sdk/codec"
	"github.com/sipstreams/sipstreams/sdk/codec/module/internal/meter"
)

// ioHalf splits the I/O area: input first, output second.
const ioHalf = codec.IOSize / 2

// functions are an instance's exports.
type functions struct {
	initialize, abi, describe, io        api.Function
	encNew, encFree, encode              api.Function
	decNew, decFree, decode, concealFunc api.Function
}

// instance is one instantiation of a module, serving many states. Its
// calls are serialised by the module's lock. Each call gets the module's
// loop budget in the instance's fuel global (package meter): a call that
// loops past it traps.
type instance struct {
	m       *Module
	mod     api.Module
	mem     api.Memory
	fuel    api.MutableGlobal
	fns     functions
	io      uint32
	stack   [5]uint64
	states  int
	failure error // set once the instance failed: every call gets it
	closed  bool
}

// instantiate makes a fresh instance: WASI without files, environment or
// output, and whose sleeps return at once (a sleeping loop spends its
// budget like any other), _initialize run, the I/O area located and
// checked.
func (m *Module) instantiate(ctx context.Context) (*instance, error) {
	mcfg := wazero.NewModuleConfig().
		WithName("").
		WithStartFunctions().
		WithStdout(io.Discard).
		WithStderr(io.Discard).
		WithSysNanotime().
		WithSysWalltime().
		WithNanosleep(func(int64) {}).
		WithRandSource(rand.Reader)
	mod, err := m.rt.InstantiateModule(ctx, m.compiled, mcfg)
	if err != nil {
		return nil, fmt.Errorf("%w: instantiate: %v", ErrLoadCheck, err)
	}
	fuel, ok := mod.ExportedGlobal(meter.Global).(api.MutableGlobal)
	if !ok {
		_ = mod.Close(context.Background())
		return nil, fmt.Errorf("%w: the instrumented module has no fuel", ErrLoadCheck)
	}
	inst := &instance{m: m, mod: mod, mem: mod.ExportedMemory(codec.ExportMemory), fuel: fuel}
	f := mod.ExportedFunction
	inst.fns = functions{
		initialize: f(codec.ExportInitialize), abi: f(codec.ExportABI), describe: f(codec.ExportDescribe), io: f(codec.ExportIO),
		encNew: f(codec.ExportEncoderNew), encFree: f(codec.ExportEncoderFree), encode: f(codec.ExportEncode),
		decNew: f(codec.ExportDecoderNew), decFree: f(codec.ExportDecoderFree), decode: f(codec.ExportDecode),
		concealFunc: f(codec.ExportConceal),
	}
	ok = false
	defer func() {
		if !ok {
			_ = mod.Close(context.Background())
		}
	}()
	if inst.fns.initialize != nil {
		if err := inst.call(codec.ExportInitialize, inst.fns.initialize, inst.stack[:]); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrLoadCheck, err)
		}
	}
	if err := inst.call(codec.ExportIO, inst.fns.io, inst.stack[:]); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrLoadCheck, err)
	}
	inst.io = uint32(inst.stack[0])
	if size := inst.mem.Size(); uint64(inst.io)+codec.IOSize > uint64(size) || inst.io == 0 {
		return nil, fmt.Errorf("%w: the I/O area at %d (+%d bytes) is not inside the memory of %d bytes", ErrLoadCheck, inst.io, codec.IOSize, size)
	}
	ok = true
	return inst, nil
}

// close releases the instance's memory (the module's runtime stays).
func (in *instance) close() {
	if in.closed {
		return
	}
	in.closed = true
	if in.failure == nil {
		in.failure = &FailedError{Module: in.m.cfg.name, Call: "close", Err: ErrClosed}
	}
	_ = in.mod.Close(context.Background())
}

// call runs fn with the stack and a full loop budget; a failure makes
// the instance fail.
func (in *instance) call(name string, fn api.Function, stack []uint64) error {
	in.fuel.Set(in.m.cfg.callBudget)
	if err := fn.CallWithStack(context.Background(), stack); err != nil {
		in.fail(name, err)
		return in.failure
	}
	return nil
}

// fail records why the instance cannot go on.
func (in *instance) fail(call string, err error) {
	if in.failure != nil {
		return
	}
	fe := &FailedError{Module: in.m.cfg.name, Call: call, Err: ErrTrap, Detail: in.cause(err).Error()}
	switch {
	case in.fuel.Get() == 0:
		fe.Err, fe.Detail = ErrBudget, fmt.Sprintf("stopped after %d loop iterations", in.m.cfg.callBudget)
	case in.mem != nil && uint64(in.mem.Size()) > uint64(in.m.cfg.memoryLimit)*pageSize*3/4:
		// A failure with most of the memory in use: memory.grow
		// refused at the limit is the likely cause.
		fe.Err, fe.Detail = ErrMemoryLimit, fmt.Sprintf("%d bytes in use, limit %d: %s", in.mem.Size(), in.m.cfg.memoryLimit*pageSize, fe.Detail)
	}
	in.failure = fe
}

// cause is err without wazero's stack trace lines.
func (in *instance) cause(err error) error {
	msg := err.Error()
	if i := strings.Index(msg, "\nwasm stack trace:"); i >= 0 {
		msg = msg[:i]
	}
	return errors.New(msg)
}

// cString reads a NUL-terminated string of at most max bytes at ptr.
func (in *instance) cString(ptr uint32, max int) ([]byte, error) {
	size := in.mem.Size()
	if ptr == 0 || ptr >= size {
		return nil, fmt.Errorf("pointer %d outside the memory of %d bytes", ptr, size)
	}
	n := min(uint32(max), size-ptr)
	b, _ := in.mem.Read(ptr, n)
	for i, c := range b {
		if c == 0 {
			return append([]byte(nil), b[:i]...), nil
		}
	}
	return nil, fmt.Errorf("no NUL within %d bytes", max)
}

// newState makes an encoder (enc) or decoder state: its handle.
func (in *instance) newState(enc bool) (uint32, error) {
	fn, name := in.fns.decNew, codec.ExportDecoderNew
	if enc {
		fn, name = in.fns.encNew, codec.ExportEncoderNew
	}
	if err := in.call(name, fn, in.stack[:]); err != nil {
		return 0, err
	}
	h := uint32(in.stack[0])
	if h == 0 {
		return 0, fmt.Errorf("codec module %s: %s gave no state", in.m.cfg.name, name)
	}
	return h, nil
}

func (in *instance) free(h uint32, enc bool) error {
	fn, name := in.fns.decFree, codec.ExportDecoderFree
	if enc {
		fn, name = in.fns.encFree, codec.ExportEncoderFree
	}
	in.stack[0] = uint64(h)
	return in.call(name, fn, in.stack[:])
}

// result turns a negative result into an error.
func (in *instance) result(call string, r int32) error {
	switch r {
	case codec.ResultFrameSize:
		return fmt.Errorf("codec module %s: %s: %w", in.m.cfg.name, call, codec.ErrFrameSize)
	case codec.ResultCorruptPayload:
		return fmt.Errorf("codec module %s: %s: %w", in.m.cfg.name, call, codec.ErrCorruptPayload)
	}
	return fmt.Errorf("codec module %s: %s failed (%d)", in.m.cfg.name, call, r)
}

// badResult makes the instance fail for a result out of range.
func (in *instance) badResult(call string, format string, args ...any) error {
	if in.failure == nil {
		in.failure = &FailedError{Module: in.m.cfg.name, Call: call, Err: ErrBadResult, Detail: fmt.Sprintf(format, args...)}
	}
	return in.failure
}

func (in *instance) encode(h uint32, pcm []int16, dst []byte) ([]byte, error) {
	if len(pcm) > codec.MaxIOSamples {
		return dst, fmt.Errorf("codec module %s: encode %d samples: %w", in.m.cfg.name, len(pcm), codec.ErrFrameSize)
	}
	buf, ok := in.mem.Read(in.io, uint32(2*len(pcm)))
	if !ok {
		return dst, in.badResult("encode", "the I/O area left the memory")
	}
	for i, s := range pcm {
		binary.LittleEndian.PutUint16(buf[2*i:], uint16(s))
	}
	out := in.io + ioHalf
	in.stack = [5]uint64{uint64(h), uint64(in.io), uint64(len(pcm)), uint64(out), ioHalf}
	if err := in.call("encode", in.fns.encode, in.stack[:]); err != nil {
		return dst, err
	}
	n := int32(in.stack[0])
	if n < 0 {
		return dst, in.result("encode", n)
	}
	if n > ioHalf {
		return dst, in.badResult("encode", "%d bytes written to a room of %d", n, ioHalf)
	}
	b, ok := in.mem.Read(out, uint32(n))
	if !ok {
		return dst, in.badResult("encode", "output outside the memory")
	}
	return append(dst, b...), nil
}

func (in *instance) decode(h uint32, payload []byte, dst []int16) ([]int16, error) {
	if len(payload) > ioHalf {
		return dst, fmt.Errorf("codec module %s: decode %d bytes: %w", in.m.cfg.name, len(payload), codec.ErrCorruptPayload)
	}
	if !in.mem.Write(in.io, payload) {
		return dst, in.badResult("decode", "the I/O area left the memory")
	}
	out := in.io + ioHalf
	in.stack = [5]uint64{uint64(h), uint64(in.io), uint64(len(payload)), uint64(out), codec.MaxIOSamples}
	if err := in.call("decode", in.fns.decode, in.stack[:]); err != nil {
		return dst, err
	}
	return in.samples("decode", out, int32(in.stack[0]), dst)
}

func (in *instance) conceal(h uint32, dst []int16) ([]int16, error) {
	out := in.io + ioHalf
	in.stack = [5]uint64{uint64(h), uint64(out), codec.MaxIOSamples}
	if err := in.call("conceal", in.fns.concealFunc, in.stack[:]); err != nil {
		return dst, err
	}
	return in.samples("conceal", out, int32(in.stack[0]), dst)
}

// samples appends the n samples a call wrote at out to dst.
func (in *instance) samples(call string, out uint32, n int32, dst []int16) ([]int16, error) {
	if n < 0 {
		return dst, in.result(call, n)
	}
	if n > codec.MaxIOSamples {
		return dst, in.badResult(call, "%d samples written to a room of %d", n, codec.MaxIOSamples)
	}
	b, ok := in.mem.Read(out, uint32(2*n))
	if !ok {
		return dst, in.badResult(call, "output outside the memory")
	}
	for i := 0; i < int(n); i++ {
		dst = append(dst, int16(binary.LittleEndian.Uint16(b[2*i:])))
	}
	return dst, nil
}
