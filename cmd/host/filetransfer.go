package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/sipstreams/sipstreams/framework/notify"
	"github.com/sipstreams/sipstreams/framework/session"
	"github.com/sipstreams/sipstreams/sdk"
	"github.com/sipstreams/sipstreams/sdk/filetransfer"
)

// fileHelp lists the stdin command for file transfers.
const fileHelp = `/send-file FILE`

// fileFlags are what call, send-file and listen do with file transfers.
type fileFlags struct {
	files     stringList // call: files to push, a stream each
	pulls     stringList // call: names of files to pull, a stream each
	saveDir   string     // call: where pulled files are saved ("" = file_transfer.directory)
	acceptDir string     // listen: accept pushed files into this directory
	serveDir  string     // listen: the files peers may pull
}

func (f *fileFlags) registerCall(fs *flag.FlagSet) {
	fs.Var(&f.files, "file", "send this `FILE` in a file-transfer stream of the call (repeatable: a stream per file)")
	fs.Var(&f.pulls, "pull", "ask the peer for the file called `NAME` in a file-transfer stream (repeatable)")
	fs.StringVar(&f.saveDir, "save-dir", "", "save pulled files in this `DIR` (default: the file_transfer.directory setting, ~/Downloads)")
}

func (f *fileFlags) registerListen(fs *flag.FlagSet) {
	fs.StringVar(&f.acceptDir, "accept-files", "", "accept the files peers send, in sessions and proposals of file transfers only, and save them in this `DIR`")
	fs.StringVar(&f.serveDir, "serve-files", "", "let peers pull the files of this `DIR` by name (a pull of any other file is refused)")
}

// cmdSendFile is `sipstreams send-file URI FILE... [flags]`: a session
// with a file-transfer stream per FILE that ends once every transfer
// ended. It exits 0 when every file was sent and confirmed, 1 otherwise.
// It takes the flags call shares with it (--account, --config-dir,
// --json, --route, …) and runs call's core, without a console.
func cmdSendFile(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	c := &callSpec{untilTransferred: true}
	fs := flag.NewFlagSet("send-file", flag.ContinueOnError)
	fs.SetOutput(stderr)
	c.register(fs)
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return 2
	}
	if len(pos) < 2 {
		fmt.Fprintln(stderr, "usage: sipstreams send-file URI FILE [FILE...] [flags]")
		return 2
	}
	c.files.files = pos[1:]
	return c.run(ctx, pos[0], nil, stdout, stderr, c.files.check)
}

// check fails early for a file that cannot be sent or a directory that
// cannot be used.
func (f *fileFlags) check() error {
	for _, p := range f.files {
		st, err := os.Stat(p)
		if err != nil {
			return &mediaOptionError{"--file", err}
		}
		if !st.Mode().IsRegular() {
			return &mediaOptionError{"--file", fmt.Errorf("%s is not a regular file", p)}
		}
		if st.Size() == 0 {
			return &mediaOptionError{"--file", fmt.Errorf("%s: %s", p, filetransfer.ReasonEmptyFile)}
		}
	}
	for flagName, dir := range map[string]string{"--save-dir": f.saveDir, "--accept-files": f.acceptDir, "--serve-files": f.serveDir} {
		if dir == "" {
			continue
		}
		if flagName != "--serve-files" {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return &mediaOptionError{flagName, err}
			}
		}
		if st, err := os.Stat(dir); err != nil || !st.IsDir() {
			return &mediaOptionError{flagName, fmt.Errorf("%s is not a directory", dir)}
		}
	}
	return nil
}

// any reports whether the call carries file transfers.
func (f *fileFlags) any() bool { return len(f.files)+len(f.pulls) > 0 }

// params are the constructor parameters of the call's file streams.
func (f *fileFlags) params() []filetransfer.Params {
	var out []filetransfer.Params
	for _, p := range f.files {
		out = append(out, filetransfer.Push(p))
	}
	for _, name := range f.pulls {
		out = append(out, filetransfer.Pull(name, f.saveDir))
	}
	return out
}

// isFile reports whether st is a file transfer.
func isFile(st session.Stream) bool { return st.Type() == filetransfer.Type }

// onlyFiles reports whether every stream of streams is a file transfer.
func onlyFiles(streams []session.Stream) bool {
	for _, st := range streams {
		if !isFile(st) {
			return false
		}
	}
	return len(streams) > 0
}

// handles reports whether the file flags decide about streams without
// asking: they are all file transfers, each a file the peer sends while
// --accept-files is set, or one it pulls while --serve-files is.
func (f *fileFlags) handles(ctx context.Context, streams []session.Stream) bool {
	if !onlyFiles(streams) || (f.acceptDir == "" && f.serveDir == "") {
		return false
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	for _, st := range streams {
		_, a, err := filetransfer.ReadAttributes(ctx, st)
		if err != nil {
			return false
		}
		if a.Direction == sdk.SendOnly && f.serveDir == "" || a.Direction != sdk.SendOnly && f.acceptDir == "" {
			return false
		}
	}
	return true
}

// offered describes the file-transfer streams of an incoming offer or
// proposal, a line each ("" when there is none).
func offered(ctx context.Context, streams []session.Stream) string {
	var lines []string
	for _, st := range streams {
		if !isFile(st) {
			continue
		}
		_, a, err := filetransfer.ReadAttributes(ctx, st)
		if err != nil {
			continue
		}
		if a.Direction == sdk.SendOnly {
			lines = append(lines, fmt.Sprintf("  the peer asks for the file %q", a.Selector.Name))
			continue
		}
		lines = append(lines, fmt.Sprintf("  the peer sends the file %q (%s, %s)", a.Selector.Name, byteSize(a.Selector.Size), orDefault(a.Selector.Type, "unknown type")))
	}
	return strings.Join(lines, "\n")
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// prepare readies the file-transfer streams among streams before they are
// accepted: a file the peer pushes is saved in dir (--accept-files; ""
// leaves the file_transfer.directory setting); a file the peer pulls is
// served from --serve-files. It returns the streams to accept: a pull
// that cannot be served is left out (and said why on stderr).
func (f *fileFlags) prepare(ctx context.Context, streams []session.Stream, dir string, stderr io.Writer) []session.Stream {
	if !slices.ContainsFunc(streams, isFile) {
		return streams // nothing to ready: no timer, no plugin call
	}
	if f == nil {
		f = &fileFlags{}
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	var out []session.Stream
	for _, st := range streams {
		if !isFile(st) {
			out = append(out, st)
			continue
		}
		_, a, err := filetransfer.ReadAttributes(ctx, st)
		if err != nil {
			fmt.Fprintf(stderr, "sipstreams: file transfer left out: %v\n", err)
			continue
		}
		if a.Direction == sdk.SendOnly {
			path, err := f.served(a.Selector.Name)
			if err == nil {
				err = filetransfer.SetFile(ctx, st, path)
			}
			if err != nil {
				fmt.Fprintf(stderr, "sipstreams: the peer's pull of %q is refused: %v\n", a.Selector.Name, err)
				continue
			}
		} else if dir != "" {
			if err := filetransfer.SetSaveDirectory(ctx, st, dir); err != nil {
				fmt.Fprintf(stderr, "sipstreams: file transfer left out: %v\n", err)
				continue
			}
		}
		out = append(out, st)
	}
	return out
}

// errNotServed is a pull of a file that --serve-files does not hold.
var errNotServed = errors.New("no such file is served")

// served returns the file of --serve-files a pull of name asks for: only
// a plain name of a regular file directly in that directory.
func (f *fileFlags) served(name string) (string, error) {
	if f.serveDir == "" {
		return "", fmt.Errorf("%w (listen --serve-files DIR serves a directory)", errNotServed)
	}
	if name == "" || name != filepath.Base(name) || strings.ContainsAny(name, `/\`) || name == "." || name == ".." {
		return "", fmt.Errorf("%w: %q is not a plain file name", errNotServed, name)
	}
	path := filepath.Join(f.serveDir, name)
	st, err := os.Lstat(path)
	if err != nil || !st.Mode().IsRegular() {
		return "", fmt.Errorf("%w: %q", errNotServed, name)
	}
	return path, nil
}

// byteSize writes n bytes as a person reads it.
func byteSize(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

// decodeData decodes a plugin notification's JSON data into v.
func decodeData(n notify.Notification, v any) bool {
	raw, ok := n.Data.(json.RawMessage)
	return ok && json.Unmarshal(raw, v) == nil
}

// sendFile runs "/send-file FILE" on s: a file-transfer stream pushing
// FILE proposed to the peer, which leaves s once its transfer ended
// (fileTransferEnded).
func (c *console) sendFile(s *session.Session, rest string) {
	st := sendFileCommand(c.ctx, c.app, s, rest, c.stderr)
	if st == nil {
		return
	}
	c.fmu.Lock()
	defer c.fmu.Unlock()
	if c.sent == nil {
		c.sent = map[session.Stream]*session.Session{}
	}
	c.sent[st] = s
}

// fileTransferEnded removes a file stream /send-file added to a running
// session once its transfer ended.
func (c *console) fileTransferEnded(r transferResult) {
	c.fmu.Lock()
	s := c.sent[r.Stream]
	delete(c.sent, r.Stream)
	c.fmu.Unlock()
	if s != nil && s.State() == session.StateConnected {
		printCommandError(c.stderr, "/send-file", s.RemoveStreams([]session.Stream{r.Stream}))
	}
}
