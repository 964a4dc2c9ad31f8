package meter

import (
	"bytes"
	"errors"
	"fmt"
)

// Global is the name under which the instrumented module exports its
// fuel: a mutable i64 global.
const Global = "sipstreams_codec_fuel"

// ErrMalformed means the module could not be read or uses an instruction
// the meter does not know.
var ErrMalformed = errors.New("meter: malformed or unsupported module")

// Section ids.
const (
	secCustom   = 0
	secImport   = 2
	secGlobal   = 6
	secExport   = 7
	secCode     = 10
	kindGlobal  = 3
	opLoop      = 0x03
	valI64      = 0x7E
	blockEmpty  = 0x40
	maxSections = 64
)

// rank is a known section's place in the order the binary format
// requires (the tag section, 13, comes before globals).
var rank = map[byte]int{1: 1, 2: 2, 3: 3, 4: 4, 5: 5, 13: 6, 6: 7, 7: 8, 8: 9, 9: 10, 12: 11, 10: 12, 11: 13}

type section struct {
	id   byte
	body []byte
}

// Instrument returns wasm with the loop budget. It does not change its
// argument.
func Instrument(wasm []byte) ([]byte, error) {
	if len(wasm) < 8 || !bytes.Equal(wasm[:8], []byte("\x00asm\x01\x00\x00\x00")) {
		return nil, fmt.Errorf("%w: not a version 1 binary module", ErrMalformed)
	}
	var secs []section
	r := &reader{b: wasm, pos: 8}
	for r.pos < len(r.b) {
		id := r.byte()
		n := r.u32()
		body := r.bytes(int(n))
		if r.err != nil {
			return nil, r.fail("section %d", id)
		}
		if id != secCustom {
			if _, ok := rank[id]; !ok {
				return nil, fmt.Errorf("%w: unknown section %d", ErrMalformed, id)
			}
		}
		if len(secs) >= maxSections {
			return nil, fmt.Errorf("%w: more than %d sections", ErrMalformed, maxSections)
		}
		secs = append(secs, section{id, body})
	}

	importedGlobals, definedGlobals := uint32(0), uint32(0)
	for _, s := range secs {
		var err error
		switch s.id {
		case secImport:
			importedGlobals, err = countImportedGlobals(s.body)
		case secGlobal:
			gr := &reader{b: s.body}
			if definedGlobals = gr.count("globals"); gr.err != nil {
				err = gr.fail("globals")
			}
		case secExport:
			err = checkExports(s.body)
		}
		if err != nil {
			return nil, err
		}
	}
	fuel := importedGlobals + definedGlobals
	if fuel < importedGlobals {
		return nil, fmt.Errorf("%w: too many globals", ErrMalformed)
	}

	out := append([]byte(nil), wasm[:8]...)
	haveGlobal, haveExport := false, false
	emit := func(id byte, body []byte) {
		out = append(out, id)
		out = appendU32(out, uint32(len(body)))
		out = append(out, body...)
	}
	newGlobal := []byte{valI64, 0x01, 0x42, 0x00, 0x0B} // (mut i64) (i64.const 0)
	newExport := appendName(nil, Global)
	newExport = append(newExport, kindGlobal)
	newExport = appendU32(newExport, fuel)
	for _, s := range secs {
		if s.id != secCustom {
			if !haveGlobal && rank[s.id] > rank[secGlobal] {
				emit(secGlobal, append(appendU32(nil, 1), newGlobal...))
				haveGlobal = true
			}
			if !haveExport && rank[s.id] > rank[secExport] {
				emit(secExport, append(appendU32(nil, 1), newExport...))
				haveExport = true
			}
		}
		switch s.id {
		case secCustom:
			name, err := (&reader{b: s.body}).name()
			if err != nil {
				return nil, err
			}
			if len(name) >= 7 && name[:7] == ".debug_" {
				continue
			}
			emit(s.id, s.body)
		case secGlobal:
			body, err := appendEntry(s.body, newGlobal)
			if err != nil {
				return nil, err
			}
			emit(s.id, body)
			haveGlobal = true
		case secExport:
			body, err := appendEntry(s.body, newExport)
			if err != nil {
				return nil, err
			}
			emit(s.id, body)
			haveExport = true
		case secCode:
			body, err := instrumentCode(s.body, fuel)
			if err != nil {
				return nil, err
			}
			emit(s.id, body)
		default:
			emit(s.id, s.body)
		}
	}
	if !haveGlobal {
		emit(secGlobal, append(appendU32(nil, 1), newGlobal...))
	}
	if !haveExport {
		emit(secExport, append(appendU32(nil, 1), newExport...))
	}
	return out, nil
}

// appendEntry adds entry to a vector section: the count plus one, the
// entries, the new one.
func appendEntry(body, entry []byte) ([]byte, error) {
	r := &reader{b: body}
	n := r.u32()
	if r.err != nil || n == ^uint32(0) {
		return nil, r.fail("vector count")
	}
	out := appendU32(nil, n+1)
	out = append(out, body[r.pos:]...)
	return append(out, entry...), nil
}

// countImportedGlobals reads the import section.
func countImportedGlobals(body []byte) (uint32, error) {
	r := &reader{b: body}
	n := r.count("imports")
	globals := uint32(0)
	for i := uint32(0); i < n && r.err == nil; i++ {
		r.name()
		r.name()
		switch kind := r.byte(); kind {
		case 0x00: // function: type index
			r.u32()
		case 0x01: // table: reftype, limits
			r.byte()
			r.limits()
		case 0x02: // memory
			r.limits()
		case 0x03: // global: valtype, mutability
			r.byte()
			r.byte()
			globals++
		case 0x04: // tag
			r.byte()
			r.u32()
		default:
			return 0, fmt.Errorf("%w: import kind %d", ErrMalformed, kind)
		}
	}
	if r.err != nil {
		return 0, r.fail("imports")
	}
	return globals, nil
}

// checkExports refuses a module that already exports the fuel's name.
func checkExports(body []byte) error {
	r := &reader{b: body}
	n := r.count("exports")
	for i := uint32(0); i < n && r.err == nil; i++ {
		name, _ := r.name()
		r.byte()
		r.u32()
		if name == Global {
			return fmt.Errorf("%w: the module exports %s itself", ErrMalformed, Global)
		}
	}
	if r.err != nil {
		return r.fail("exports")
	}
	return nil
}

// check is the code inserted at the start of every loop iteration:
// trap when the fuel is 0, else take one.
func check(fuel uint32) []byte {
	get := appendU32([]byte{0x23}, fuel) // global.get
	set := appendU32([]byte{0x24}, fuel) // global.set
	var b []byte
	b = append(b, get...)
	b = append(b, 0x50, 0x04, blockEmpty, 0x00, 0x0B) // i64.eqz if unreachable end
	b = append(b, get...)
	b = append(b, 0x42, 0x01, 0x7D) // i64.const 1 i64.sub
	return append(b, set...)
}

// instrumentCode rewrites the code section.
func instrumentCode(body []byte, fuel uint32) ([]byte, error) {
	ins := check(fuel)
	r := &reader{b: body}
	n := r.count("functions")
	out := appendU32(nil, n)
	var fn []byte
	for i := uint32(0); i < n; i++ {
		size := r.u32()
		code := r.bytes(int(size))
		if r.err != nil {
			return nil, r.fail("function %d", i)
		}
		var err error
		fn, err = instrumentFunc(fn[:0], code, ins)
		if err != nil {
			return nil, fmt.Errorf("function %d: %w", i, err)
		}
		out = appendU32(out, uint32(len(fn)))
		out = append(out, fn...)
	}
	if r.pos != len(r.b) {
		return nil, fmt.Errorf("%w: %d bytes after the function bodies", ErrMalformed, len(r.b)-r.pos)
	}
	return out, nil
}

// instrumentFunc copies one function body to out with ins after every
// loop's block type.
func instrumentFunc(out, code, ins []byte) ([]byte, error) {
	r := &reader{b: code}
	groups := r.count("local groups")
	for i := uint32(0); i < groups && r.err == nil; i++ {
		r.u32()
		r.byte()
	}
	if r.err != nil {
		return nil, r.fail("locals")
	}
	out = append(out, code[:r.pos]...)
	depth := 1 // the function's own block
	for depth > 0 {
		if r.pos >= len(r.b) {
			return nil, fmt.Errorf("%w: the body ends inside a block", ErrMalformed)
		}
		start := r.pos
		op := r.byte()
		loop := false
		switch {
		case op == 0x02 || op == 0x04: // block, if
			r.blockType()
			depth++
		case op == opLoop:
			r.blockType()
			depth++
			loop = true
		case op == 0x0B: // end
			depth--
		case op == 0x0C || op == 0x0D: // br, br_if
			r.u32()
		case op == 0x0E: // br_table
			n := r.count("br_table targets")
			for i := uint32(0); i <= n && r.err == nil; i++ {
				r.u32()
			}
		case op == 0x10: // call
			r.u32()
		case op == 0x11: // call_indirect: type, table
			r.u32()
			r.u32()
		case op == 0x1C: // select t*
			n := r.count("select types")
			r.bytes(int(n))
		case op >= 0x20 && op <= 0x26: // local.*, global.*, table.get/set
			r.u32()
		case op >= 0x28 && op <= 0x3E: // loads and stores: memarg
			r.u32()
			r.u32()
		case op == 0x3F || op == 0x40: // memory.size, memory.grow
			r.u32()
		case op == 0x41: // i32.const
			r.sleb(32)
		case op == 0x42: // i64.const
			r.sleb(64)
		case op == 0x43: // f32.const
			r.bytes(4)
		case op == 0x44: // f64.const
			r.bytes(8)
		case op == 0xD0: // ref.null t
			r.byte()
		case op == 0xD2: // ref.func
			r.u32()
		case op == 0xFC:
			r.prefixFC()
		case op == 0xFD:
			r.prefixFD()
		case op == 0x00 || op == 0x01 || op == 0x05 || op == 0x0F || op == 0x1A || op == 0x1B ||
			(op >= 0x45 && op <= 0xC4) || op == 0xD1:
			// no immediates
		default:
			return nil, fmt.Errorf("%w: opcode 0x%02x at byte %d", ErrMalformed, op, start)
		}
		if r.err != nil {
			return nil, r.fail("instruction 0x%02x at byte %d", op, start)
		}
		out = append(out, code[start:r.pos]...)
		if loop {
			out = append(out, ins...)
		}
	}
	if r.pos != len(r.b) {
		return nil, fmt.Errorf("%w: %d bytes after the body's end", ErrMalformed, len(r.b)-r.pos)
	}
	return out, nil
}

// reader reads a binary module; the first error sticks.
type reader struct {
	b   []byte
	pos int
	err error
}

func (r *reader) fail(format string, args ...any) error {
	return fmt.Errorf("%w: %s: %v", ErrMalformed, fmt.Sprintf(format, args...), r.err)
}

func (r *reader) byte() byte {
	if r.err != nil {
		return 0
	}
	if r.pos >= len(r.b) {
		r.err = errors.New("unexpected end")
		return 0
	}
	c := r.b[r.pos]
	r.pos++
	return c
}

func (r *reader) bytes(n int) []byte {
	if r.err != nil {
		return nil
	}
	if n < 0 || n > len(r.b)-r.pos {
		r.err = fmt.Errorf("%d bytes past the end", n)
		return nil
	}
	b := r.b[r.pos : r.pos+n]
	r.pos += n
	return b
}

// uleb reads an unsigned LEB128 of at most bits bits.
func (r *reader) uleb(bits uint) uint64 {
	var v uint64
	for shift := uint(0); ; shift += 7 {
		c := r.byte()
		if r.err != nil {
			return 0
		}
		if shift >= bits || (shift+7 > bits && c&0x7F>>(bits-shift) != 0) {
			r.err = errors.New("LEB128 too long")
			return 0
		}
		v |= uint64(c&0x7F) << shift
		if c&0x80 == 0 {
			return v
		}
	}
}

func (r *reader) u32() uint32 { return uint32(r.uleb(32)) }

// sleb skips a signed LEB128 of at most bits bits.
func (r *reader) sleb(bits uint) {
	for n := uint(0); ; n += 7 {
		c := r.byte()
		if r.err != nil {
			return
		}
		if n >= bits {
			r.err = errors.New("LEB128 too long")
			return
		}
		if c&0x80 == 0 {
			return
		}
	}
}

// count reads a vector's length, which cannot exceed the bytes left.
func (r *reader) count(what string) uint32 {
	n := r.u32()
	if r.err == nil && int(n) > len(r.b)-r.pos {
		r.err = fmt.Errorf("%d %s in %d bytes", n, what, len(r.b)-r.pos)
		return 0
	}
	return n
}

func (r *reader) name() (string, error) {
	n := r.u32()
	b := r.bytes(int(n))
	if r.err != nil {
		return "", r.fail("name")
	}
	return string(b), nil
}

func (r *reader) limits() {
	flags := r.byte()
	r.uleb(64)
	if flags&0x01 != 0 {
		r.uleb(64)
	}
}

// blockType reads a block type: empty, a value type, or a type index
// (a non-negative s33).
func (r *reader) blockType() {
	c := r.byte()
	switch c {
	case blockEmpty, 0x7F, 0x7E, 0x7D, 0x7C, 0x7B, 0x70, 0x6F:
		return
	}
	r.pos--
	r.sleb(33)
}

// prefixFC reads the 0xFC instructions: saturating truncation, bulk
// memory and table instructions.
func (r *reader) prefixFC() {
	switch sub := r.u32(); {
	case r.err != nil:
	case sub <= 7: // trunc_sat
	case sub == 8: // memory.init data, memory
		r.u32()
		r.u32()
	case sub == 9: // data.drop
		r.u32()
	case sub == 10: // memory.copy
		r.u32()
		r.u32()
	case sub == 11: // memory.fill
		r.u32()
	case sub == 12: // table.init elem, table
		r.u32()
		r.u32()
	case sub == 13: // elem.drop
		r.u32()
	case sub == 14: // table.copy
		r.u32()
		r.u32()
	case sub >= 15 && sub <= 17: // table.grow, size, fill
		r.u32()
	default:
		r.err = fmt.Errorf("instruction 0xFC %d", sub)
	}
}

// prefixFD reads the 0xFD instructions: fixed-width SIMD.
func (r *reader) prefixFD() {
	switch sub := r.u32(); {
	case r.err != nil:
	case sub <= 11 || sub == 92 || sub == 93: // loads, stores: memarg
		r.u32()
		r.u32()
	case sub == 12 || sub == 13: // v128.const, i8x16.shuffle
		r.bytes(16)
	case sub >= 21 && sub <= 34: // extract_lane, replace_lane
		r.byte()
	case sub >= 84 && sub <= 91: // load_lane, store_lane: memarg, lane
		r.u32()
		r.u32()
		r.byte()
	case sub <= 275: // the rest take no immediates
	default:
		r.err = fmt.Errorf("instruction 0xFD %d", sub)
	}
}

func appendU32(b []byte, v uint32) []byte {
	for {
		c := byte(v & 0x7F)
		v >>= 7
		if v != 0 {
			b = append(b, c|0x80)
			continue
		}
		return append(b, c)
	}
}

func appendName(b []byte, s string) []byte {
	b = appendU32(b, uint32(len(s)))
	return append(b, s...)
}
