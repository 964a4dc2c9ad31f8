package chatstream

import (
	"cmp"
	"io"
	"slices"
	"sync"

	"github.com/sipstreams/sipstreams/sdk/msrp"
)

// Bookkeeping charged to the reassembly memory besides the bytes held, so
// that a peer sending many tiny chunks or starting many messages cannot
// grow the inbox past its bound either.
const (
	partialCost = 256 // per message being reassembled
	pieceCost   = 64  // per separate piece of one
)

// readStep is how much of a chunk body is read, and charged, at a time.
const readStep = 16 << 10

// reassembly is the memory the chat plugin spends on incoming messages
// still arriving, shared by all its streams (chat.max_reassembly_memory).
// It only counts: each inbox reserves before it keeps bytes and releases
// when the message completes, fails, or its stream ends.
type reassembly struct {
	mu   sync.Mutex
	used int64
}

// reserve takes n bytes if the total stays within limit.
func (r *reassembly) reserve(n, limit int64) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.used+n > limit {
		return false
	}
	r.used += n
	return true
}

// release gives n bytes back.
func (r *reassembly) release(n int64) {
	if n == 0 {
		return
	}
	r.mu.Lock()
	r.used -= n
	r.mu.Unlock()
}

// inUse returns the bytes reserved now.
func (r *reassembly) inUse() int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.used
}

// inbox reassembles a stream's incoming messages from their chunks, by
// Message-ID. Memory follows the bytes received, never the Byte-Range a
// peer claims: each chunk is kept as a piece at its offset and the
// message is laid out only once it is complete and its pieces cover it
// without a gap. A message may hold at most maxMessage bytes received
// (chat.max_message_size) and all messages of all streams at most
// maxShared (chat.max_reassembly_memory, counted in pool); beyond either
// the chunk is refused with 413.
//
// add and take run on the connection's reader goroutine; close may run on
// any.
type inbox struct {
	maxMessage, maxShared int64
	pool                  *reassembly

	mu     sync.Mutex
	parts  map[string]*partial
	closed bool
}

// partial is a message being reassembled.
type partial struct {
	pieces  []piece
	held    int64 // body bytes received
	charged int64 // reserved in the pool: held plus bookkeeping
}

// piece is a run of bytes at a 0-based offset of the message.
type piece struct {
	at   int64
	data []byte
}

func (p piece) end() int64 { return p.at + int64(len(p.data)) }

func newInbox(maxMessage, maxShared int64, pool *reassembly) *inbox {
	return &inbox{maxMessage: maxMessage, maxShared: maxShared, pool: pool, parts: map[string]*partial{}}
}

// add reads chunk c into its message; it returns the chunk's status.
func (b *inbox) add(c *msrp.Chunk) int {
	at := max(c.Range.Start-1, 0)
	b.mu.Lock()
	p, closed := b.parts[c.MessageID], b.closed
	b.mu.Unlock()
	if closed {
		return msrp.StatusStopSending
	}
	held := int64(0)
	var charge int64
	if p == nil {
		charge = partialCost
	} else {
		held = p.held
	}
	// A chunk that continues the last piece grows it; another starts a
	// piece of its own.
	var last *piece
	if p != nil && len(p.pieces) > 0 && p.pieces[len(p.pieces)-1].end() == at {
		last = &p.pieces[len(p.pieces)-1]
	} else {
		charge += pieceCost
	}
	if !b.pool.reserve(charge, b.maxShared) {
		return msrp.StatusStopSending
	}
	fail := func(code int) int {
		b.pool.release(charge)
		return code
	}
	var data []byte
	if last != nil {
		data = last.data
	}
	start := len(data)
	for {
		if len(data) == cap(data) {
			data = slices.Grow(data, min(max(len(data)-start, 512), readStep))
		}
		n, err := c.Read(data[len(data):cap(data)])
		if n > 0 {
			if held+int64(len(data)-start+n) > b.maxMessage || !b.pool.reserve(int64(n), b.maxShared) {
				return fail(msrp.StatusStopSending)
			}
			charge += int64(n)
			data = data[:len(data)+n]
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return fail(msrp.StatusBadRequest)
		}
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return fail(msrp.StatusStopSending)
	}
	if p == nil {
		p = &partial{}
		b.parts[c.MessageID] = p
	}
	if last != nil {
		last.data = data
	} else {
		p.pieces = append(p.pieces, piece{at: at, data: data})
	}
	p.held += int64(len(data) - start)
	p.charged += charge
	return msrp.StatusOK
}

// take removes message id and returns its bytes, laid out from its
// pieces; ok is false when the pieces leave a gap. Its memory goes back to
// the pool.
func (b *inbox) take(id string) (data []byte, ok bool) {
	b.mu.Lock()
	p := b.parts[id]
	delete(b.parts, id)
	b.mu.Unlock()
	if p == nil {
		return nil, true
	}
	defer b.pool.release(p.charged)
	if len(p.pieces) == 1 && p.pieces[0].at == 0 {
		return p.pieces[0].data, true
	}
	slices.SortStableFunc(p.pieces, func(x, y piece) int { return cmp.Compare(x.at, y.at) })
	end := int64(0)
	for _, pc := range p.pieces {
		if pc.at > end {
			return nil, false
		}
		end = max(end, pc.end())
	}
	// Covered from 0 without a gap: end is at most the bytes received.
	out := make([]byte, end)
	for _, pc := range p.pieces {
		copy(out[pc.at:], pc.data)
	}
	return out, true
}

// close drops every message still arriving and gives its memory back;
// later chunks are refused. A second close does nothing.
func (b *inbox) close() {
	b.mu.Lock()
	var n int64
	for _, p := range b.parts {
		n += p.charged
	}
	b.parts, b.closed = nil, true
	b.mu.Unlock()
	b.pool.release(n)
}
