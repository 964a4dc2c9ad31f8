package ftstream

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/sipstreams/sipstreams/plugins/filetransfer/internal/partial"
	"github.com/sipstreams/sipstreams/plugins/filetransfer/internal/safename"
	"github.com/sipstreams/sipstreams/plugins/filetransfer/internal/sink"
	"github.com/sipstreams/sipstreams/sdk"
	"github.com/sipstreams/sipstreams/sdk/filetransfer"
	"github.com/sipstreams/sipstreams/sdk/msrp"
)

// checkpointEvery is how often a receiver makes what it received durable
// and records it for a resume, so that even its own crash loses little.
const checkpointEvery = 10 * time.Second

// receiver is the receiving end of a stream: the partial file and the
// sink writing into it. Its methods run on the MSRP connection's reader
// goroutine, then release in End.
type receiver struct {
	mu         sync.Mutex
	part       *partial.Partial
	sink       *sink.Sink
	name       string // the safe name to save under
	want       filetransfer.Hash
	msgID      string // the message carrying the file, once it began
	done       bool   // completed, failed or released
	checkpoint time.Time
}

// progress returns the bytes received and where the transfer resumed.
func (r *receiver) progress() (int64, int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.sink.Offset(), r.sink.ResumedFrom()
}

// release keeps what was received for a resume (or deletes it when it
// cannot be resumed) unless the transfer completed.
func (r *receiver) release() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.done {
		return
	}
	r.done = true
	_ = r.part.Keep(r.sink.Offset(), r.sink.Hash())
	r.sink.Close()
	r.part.Close()
}

// prepareReceiver claims the partial file once the file's size is known:
// at Initialize for a push (the offer's selector), at Start for a pull
// (remote is the answer's selector, which completes ours).
func (s *stream) prepareReceiver(remote *filetransfer.Selector) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if remote != nil {
		if s.sel.Name == "" {
			s.sel.Name = remote.Name
		}
		if s.sel.Type == "" {
			s.sel.Type = remote.Type
		}
		if s.sel.Size <= 0 {
			s.sel.Size = remote.Size
		}
		if s.sel.Hash.IsZero() {
			s.sel.Hash = remote.Hash
		}
	}
	if s.rcv != nil {
		return nil
	}
	dir := s.saveDir
	if dir == "" {
		dir = strings.TrimSpace(s.account.Setting(filetransfer.SettingDirectory, ""))
	}
	if dir == "" {
		var err error
		if dir, err = defaultDirectory(); err != nil {
			return err
		}
	}
	if s.sel.Size <= 0 {
		if remote == nil {
			return nil // a pull: the answer will say
		}
		return errors.New("the sender's file-selector has no size")
	}
	name := "file"
	if s.sel.Name != "" {
		var err error
		if name, err = safename.Sanitize(s.sel.Name); err != nil {
			return fmt.Errorf("file-selector name: %w", err)
		}
	}
	store, err := partial.Open(dir, partial.WithClock(s.now))
	if err != nil {
		return err
	}
	p, err := store.Claim(s.sel.Hash, s.sel.Size, s.sel.Name)
	if err != nil {
		return err
	}
	s.rcv = &receiver{part: p, sink: sink.New(p.File, p.Hash, p.Offset, s.sel.Size), name: name, want: s.sel.Hash, checkpoint: s.now()}
	return nil
}

// handleChunk writes a chunk of the file (the reference's _handle_SEND
// and process_chunk): refused with 413 on a stream that sends, with 415
// (and the stream failed) for CPIM, with 413 (and the transfer failed)
// when it does not continue the file, brings more than the size, or
// cannot be written.
func (s *stream) handleChunk(_ context.Context, c *msrp.Chunk) int {
	if s.dir == sdk.SendOnly {
		return refuseChunk(c, msrp.StatusStopSending, "Unwanted Message")
	}
	if ct, _, _ := strings.Cut(c.ContentType, ";"); strings.EqualFold(strings.TrimSpace(ct), "message/cpim") {
		s.env.Post(filetransfer.HandlerError, filetransfer.ErrorData{Error: filetransfer.ReasonCPIM})
		s.Base.Fail("reading", filetransfer.ReasonCPIM)
		return refuseChunk(c, msrp.StatusUnsupportedMedia, "Invalid Content-Type")
	}
	s.mu.Lock()
	r := s.rcv
	s.mu.Unlock()
	if r == nil {
		return msrp.StatusNoSuchSession
	}
	r.mu.Lock()
	if r.done || (r.msgID != "" && r.msgID != c.MessageID) {
		r.mu.Unlock()
		c.ResponseComment = "Unwanted Message"
		return msrp.StatusStopSending
	}
	first := r.msgID == ""
	if err := r.sink.Check(c.Range); err != nil {
		r.mu.Unlock()
		s.receiveFailed(err)
		return msrp.StatusStopSending
	}
	r.msgID = c.MessageID
	if first && c.Range.Start > 1 {
		c.StartsMessage = true // resumed from our offset
	}
	_, err := r.sink.Copy(c)
	offset, size := r.sink.Offset(), r.sink.Size()
	var we *sink.WriteError
	switch {
	case errors.Is(err, sink.ErrTooLarge), errors.As(err, &we):
		r.mu.Unlock()
		s.receiveFailed(err)
		return msrp.StatusStopSending
	case err != nil:
		r.mu.Unlock()
		return msrp.StatusBadRequest // the connection broke mid-chunk
	}
	r.part.Written(offset)
	if now := s.now(); now.Sub(r.checkpoint) >= checkpointEvery {
		r.checkpoint = now
		_ = r.part.Keep(offset, r.sink.Hash())
	}
	r.mu.Unlock()
	if c.Flag() != msrp.FlagEnd && c.Request.SuccessReport() == msrp.ReportYes {
		// The last chunk's REPORT waits for the hash check.
		_ = c.SendReport(msrp.StatusOK, "")
	}
	if offset < size && s.progress.due(false) {
		s.env.Post(filetransfer.HandlerProgress, filetransfer.ProgressData{TransferredBytes: offset, TotalBytes: size})
	}
	return msrp.StatusOK
}

// refuseChunk refuses a chunk the stream does not take with code and
// comment, in its transaction response and, as the reference does, in a
// REPORT (unless the sender asked for none).
func refuseChunk(c *msrp.Chunk, code int, comment string) int {
	c.ResponseComment = comment
	if c.MessageID != "" && c.Request.FailureReport() != msrp.ReportNo {
		_ = c.SendReport(code, comment)
	}
	return code
}

// receiveFailed ends a transfer the peer broke: what was received is kept
// for a resume, the stream fails.
func (s *stream) receiveFailed(err error) {
	s.fail("reading", err, "")
}

// handleComplete ends the file's message: the file is whole and its hash
// matches (it is put in place under a unique name, the REPORT says 200),
// or it is short (kept, "Incomplete file"), or its hash differs (deleted,
// "File hash mismatch"), or the sender aborted it (kept).
func (s *stream) handleComplete(_ context.Context, c *msrp.Completion) int {
	s.mu.Lock()
	r := s.rcv
	s.mu.Unlock()
	if r == nil {
		return c.Status
	}
	r.mu.Lock()
	if r.done || c.MessageID != r.msgID {
		r.mu.Unlock()
		return c.Status
	}
	if c.Aborted {
		r.mu.Unlock()
		if c.Status == msrp.StatusOK {
			// The sender stopped ('#'): keep what came for later.
			s.mu.Lock()
			s.endLocked(true, filetransfer.ReasonInterruptedTransfer)
			s.mu.Unlock()
		}
		return c.Status
	}
	if !r.sink.Complete() {
		r.mu.Unlock()
		c.ReportComment = filetransfer.ReasonIncompleteFile
		s.mu.Lock()
		s.endLocked(true, filetransfer.ReasonIncompleteFile)
		s.mu.Unlock()
		return msrp.StatusBadRequest
	}
	r.done = true
	sum, size, resumed := r.sink.Sum(), r.sink.Size(), r.sink.ResumedFrom()
	r.sink.Close()
	if !r.want.IsZero() && sum != r.want {
		r.part.Discard()
		r.mu.Unlock()
		c.ReportComment = filetransfer.ReasonHashMismatch
		s.mu.Lock()
		s.result.TransferredBytes = size
		s.endLocked(true, filetransfer.ReasonHashMismatch)
		s.mu.Unlock()
		return msrp.StatusBadRequest
	}
	path, err := r.part.Commit(r.name)
	r.mu.Unlock()
	if err != nil {
		r.part.Discard()
		c.ReportComment = "Could not save the file"
		s.env.Post(filetransfer.HandlerError, filetransfer.ErrorData{Error: err.Error()})
		s.mu.Lock()
		s.endLocked(true, err.Error())
		s.mu.Unlock()
		return msrp.StatusBadRequest
	}
	s.env.Post(filetransfer.HandlerProgress, filetransfer.ProgressData{TransferredBytes: size, TotalBytes: size})
	s.mu.Lock()
	s.result = filetransfer.DidEndData{Path: path, Hash: sum, Verified: !r.want.IsZero(), TransferredBytes: size, ResumedFrom: resumed}
	s.endLocked(false, "")
	s.mu.Unlock()
	return msrp.StatusOK
}

// handleFileOffset answers FILE_OFFSET: 200 with Offset, the bytes we
// have, before the file began to arrive; 413 after, or on a stream that
// sends (the reference's "Unwanted message").
func (s *stream) handleFileOffset(_ context.Context, c *msrp.Chunk) int {
	s.mu.Lock()
	r := s.rcv
	s.mu.Unlock()
	if s.dir != sdk.RecvOnly || r == nil {
		c.ResponseComment = "Unwanted message"
		return msrp.StatusStopSending
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.done || r.sink.Started() {
		c.ResponseComment = "Unwanted message"
		return msrp.StatusStopSending
	}
	c.ResponseHeaders = []msrp.HeaderField{{Name: filetransfer.HeaderOffset, Value: fmt.Sprint(r.sink.Offset())}}
	return msrp.StatusOK
}
