package rtpmux

import (
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
)

const (
	// batchSize is the most datagrams one system call reads or sends.
	batchSize = 64
	// maxDatagram is the largest datagram read; longer ones are cut.
	maxDatagram = 1500
	// maxQueued is how many datagrams may wait for the writer; beyond,
	// a sender writes its datagram itself.
	maxQueued = 8192
	// socketBuffer is the kernel buffer asked for each way of a shared
	// socket: 4 MiB holds about a second of 1,000 calls' packets.
	socketBuffer = 4 << 20
)

// writer sends what the sessions queued on one socket, in batches.
type writer struct {
	conn   *net.UDPConn
	logger *slog.Logger
	out    *batchWriter

	mu       sync.Mutex
	cur      *queue // filled by WriteTo
	spare    *queue // the writer's while it sends cur's predecessor
	stopping bool

	wake    chan struct{}
	done    chan struct{}
	stopped chan struct{}

	sent, calls, errors atomic.Uint64
}

// queue is a batch of datagrams to send; its buffers are reused.
type queue struct {
	n    int
	bufs [][]byte
	to   []netip.AddrPort
}

func (q *queue) add(p []byte, to netip.AddrPort) {
	if q.n == len(q.bufs) {
		q.bufs = append(q.bufs, make([]byte, 0, 256))
		q.to = append(q.to, netip.AddrPort{})
	}
	q.bufs[q.n] = append(q.bufs[q.n][:0], p...)
	q.to[q.n] = to
	q.n++
}

func newWriter(c *net.UDPConn, logger *slog.Logger) (*writer, error) {
	bw, err := newBatchWriter(c)
	if err != nil {
		return nil, err
	}
	return &writer{
		conn: c, logger: logger, out: bw, cur: &queue{}, spare: &queue{},
		wake: make(chan struct{}, 1), done: make(chan struct{}), stopped: make(chan struct{}),
	}, nil
}

// write queues a copy of p for to.
func (w *writer) write(p []byte, to netip.AddrPort) error {
	w.mu.Lock()
	if w.stopping {
		w.mu.Unlock()
		return ErrClosed
	}
	q := w.cur
	if q.n >= maxQueued {
		// The writer is far behind: do not queue without bound.
		w.mu.Unlock()
		w.calls.Add(1)
		if _, err := w.conn.WriteToUDPAddrPort(p, to); err != nil {
			w.errors.Add(1)
			return err
		}
		w.sent.Add(1)
		return nil
	}
	q.add(p, to)
	first := q.n == 1
	w.mu.Unlock()
	if first {
		select {
		case w.wake <- struct{}{}:
		default:
		}
	}
	return nil
}

// run sends queued datagrams until stop; it flushes the queue first.
func (w *writer) run() {
	defer close(w.stopped)
	for {
		select {
		case <-w.wake:
			w.flush()
		case <-w.done:
			w.flush()
			return
		}
	}
}

// flush sends the queue, swapping it for the spare each round, until it is
// empty.
func (w *writer) flush() {
	for {
		w.mu.Lock()
		q := w.cur
		if q.n == 0 {
			w.mu.Unlock()
			return
		}
		w.cur, w.spare = w.spare, nil
		w.mu.Unlock()
		sent, calls, errs, err := w.out.send(q.bufs[:q.n], q.to[:q.n])
		w.sent.Add(uint64(sent))
		w.calls.Add(uint64(calls))
		if errs > 0 {
			w.errors.Add(uint64(errs))
			w.logger.Debug("shared RTP socket send", "local", w.conn.LocalAddr(), "failed", errs, "err", err)
		}
		q.n = 0
		w.mu.Lock()
		w.spare = q
		w.mu.Unlock()
	}
}

// stop makes later writes fail, sends what is queued and waits for run.
func (w *writer) stop() {
	w.mu.Lock()
	if w.stopping {
		w.mu.Unlock()
		return
	}
	w.stopping = true
	w.mu.Unlock()
	close(w.done)
	<-w.stopped
}
