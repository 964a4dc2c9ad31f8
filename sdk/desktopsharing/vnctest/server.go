package vnctest

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Packages and programs the servers and snapshots need.
const (
	serverPackage   = "tigervnc-standalone-server"
	xsetrootPackage = "x11-xserver-utils"
	snapshotPackage = "vncsnapshot"
	startTries      = 3
	readyTimeout    = 15 * time.Second
)

// ServerOptions configure StartServer. Zero values take the defaults: a
// 320×200 screen showing DefaultPicture.
type ServerOptions struct {
	Width, Height int
	Picture       *Picture
}

// Server is a running Xvnc: a private X display whose screen is served
// over RFB on a loopback port, without authentication, to any number of
// clients at once (AlwaysShared).
type Server struct {
	addr    string
	display string
	width   int
	height  int
	picture Picture
	cmd     *exec.Cmd

	done chan struct{} // closed when the process has exited
	mu   sync.Mutex
	out  bytes.Buffer // its output, for failures
	err  error        // its exit status
	once sync.Once
}

// StartServer starts Xvnc on a free display and a free loopback port,
// paints the picture on its root window and returns once it takes RFB
// connections. The server is stopped when the test ends. Without Xvnc or
// xsetroot the test fails, naming the Debian package to install.
func StartServer(t testing.TB, opts ServerOptions) *Server {
	t.Helper()
	xvnc, err := exec.LookPath("Xvnc")
	if err != nil {
		t.Fatalf("vnctest: %v: install the Debian package %s (as root: bash .ci/deps, or apt-get install %s)", err, serverPackage, serverPackage)
	}
	xsetroot, err := exec.LookPath("xsetroot")
	if err != nil {
		t.Fatalf("vnctest: %v: install the Debian package %s (as root: bash .ci/deps)", err, xsetrootPackage)
	}
	if opts.Width == 0 {
		opts.Width = 320
	}
	if opts.Height == 0 {
		opts.Height = 200
	}
	pic := DefaultPicture()
	if opts.Picture != nil {
		pic = *opts.Picture
	}
	var s *Server
	for try := 1; ; try++ {
		s, err = start(xvnc, opts)
		if err == nil {
			break
		}
		if try == startTries {
			t.Fatalf("vnctest: Xvnc did not start: %v", err)
		}
	}
	t.Cleanup(s.Close)
	s.picture = pic
	xbm := filepath.Join(t.TempDir(), "picture.xbm")
	if err := os.WriteFile(xbm, pic.XBM(), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(xsetroot, "-display", s.display, "-bitmap", xbm, "-fg", hexColor(pic.Foreground), "-bg", hexColor(pic.Background))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("vnctest: xsetroot on %s: %v\n%s", s.display, err, out)
	}
	return s
}

// start runs one Xvnc; it fails when the process does not come up (the
// port chosen was taken meanwhile, say).
func start(xvnc string, opts ServerOptions) (*Server, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	r, w, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	defer r.Close()
	s := &Server{addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), width: opts.Width, height: opts.Height, done: make(chan struct{})}
	s.cmd = exec.Command(xvnc,
		"-displayfd", "3",
		"-geometry", fmt.Sprintf("%dx%d", opts.Width, opts.Height), "-depth", "24",
		"-rfbport", strconv.Itoa(port), "-interface", "127.0.0.1", "-localhost",
		"-SecurityTypes", "None", "-AlwaysShared", "-nolisten", "tcp",
		"-desktop", "vnctest")
	s.cmd.ExtraFiles = []*os.File{w}
	s.cmd.Stdout, s.cmd.Stderr = &lockedWriter{s: s}, &lockedWriter{s: s}
	setDeathSignal(s.cmd)
	if err := s.cmd.Start(); err != nil {
		w.Close()
		return nil, err
	}
	w.Close()
	go func() {
		err := s.cmd.Wait()
		s.mu.Lock()
		s.err = err
		s.mu.Unlock()
		close(s.done)
	}()
	// Xvnc writes its display number once it takes connections.
	line := make(chan string, 1)
	go func() {
		l, _ := bufio.NewReader(r).ReadString('\n')
		line <- strings.TrimSpace(l)
	}()
	select {
	case l := <-line:
		if l == "" {
			<-s.done
			return nil, fmt.Errorf("Xvnc exited: %v\n%s", s.exitErr(), s.Output())
		}
		s.display = ":" + l
	case <-time.After(readyTimeout):
		s.Kill()
		return nil, fmt.Errorf("Xvnc gave no display within %v\n%s", readyTimeout, s.Output())
	}
	// Its RFB listener is up before the display is announced; check it.
	d := net.Dialer{Timeout: readyTimeout}
	c, err := d.Dial("tcp", s.addr)
	if err != nil {
		s.Close()
		return nil, fmt.Errorf("Xvnc on %s does not take RFB connections at %s: %v\n%s", s.display, s.addr, err, s.Output())
	}
	c.Close()
	return s, nil
}

type lockedWriter struct{ s *Server }

func (w *lockedWriter) Write(p []byte) (int, error) {
	w.s.mu.Lock()
	defer w.s.mu.Unlock()
	if w.s.out.Len() < 1<<20 {
		w.s.out.Write(p)
	}
	return len(p), nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// Addr is the RFB address: 127.0.0.1:port.
func (s *Server) Addr() string { return s.addr }

// Display is the X display, ":N".
func (s *Server) Display() string { return s.display }

// Size is the screen's size.
func (s *Server) Size() (w, h int) { return s.width, s.height }

// Picture is what the screen shows.
func (s *Server) Picture() Picture { return s.picture }

// Output returns what Xvnc printed so far.
func (s *Server) Output() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.out.String()
}

func (s *Server) exitErr() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// Done is closed once the process has exited.
func (s *Server) Done() <-chan struct{} { return s.done }

// Kill kills the server at once (SIGKILL), as a crash would, and waits for
// it to exit.
func (s *Server) Kill() {
	_ = s.cmd.Process.Kill()
	<-s.done
}

// Close stops the server (SIGTERM, SIGKILL after a while) and waits for it.
func (s *Server) Close() {
	s.once.Do(func() {
		select {
		case <-s.done:
			return
		default:
		}
		_ = s.cmd.Process.Signal(terminate)
		select {
		case <-s.done:
		case <-time.After(10 * time.Second):
			s.Kill()
		}
	})
}

// Snapshot takes a picture of the screen behind addr with Debian's
// vncsnapshot, a TightVNC-based RFB client, using the RFB encodings given
// ("raw", "hextile", "zlib", ...), and returns it decoded from the JPEG
// file vncsnapshot writes (quality 100). Two snapshots of the same
// framebuffer are the same file. Without vncsnapshot the test fails, naming
// the package.
func Snapshot(ctx context.Context, t testing.TB, addr, encodings string) ([]byte, error) {
	t.Helper()
	bin, err := exec.LookPath("vncsnapshot")
	if err != nil {
		t.Fatalf("vnctest: %v: install the Debian package %s (as root: bash .ci/deps)", err, snapshotPackage)
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	out := filepath.Join(t.TempDir(), "snapshot.jpg")
	cmd := exec.CommandContext(ctx, bin, "-quiet", "-allowblank", "-nocursor", "-quality", "100", "-encodings", encodings, host+"::"+port, out)
	setDeathSignal(cmd)
	if b, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("vncsnapshot -encodings %q %s: %v\n%s", encodings, addr, err, b)
	}
	return os.ReadFile(out)
}
