package ftstream

import (
	"context"
	"crypto/sha1" //nolint:gosec // RFC 5547 names SHA-1
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/pion/sdp/v3"
	"github.com/sipstreams/sipstreams/sdk"
	"github.com/sipstreams/sipstreams/sdk/filetransfer"
	"github.com/sipstreams/sipstreams/sdk/msrp"
	"github.com/sipstreams/sipstreams/sdk/msrpstream"
)

// stream is one file transfer: a sender (local sendonly) or a receiver
// (local recvonly).
type stream struct {
	*msrpstream.Base

	env       *sdk.Env
	account   *sdk.Account
	now       func() time.Time
	chunkSize int
	msgID     string // the Message-ID the file is sent under
	progress  throttle

	// Set by the factory, then read-only.
	dir      sdk.MediaDirection // ours: SendOnly or RecvOnly
	incoming bool               // built from a peer's offer

	mu         sync.Mutex
	sel        filetransfer.Selector // the file as we describe it
	transferID string
	path       string // sender: the file to send
	saveDir    string // receiver: where to save ("" = the setting)
	endReason  string // set_end_reason
	initDone   bool   // HandlerDidInitialize posted
	notInit    bool   // MediaStreamDidNotInitialize posted: nothing may follow
	started    bool   // HandlerDidStart posted
	ended      bool
	didEnd     bool // HandlerDidEnd posted
	sent       bool // sender: the whole file was handed to MSRP
	acked      int64
	result     filetransfer.DidEndData
	rcv        *receiver
	stop       chan struct{} // closed by End: the sender returns
	wg         sync.WaitGroup
	// Signals from the REPORT handler to the sender.
	confirmed chan struct{} // closed once REPORTs confirm the last byte
	refused   chan string   // a failure REPORT's comment
}

var (
	_ sdk.Stream          = (*stream)(nil)
	_ sdk.PrepareDeferrer = (*stream)(nil)
)

func newStream(env *sdk.Env, account *sdk.Account, now func() time.Time) *stream {
	return &stream{
		env:       env,
		account:   account,
		now:       now,
		chunkSize: chunkSize(account),
		msgID:     msrp.NewMessageID(),
		progress:  throttle{every: filetransfer.ProgressInterval, now: now},
		stop:      make(chan struct{}),
		confirmed: make(chan struct{}),
		refused:   make(chan string, 1),
	}
}

// chunkSize reads file_transfer.chunk_size.
func chunkSize(a *sdk.Account) int {
	v := strings.TrimSpace(a.Setting(filetransfer.SettingChunkSize, ""))
	if n, err := strconv.Atoi(v); err == nil && n >= 1024 && n <= 16<<20 {
		return n
	}
	return filetransfer.DefaultChunkSize
}

// DeferPrepare makes the session initialize a stream built from an offer
// only when it is accepted: the application names the file to send or the
// directory to save in first, as the reference's does before accept.
func (s *stream) DeferPrepare() bool { return s.incoming }

// baseEnv is the Env given to the MSRP base: its notifications pass
// through s.observe on their way to the host.
func (s *stream) baseEnv() *sdk.Env {
	return s.env.Observed(s.observe)
}

// observe wakes the sender when the stream fails. It runs with the base's
// lock held: it must not call the base nor wait for s.mu holders that do.
func (s *stream) observe(name string) {
	switch name {
	case sdk.MediaStreamDidFail:
		s.mu.Lock()
		defer s.mu.Unlock()
		s.stopLocked()
	case sdk.MediaStreamDidNotInitialize:
		s.mu.Lock()
		defer s.mu.Unlock()
		s.notInit = true
	}
}

// postPreparing posts a notification of the preparation unless End came
// or initialization failed: MediaStreamDidNotInitialize is then posted
// (End sets ended before the base posts it), and a stream posts nothing
// after it.
func (s *stream) postPreparing(name string, data any) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ended || s.notInit {
		return false
	}
	s.env.Post(name, data)
	return true
}

func (s *stream) stopLocked() {
	select {
	case <-s.stop:
	default:
		close(s.stop)
	}
}

// config is what the MSRP base needs to know about the type.
func (s *stream) config() msrpstream.Config {
	return msrpstream.Config{
		MediaType:   filetransfer.MediaType,
		AcceptTypes: filetransfer.AcceptTypes(),
		Direction:   s.dir,
		Prepare:     s.prepare,
		Handler: msrpstream.Handler{
			Send:     s.handleChunk,
			Complete: s.handleComplete,
			Report:   s.handleReport,
			Methods:  map[string]func(context.Context, *msrp.Chunk) int{filetransfer.MethodFileOffset: s.handleFileOffset},
			Started:  s.started_,
			Closed:   s.closed,
		},
		MSRP: msrp.Config{ChunkSize: s.chunkSize, Logger: s.env.Logger},
	}
}

// setAttributes gives the base our SDP attributes: a=file-selector,
// a=x-file-offset (we take FILE_OFFSET), a=file-transfer-id, in the
// reference's order.
func (s *stream) setAttributes() {
	s.mu.Lock()
	attrs := []sdp.Attribute{
		{Key: filetransfer.AttrFileSelector, Value: s.sel.String()},
		sdp.NewPropertyAttribute(filetransfer.AttrFileOffset),
	}
	if s.transferID != "" {
		attrs = append(attrs, sdp.Attribute{Key: filetransfer.AttrFileTransferID, Value: s.transferID})
	}
	s.mu.Unlock()
	s.Base.SetAttributes(attrs)
}

// setFile checks the file a sender sends and fills in its selector: the
// name (unless a pull asked for another), the size and the type guessed
// from the name.
func (s *stream) setFile(path string) error {
	if path == "" {
		return sdk.Errorf(sdk.ErrInvalidArgument, "no file given")
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return sdk.Errorf(sdk.ErrInvalidArgument, "file %q: %v", path, err)
	}
	st, err := os.Stat(abs)
	if err != nil {
		return sdk.Errorf(sdk.ErrInvalidArgument, "file %q: %v", path, err)
	}
	if !st.Mode().IsRegular() {
		return sdk.Errorf(sdk.ErrInvalidArgument, "file %q is not a regular file", path)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.sel.Size > 0 && s.sel.Size != st.Size() {
		return sdk.Errorf(sdk.ErrInvalidArgument, "file %q has %d bytes, the selector says %d", path, st.Size(), s.sel.Size)
	}
	s.path = abs
	if s.sel.Name == "" {
		s.sel.Name = filepath.Base(abs)
	}
	if s.sel.Type == "" {
		s.sel.Type = filetransfer.GuessType(s.sel.Name)
	}
	s.sel.Size = st.Size()
	return nil
}

// prepare runs at Initialize, before the MSRP setup (msrpstream
// Config.Prepare): the sender checks its file and hashes it when no hash
// was given; the receiver of a push claims its partial file. It posts
// FileTransferHandlerDidInitialize or DidNotInitialize.
func (s *stream) prepare(ctx context.Context) error {
	var err error
	if s.dir == sdk.SendOnly {
		err = s.prepareSender(ctx)
	} else {
		err = s.prepareReceiver(nil)
	}
	if ctx.Err() != nil {
		return ctx.Err() // End came: nothing more is posted
	}
	if err != nil {
		s.postPreparing(filetransfer.HandlerDidNotInitialize, filetransfer.ReasonData{Reason: sdk.ReasonOf(err)})
		return err
	}
	s.setAttributes()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ended || s.notInit {
		return nil // End came: nothing more is posted
	}
	s.initDone = true
	s.env.Post(filetransfer.HandlerDidInitialize, nil)
	return nil
}

// prepareSender checks the file and hashes it (the reference's
// _calculate_file_hash, 64 KiB reads, HashProgress as it goes).
func (s *stream) prepareSender(ctx context.Context) error {
	s.mu.Lock()
	path, want := s.path, s.sel.Hash
	s.mu.Unlock()
	if path == "" {
		return fmt.Errorf("%s", filetransfer.ReasonNoFile)
	}
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	size := st.Size()
	if size == 0 {
		return fmt.Errorf("%s", filetransfer.ReasonEmptyFile)
	}
	s.mu.Lock()
	s.sel.Size = size
	s.mu.Unlock()
	if !want.IsZero() && !s.incoming {
		return nil // the caller vouches for the hash, as in the reference
	}
	h, err := hashFile(ctx, f, size, func(done int64) {
		if s.progress.due(done == 0 || done == size) {
			s.postPreparing(filetransfer.HandlerHashProgress, filetransfer.HashProgressData{Processed: done, Total: size})
		}
	})
	if err != nil {
		return err
	}
	if !want.IsZero() && h != want {
		// A pull that named the hash of another file.
		return fmt.Errorf("the file does not have the hash asked for (%s)", want)
	}
	s.mu.Lock()
	s.sel.Hash = h
	s.mu.Unlock()
	return nil
}

// hashFile returns the SHA-1 of the size bytes of f, reporting progress.
func hashFile(ctx context.Context, f io.Reader, size int64, progress func(int64)) (filetransfer.Hash, error) {
	h := sha1.New() //nolint:gosec
	buf := make([]byte, 64<<10)
	var done int64
	progress(0)
	for {
		if err := ctx.Err(); err != nil {
			return filetransfer.Hash{}, err
		}
		n, err := f.Read(buf)
		h.Write(buf[:n])
		done += int64(n)
		if n > 0 {
			progress(min(done, size))
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return filetransfer.Hash{}, err
		}
	}
	if done != size {
		return filetransfer.Hash{}, fmt.Errorf("the file changed while it was hashed (%d bytes, then %d)", size, done)
	}
	var sum filetransfer.Hash
	copy(sum[:], h.Sum(nil))
	return sum, nil
}

// Start completes the receiver's view of the file from the sender's
// selector (a pull learns size and hash from the answer) and claims its
// partial file before the peer can send, then starts the base.
func (s *stream) Start(ctx context.Context, req *sdk.StartRequest) error {
	var prepErr error
	if s.dir == sdk.RecvOnly {
		remote := filetransfer.Selector{}
		if _, md, err := sdk.MediaAt(req.RemoteSDP, req.StreamIndex); err == nil {
			if raw, ok := attribute(md.Attributes, filetransfer.AttrFileSelector); ok {
				remote, _ = filetransfer.ParseSelector(raw)
			}
		}
		prepErr = s.prepareReceiver(&remote)
	}
	if err := s.Base.Start(ctx, req); err != nil {
		return err
	}
	if prepErr != nil {
		s.Base.Fail("start", sdk.ReasonOf(prepErr))
	}
	return nil
}

// started_ runs once the session is up (after MediaStreamDidStart):
// FileTransferHandlerDidStart, and the sender starts sending.
func (s *stream) started_(sess *msrp.Session) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ended {
		return
	}
	s.started = true
	s.env.Post(filetransfer.HandlerDidStart, nil)
	if s.dir == sdk.SendOnly {
		s.wg.Add(1)
		go s.send(sess)
	}
}

// End stops the sender and ends the base; the transfer's outcome
// (FileTransferHandlerDidEnd) is posted once the connection is closed,
// before MediaStreamDidEnd (closed).
func (s *stream) End(ctx context.Context) error {
	s.mu.Lock()
	s.ended = true
	s.stopLocked()
	s.mu.Unlock()
	s.wg.Wait()
	return s.Base.End(ctx)
}

// closed runs in End once no MSRP hook runs any more: the receiver keeps
// what it has for a later resume, and the transfer's end is posted if it
// was not yet.
func (s *stream) closed() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.rcv != nil {
		s.rcv.release()
	}
	if s.didEnd || !s.initDone || s.notInit {
		return // nothing follows MediaStreamDidNotInitialize
	}
	if s.rcv != nil {
		s.result.TransferredBytes, s.result.ResumedFrom = s.rcv.progress()
	} else if s.dir == sdk.SendOnly {
		s.result.TransferredBytes = s.acked
	}
	reason := filetransfer.ReasonInterruptedTransfer
	switch {
	case !s.started && s.endReason != "":
		reason = s.endReason
	case !s.started:
		reason = filetransfer.ReasonRefused
	case s.dir == sdk.SendOnly && s.sent:
		reason = filetransfer.ReasonIncompleteTransfer
	}
	s.endLocked(true, reason)
}

// endLocked posts FileTransferHandlerDidEnd once.
func (s *stream) endLocked(failed bool, reason string) {
	if s.didEnd {
		return
	}
	s.didEnd = true
	d := s.result
	d.Error, d.Reason = failed, reason
	if d.Path == "" && s.dir == sdk.SendOnly {
		d.Path = s.path
	}
	if d.Hash.IsZero() && s.dir == sdk.SendOnly {
		d.Hash = s.sel.Hash
	}
	s.result = d
	s.env.Post(filetransfer.HandlerDidEnd, d)
}

// fail reports an error of the transfer: FileTransferHandlerError, the
// stream's failure (context where), and the transfer's end.
func (s *stream) fail(where string, err error, reason string) {
	msg := err.Error()
	s.env.Post(filetransfer.HandlerError, filetransfer.ErrorData{Error: msg})
	s.Base.Fail(where, msg)
	s.mu.Lock()
	if reason == "" {
		reason = msg
	}
	s.endLocked(true, reason)
	s.mu.Unlock()
}

// Invoke serves set_file, set_save_directory and set_end_reason.
func (s *stream) Invoke(_ context.Context, req *sdk.InvokeRequest) (*sdk.InvokeResponse, error) {
	switch req.Method {
	case filetransfer.MethodSetFile:
		return sdk.HandleInvoke(req, func(a filetransfer.FileArgs) (struct{}, error) {
			if s.dir != sdk.SendOnly {
				return struct{}{}, sdk.Errorf(sdk.ErrIllegalState, "set_file on a stream that receives")
			}
			if err := s.beforeInitialize("set_file"); err != nil {
				return struct{}{}, err
			}
			return struct{}{}, s.setFile(a.Path)
		})
	case filetransfer.MethodSetSaveDirectory:
		return sdk.HandleInvoke(req, func(a filetransfer.DirectoryArgs) (struct{}, error) {
			if s.dir != sdk.RecvOnly {
				return struct{}{}, sdk.Errorf(sdk.ErrIllegalState, "set_save_directory on a stream that sends")
			}
			if err := s.beforeInitialize("set_save_directory"); err != nil {
				return struct{}{}, err
			}
			if a.Directory == "" {
				return struct{}{}, sdk.Errorf(sdk.ErrInvalidArgument, "no directory given")
			}
			s.mu.Lock()
			s.saveDir = a.Directory
			s.mu.Unlock()
			return struct{}{}, nil
		})
	case filetransfer.MethodSetEndReason:
		return sdk.HandleInvoke(req, func(a filetransfer.ReasonArgs) (struct{}, error) {
			s.mu.Lock()
			s.endReason = a.Reason
			s.mu.Unlock()
			return struct{}{}, nil
		})
	}
	return nil, sdk.Errorf(sdk.ErrUnknownMethod, "%q", req.Method)
}

// beforeInitialize refuses what may only be set before Initialize (the
// reference: "cannot set save_directory, transfer is in progress").
func (s *stream) beforeInitialize(op string) error {
	if _, err := s.Base.LocalMedia(); err == nil {
		return sdk.Errorf(sdk.ErrIllegalState, "%s after the stream was initialized", op)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ended || s.initDone {
		return sdk.Errorf(sdk.ErrIllegalState, "%s after the stream was initialized", op)
	}
	return nil
}

// Attributes returns the transfer's attributes; MSRP streams do not
// support hold.
func (s *stream) Attributes(context.Context) (*sdk.Attributes, error) {
	s.mu.Lock()
	own := filetransfer.Attributes{
		Direction:  s.dir,
		Selector:   s.sel,
		TransferID: s.transferID,
		Path:       s.path,
		Finished:   s.didEnd && !s.result.Error,
	}
	if s.dir == sdk.SendOnly {
		own.TransferredBytes = s.acked
	} else {
		own.Path = s.result.Path
		if s.rcv != nil {
			own.TransferredBytes, own.ResumedFrom = s.rcv.progress()
		}
	}
	s.mu.Unlock()
	if m := s.Base.Remote(); m != nil {
		own.RemotePath = msrp.FormatPath(m.Path)
	} else if m := s.Base.Offer(); m != nil {
		own.RemotePath = msrp.FormatPath(m.Path)
	}
	if lm, err := s.Base.LocalMedia(); err == nil {
		own.LocalPath = msrp.FormatPath(lm.Path)
	}
	return sdk.NewAttributes(own)
}

// throttle spaces progress notifications.
type throttle struct {
	every time.Duration
	now   func() time.Time
	mu    sync.Mutex
	last  time.Time
}

// due reports whether a notification may be posted now; force always.
func (t *throttle) due(force bool) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	if !force && now.Sub(t.last) < t.every {
		return false
	}
	t.last = now
	return true
}
