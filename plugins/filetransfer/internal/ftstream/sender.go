package ftstream

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/sipstreams/sipstreams/sdk"
	"github.com/sipstreams/sipstreams/sdk/filetransfer"
	"github.com/sipstreams/sipstreams/sdk/msrp"
)

// send is the sender's goroutine (the reference's
// OutgoingFileTransferHandler.start): it asks the receiver how much it
// has when the receiver takes FILE_OFFSET, sends the rest of the file as
// one MSRP message in pieces of file_transfer.chunk_size, streamed from
// the file, and waits for the receiver's REPORTs to confirm the last
// byte. End (s.stop) interrupts it; the outcome is posted here when the
// transfer succeeded or failed, by closed when End interrupted it.
func (s *stream) send(sess *msrp.Session) {
	defer s.wg.Done()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-s.stop:
			cancel()
		case <-ctx.Done():
		}
	}()
	s.mu.Lock()
	path, sel := s.path, s.sel
	s.mu.Unlock()

	var offset int64
	if m := s.Base.Remote(); m != nil {
		if _, ok := attribute(m.Attributes, filetransfer.AttrFileOffset); ok {
			offset = s.askOffset(ctx, sess, sel.Size)
		}
	}
	if ctx.Err() != nil {
		return
	}
	f, err := os.Open(path)
	if err != nil {
		s.fail("transferring", err, "")
		return
	}
	defer f.Close()
	if st, err := f.Stat(); err != nil || st.Size() != sel.Size {
		s.fail("transferring", fmt.Errorf("the file changed since it was offered"), "")
		return
	}
	s.mu.Lock()
	s.result.ResumedFrom = offset
	s.mu.Unlock()
	d, err := s.Base.Send(ctx, msrp.Outgoing{
		ContentType:   sel.Type,
		Body:          io.NewSectionReader(f, offset, sel.Size-offset),
		Size:          sel.Size - offset,
		Start:         offset + 1,
		Total:         sel.Size,
		MessageID:     s.msgID,
		SuccessReport: true,
		FailureReport: msrp.ReportYes,
		RangeEndStar:  true,
	})
	if err != nil {
		if ctx.Err() == nil {
			s.fail("transferring", err, filetransfer.ReasonInterruptedTransfer)
		}
		return
	}
	select {
	case <-d.Done():
	case <-ctx.Done():
		d.Cancel()
		return
	}
	if r := d.Result(); r.Err != nil {
		if ctx.Err() != nil || errors.Is(r.Err, msrp.ErrClosed) {
			return // interrupted: closed posts the outcome
		}
		s.fail("transferring", errors.New(failureText(r)), filetransfer.ReasonIncompleteTransfer)
		return
	}
	s.mu.Lock()
	s.sent = true
	s.mu.Unlock()
	select {
	case <-s.confirmed:
		s.mu.Lock()
		s.result.TransferredBytes = sel.Size
		s.endLocked(false, "")
		s.mu.Unlock()
	case comment := <-s.refused:
		s.fail("transferring", errors.New(comment), comment)
	case <-ctx.Done():
	}
}

// failureText is a transaction's failure: its code and comment.
func failureText(r msrp.Result) string {
	if r.Code == 0 {
		return r.Err.Error()
	}
	return fmt.Sprintf("%d %s", r.Code, r.Comment)
}

// askOffset sends FILE_OFFSET and returns where to go on from: the
// receiver's Offset when it answered 200 with a usable one, else 0.
func (s *stream) askOffset(ctx context.Context, sess *msrp.Session, size int64) int64 {
	resp, err := sess.RequestMessage(ctx, filetransfer.MethodFileOffset, nil)
	if err != nil || resp.StatusCode != msrp.StatusOK {
		return 0
	}
	return parseOffset(resp.Header(filetransfer.HeaderOffset), size)
}

// parseOffset reads the receiver's Offset header: the bytes it has of a
// file of size bytes. Anything but a decimal count below the size means
// "start over" (0).
func parseOffset(v string, size int64) int64 {
	v = strings.TrimSpace(v)
	if v == "" || len(v) > 19 || strings.Trim(v, "0123456789") != "" {
		return 0
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 || n >= size {
		return 0
	}
	return n
}

// handleReport takes the receiver's REPORTs on the file: a success
// REPORT confirms bytes up to its range's end (FileTransferHandlerProgress;
// the last byte completes the transfer), a failure one ends it.
func (s *stream) handleReport(_ context.Context, r *msrp.Report) {
	if r.MessageID != s.msgID || s.dir != sdk.SendOnly {
		return
	}
	if r.Status.Code != msrp.StatusOK {
		comment := r.Status.Comment
		if comment == "" {
			comment = msrp.StatusText(r.Status.Code)
		}
		select {
		case s.refused <- comment:
		default:
		}
		return
	}
	s.mu.Lock()
	total := s.sel.Size
	end := r.Range.End
	if end < 0 || end > total {
		s.mu.Unlock()
		return
	}
	if end > s.acked {
		s.acked = end
	}
	done := s.acked == total
	s.mu.Unlock()
	if s.progress.due(done) {
		s.env.Post(filetransfer.HandlerProgress, filetransfer.ProgressData{TransferredBytes: end, TotalBytes: total})
	}
	if done {
		select {
		case <-s.confirmed:
		default:
			close(s.confirmed)
		}
	}
}
