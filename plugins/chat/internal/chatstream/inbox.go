package chatstream

import (
	"io"
	"sync"

	"github.com/sipstreams/sipstreams/sdk/msrp"
)

// inbox reassembles incoming messages from their chunks, by Message-ID,
// placing each chunk at its Byte-Range start. The MSRP layer refuses a
// message beyond the size limit before it gets here; max is checked again
// so the inbox never grows past it.
type inbox struct {
	max   int64
	mu    sync.Mutex
	parts map[string][]byte
}

// add reads chunk c into its message; it returns the chunk's status.
func (b *inbox) add(c *msrp.Chunk) int {
	b.mu.Lock()
	buf := b.parts[c.MessageID]
	b.mu.Unlock()
	at := max(c.Range.Start-1, 0)
	if at > b.max {
		return msrp.StatusStopSending
	}
	data, err := io.ReadAll(io.LimitReader(c, b.max-at+1))
	if err != nil {
		return msrp.StatusBadRequest
	}
	end := at + int64(len(data))
	if end > b.max {
		return msrp.StatusStopSending
	}
	if int64(len(buf)) < end {
		buf = append(buf, make([]byte, end-int64(len(buf)))...)
	}
	copy(buf[at:end], data)
	b.mu.Lock()
	b.parts[c.MessageID] = buf
	b.mu.Unlock()
	return msrp.StatusOK
}

// take removes and returns the bytes of a message.
func (b *inbox) take(id string) []byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	data := b.parts[id]
	delete(b.parts, id)
	return data
}
