package chatstream

import (
	"io"
	"sync"

	"github.com/sipstreams/sipstreams/sdk/msrp"
)

// inbox reassembles incoming messages from their chunks, by Message-ID,
// placing each chunk at its Byte-Range start. The MSRP layer refuses a
// message beyond the size limit before it gets here; max is checked again,
// and bounds all the partial messages together too, so a peer that starts
// many messages without finishing them cannot grow the inbox past it.
type inbox struct {
	max   int64
	mu    sync.Mutex
	parts map[string][]byte
	total int64 // bytes held in parts
}

// add reads chunk c into its message; it returns the chunk's status.
func (b *inbox) add(c *msrp.Chunk) int {
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
	b.mu.Lock()
	defer b.mu.Unlock()
	buf := b.parts[c.MessageID]
	if grow := end - int64(len(buf)); grow > 0 {
		if b.total+grow > b.max {
			return msrp.StatusStopSending
		}
		buf = append(buf, make([]byte, grow)...)
		b.total += grow
	}
	copy(buf[at:end], data)
	b.parts[c.MessageID] = buf
	return msrp.StatusOK
}

// take removes and returns the bytes of a message.
func (b *inbox) take(id string) []byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	data := b.parts[id]
	delete(b.parts, id)
	b.total -= int64(len(data))
	return data
}
