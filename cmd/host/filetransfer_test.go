package main

import (
	"bufio"
	"crypto/sha1" //nolint:gosec // RFC 5547 names SHA-1
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/sipstreams/sipstreams/sdk/filetransfer"
)

// transferWait bounds the wait for a large transfer's end (a deadline on
// a busy machine, not a timing assertion).
const transferWait = 5 * time.Minute

// writeRandom writes size pseudo-random bytes (seeded by seed) to path
// and returns their SHA-1.
func writeRandom(t testing.TB, path string, size int64, seed uint64) string {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := sha1.New() //nolint:gosec
	w := bufio.NewWriterSize(io.MultiWriter(f, h), 1<<20)
	rng := rand.NewChaCha8([32]byte{byte(seed), byte(seed >> 8)})
	buf := make([]byte, 1<<20)
	for left := size; left > 0; {
		n := min(left, int64(len(buf)))
		_, _ = rng.Read(buf[:n])
		if _, err := w.Write(buf[:n]); err != nil {
			t.Fatal(err)
		}
		left -= n
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("%x", h.Sum(nil))
}

// sha1File is the SHA-1 of a file in lower-case hex.
func sha1File(t testing.TB, path string) string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := sha1.New() //nolint:gosec
	if _, err := io.Copy(h, f); err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("%x", h.Sum(nil))
}

// hexOf turns a file selector's "sha-1:AB:CD:…" into lower-case hex.
func hexOf(selectorHash string) string {
	return strings.ToLower(strings.ReplaceAll(strings.TrimPrefix(selectorHash, "sha-1:"), ":", ""))
}

var (
	bigOnce sync.Once
	bigDir  string // removed by TestMain
	bigPath string
	bigSum  string
)

// bigFileSize is the size of the large transfers (done-when 1 and 2).
const bigFileSize = 1 << 30

// bigFile is a 1 GiB file shared by the tests that need one.
func bigFile(t *testing.T) (string, string) {
	t.Helper()
	bigOnce.Do(func() {
		dir, err := os.MkdirTemp("", "sipstreams-bigfile-")
		if err != nil {
			t.Fatal(err)
		}
		bigDir = dir
		bigPath = filepath.Join(dir, "big.bin")
		bigSum = writeRandom(t, bigPath, bigFileSize, 1)
	})
	if bigSum == "" {
		t.Fatal("no big file")
	}
	return bigPath, bigSum
}

// awaitWithin is await with a deadline of its own.
func (f *flow) awaitWithin(p *proc, what string, d time.Duration, pred func(jsonLine) bool) jsonLine {
	f.t.Helper()
	timeout := time.After(d)
	for {
		select {
		case l, ok := <-p.lines:
			if !ok {
				f.fatalf("%s exited while waiting for %s", p.who, what)
			}
			p.seen = append(p.seen, l)
			if pred(l) {
				return l
			}
		case <-timeout:
			f.fatalf("%s: no %s within %v", p.who, what, d)
		}
	}
}

// fileEvent waits for p's line that says a transfer of file ended
// (file_sent, file_received or file_transfer_failed).
// A line read already counts, once: fileEvent consumes it.
func (f *flow) fileEvent(p *proc, file string, d time.Duration) jsonLine {
	f.t.Helper()
	match := func(l jsonLine) bool {
		return (l.Name == "file_sent" || l.Name == "file_received" || l.Name == "file_transfer_failed") && l.File == file
	}
	for i, l := range p.seen {
		if match(l) {
			p.seen[i].File = "" // consumed
			return l
		}
	}
	l := f.awaitWithin(p, "the end of the transfer of "+file, d, match)
	p.seen[len(p.seen)-1].File = ""
	return l
}

// received checks a file_received line: the file saved in dir, verified,
// with the content of hash.
func (f *flow) received(l jsonLine, dir, name, hash string) {
	f.t.Helper()
	if l.Name != "file_received" || !l.Verified || l.Path != filepath.Join(dir, name) || hexOf(l.Hash) != hash {
		f.fatalf("receiver: %+v, want %s verified in %s", l, name, dir)
	}
	if got := sha1File(f.t, l.Path); got != hash {
		f.fatalf("%s holds %s, want %s", l.Path, got, hash)
	}
}

// startFileListener starts `listen` with the media plugins and more flags.
func startFileListener(t *testing.T, f *flow, extra ...string) string {
	t.Helper()
	args := append([]string{"listen", "--json", "--listen", "udp:127.0.0.1:0", "--user", "bob", "--plugin-dir", mediaPlugins(t)}, extra...)
	f.l = startProc(t, "listener", args...)
	first := f.awaitName(f.l, "listening")
	return fmt.Sprintf("sip:bob@127.0.0.1:%d", first.Port)
}

// TestSendFile: `send-file` sends two files in one session to a listener
// that accepts files (--accept-files) over MSRP TCP and TLS; each is
// saved, verified, and the command exits 0 once both were confirmed.
func TestSendFile(t *testing.T) {
	for _, transport := range []string{"tcp", "tls"} {
		t.Run("msrp over "+transport, func(t *testing.T) {
			conf := msrpConfig(t, transport)
			src := t.TempDir()
			a, b := filepath.Join(src, "a.bin"), filepath.Join(src, "notes 1.txt")
			sumA, sumB := writeRandom(t, a, 3<<20+17, 2), writeRandom(t, b, 1000, 3)
			inbox := t.TempDir()
			f := &flow{t: t, tc: udp4}
			uri := startFileListener(t, f, "--config-dir", conf, "--accept-files", inbox)
			f.c = startProc(t, "sender", "send-file", uri, a, b, "--json", "--user", "alice", "--plugin-dir", mediaPlugins(t), "--config-dir", conf)
			if err := f.waitExit(f.c); err != nil {
				f.fatalf("send-file exit: %v", err)
			}
			f.received(f.fileEvent(f.l, "a.bin", flowWait), inbox, "a.bin", sumA)
			f.received(f.fileEvent(f.l, "notes 1.txt", flowWait), inbox, "notes 1.txt", sumB)
			sent := 0
			for _, l := range f.c.seen {
				if l.Name == "file_sent" && !l.Error {
					sent++
				}
			}
			if sent != 2 {
				f.fatalf("sender printed %d file_sent", sent)
			}
			f.awaitName(f.l, "SIPSessionDidEnd")
			f.quit()
		})
	}
}

// TestPullFile: `call --pull NAME` asks a listener serving a directory
// (--serve-files) for a file and saves it (--save-dir); a pull of a file
// outside the directory is refused, and the call fails.
func TestPullFile(t *testing.T) {
	served, saved := t.TempDir(), t.TempDir()
	sum := writeRandom(t, filepath.Join(served, "served.bin"), 2<<20, 4)
	secret := filepath.Join(filepath.Dir(served), "secret.txt")
	writeRandom(t, secret, 10, 5)
	f := &flow{t: t, tc: udp4}
	uri := startFileListener(t, f, "--serve-files", served)
	f.c = startProc(t, "puller", "call", uri, "--pull", "served.bin", "--save-dir", saved, "--until-transferred", "--json", "--user", "alice", "--plugin-dir", mediaPlugins(t))
	if err := f.waitExit(f.c); err != nil {
		f.fatalf("call --pull exit: %v", err)
	}
	f.received(f.fileEvent(f.c, "served.bin", flowWait), saved, "served.bin", sum)

	f.c = startProc(t, "puller2", "call", uri, "--pull", "../secret.txt", "--save-dir", saved, "--until-transferred", "--json", "--user", "alice", "--plugin-dir", mediaPlugins(t))
	if err := f.waitExit(f.c); err == nil {
		f.fatalf("a pull of ../secret.txt succeeded")
	}
	if !strings.Contains(f.l.errb.String(), "refused") {
		f.fatalf("the listener did not say it refused the pull")
	}
	if _, err := os.Stat(filepath.Join(saved, "secret.txt")); err == nil {
		f.fatalf("secret.txt was sent")
	}
	f.quit()
}

// TestFileAtPrompt: without --accept-files the listener asks: it prints
// the file offered, and /accept saves it (in file_transfer.directory);
// /reject makes send-file fail.
func TestFileAtPrompt(t *testing.T) {
	src := filepath.Join(t.TempDir(), "asked.bin")
	sum := writeRandom(t, src, 100<<10, 6)
	conf := msrpConfig(t, "tcp")
	downloads := t.TempDir()
	config, err := os.ReadFile(filepath.Join(conf, "config"))
	if err != nil {
		t.Fatal(err)
	}
	config = append(config, []byte("file_transfer:\n    directory = "+downloads+"\n")...)
	if err := os.WriteFile(filepath.Join(conf, "config"), config, 0o600); err != nil {
		t.Fatal(err)
	}
	f := &flow{t: t, tc: udp4}
	uri := startFileListener(t, f, "--config-dir", conf)
	f.c = startProc(t, "sender", "send-file", uri, src, "--json", "--user", "alice", "--plugin-dir", mediaPlugins(t), "--config-dir", conf)
	f.awaitName(f.l, "SIPSessionNewIncoming")
	f.send(f.l, "/accept")
	f.received(f.fileEvent(f.l, "asked.bin", flowWait), downloads, "asked.bin", sum)
	if err := f.waitExit(f.c); err != nil {
		f.fatalf("send-file exit: %v", err)
	}
	f.awaitName(f.l, "SIPSessionDidEnd")

	f.c = startProc(t, "sender2", "send-file", uri, src, "--json", "--user", "alice", "--plugin-dir", mediaPlugins(t), "--config-dir", conf)
	f.awaitName(f.l, "SIPSessionNewIncoming")
	f.send(f.l, "/reject 603")
	if err := f.waitExit(f.c); err == nil {
		f.fatalf("send-file of a rejected file exited 0")
	}
	f.send(f.l, "/quit")
	if err := f.waitExit(f.l); err != nil {
		f.fatalf("listener exit: %v", err)
	}
	if !strings.Contains(f.l.out.String(), `the peer sends the file \"asked.bin\"`) && !strings.Contains(f.l.out.String(), "asked.bin") {
		f.fatalf("the listener did not describe the file")
	}
}

// TestChatAndFilesBothWays: one session carries a chat stream and file
// transfers both ways (the caller pushes one file and pulls another);
// chat messages go both ways meanwhile.
func TestChatAndFilesBothWays(t *testing.T) {
	src, served, inbox, saved := t.TempDir(), t.TempDir(), t.TempDir(), t.TempDir()
	push := filepath.Join(src, "push.bin")
	sumPush := writeRandom(t, push, 5<<20, 7)
	sumPull := writeRandom(t, filepath.Join(served, "pull.bin"), 4<<20+1, 8)
	conf := msrpConfig(t, "tls")
	f := &flow{t: t, tc: udp4}
	uri := startFileListener(t, f, "--auto-answer", "--config-dir", conf, "--accept-files", inbox, "--serve-files", served)
	f.c = startProc(t, "caller", "call", uri, "--chat", "--file", push, "--pull", "pull.bin", "--save-dir", saved,
		"--json", "--user", "alice", "--plugin-dir", mediaPlugins(t), "--config-dir", conf)
	l := f.awaitName(f.c, "SIPSessionDidStart")
	if got := fmt.Sprint(l.Data["streams"]); got != "[chat file-transfer file-transfer]" {
		f.fatalf("streams %s", got)
	}
	f.send(f.c, "hello while the files go")
	f.chatContent(f.l, "hello while the files go")
	f.send(f.l, "and back")
	f.chatContent(f.c, "and back")
	f.received(f.fileEvent(f.l, "push.bin", flowWait), inbox, "push.bin", sumPush)
	f.received(f.fileEvent(f.c, "pull.bin", flowWait), saved, "pull.bin", sumPull)
	f.send(f.c, "files done")
	f.chatContent(f.l, "files done")
	f.endByCaller()
	f.quit()
}

// TestFileAddedToAudioSession: a file-transfer stream is added to a
// running audio session by re-INVITE (/send-file), the file is saved and
// verified, and the stream is removed again once done; the audio stream
// stays.
func TestFileAddedToAudioSession(t *testing.T) {
	src := filepath.Join(t.TempDir(), "during-call.bin")
	sum := writeRandom(t, src, 6<<20, 9)
	inbox := t.TempDir()
	conf := msrpConfig(t, "tcp")
	f := &flow{t: t, tc: udp4}
	uri := startFileListener(t, f, "--auto-answer", "--config-dir", conf, "--accept-files", inbox)
	f.c = startProc(t, "caller", "call", uri, "--audio", "--json", "--user", "alice", "--plugin-dir", mediaPlugins(t), "--config-dir", conf)
	f.awaitName(f.c, "SIPSessionDidStart")
	f.awaitName(f.l, "SIPSessionDidStart")
	f.send(f.c, "/send-file "+src)
	f.renegotiated(f.c, "added_streams", "file-transfer")
	f.renegotiated(f.l, "added_streams", "file-transfer")
	f.received(f.fileEvent(f.l, "during-call.bin", flowWait), inbox, "during-call.bin", sum)
	if l := f.fileEvent(f.c, "during-call.bin", flowWait); l.Name != "file_sent" {
		f.fatalf("sender: %+v", l)
	}
	f.renegotiated(f.c, "removed_streams", "file-transfer")
	f.renegotiated(f.l, "removed_streams", "file-transfer")
	f.send(f.c, "/stats")
	if l := f.awaitName(f.c, "statistics"); l.Statistics == nil {
		f.fatalf("no audio statistics after the file stream left: %+v", l)
	}
	f.endByCaller()
	f.quit()
}

// pluginPID returns the pid of the file-transfer plugin process that
// host started, or 0.
func pluginPID(host int) int {
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		s := string(stat)
		i := strings.LastIndexByte(s, ')')
		if i < 0 || !strings.Contains(s[:i], "sipstreams-plug") {
			continue
		}
		fields := strings.Fields(s[i+1:])
		if len(fields) > 1 && fields[1] == strconv.Itoa(host) {
			// Not the short-lived `describe` run the registry starts
			// first: the plugin serving streams.
			cmd, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
			if strings.Contains(string(cmd), "sipstreams-plugin-filetransfer") && !strings.Contains(string(cmd), "\x00describe") {
				return pid
			}
		}
	}
	return 0
}

// rssKiB is a process's resident set in KiB (0 when it is gone).
func rssKiB(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return n
		}
	}
	return 0
}

// rssSampler samples the RSS of the file-transfer plugins of hosts every
// 50 ms until stopped. A plugin's idle level is its RSS once it has run
// for rssSettle (started and handshaken: the RSS of a process still
// starting is lower); its peak is the highest sample.
type rssSampler struct {
	stop chan struct{}
	done chan struct{}
	mu   sync.Mutex
	idle map[int]int64 // by host pid
	peak map[int]int64
	n    int
}

// rssSettle is how long a plugin runs before its idle RSS is taken.
const rssSettle = 300 * time.Millisecond

func sampleRSS(hosts ...int) *rssSampler {
	s := &rssSampler{stop: make(chan struct{}), done: make(chan struct{}), idle: map[int]int64{}, peak: map[int]int64{}}
	go func() {
		defer close(s.done)
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		pids := map[int]int{}
		found := map[int]time.Time{}
		for {
			s.mu.Lock()
			for _, h := range hosts {
				if pids[h] == 0 {
					if pids[h] = pluginPID(h); pids[h] != 0 {
						found[h] = time.Now()
					}
				}
				if pids[h] == 0 {
					continue
				}
				kb := rssKiB(pids[h])
				if kb == 0 {
					pids[h] = 0 // gone: find the plugin again
					continue
				}
				if _, ok := s.idle[h]; !ok && time.Since(found[h]) >= rssSettle {
					s.idle[h] = kb
				}
				s.peak[h] = max(s.peak[h], kb)
			}
			s.n++
			s.mu.Unlock()
			select {
			case <-tick.C:
			case <-s.stop:
				return
			}
		}
	}()
	return s
}

// check stops the sampler and fails when a plugin's RSS grew more than
// 32 MB above its idle level.
func (s *rssSampler) check(t *testing.T, names map[int]string) {
	t.Helper()
	close(s.stop)
	<-s.done
	s.mu.Lock()
	defer s.mu.Unlock()
	for h, name := range names {
		idle, peak := s.idle[h], s.peak[h]
		t.Logf("%s's file-transfer plugin: RSS idle %d KiB, peak %d KiB (+%d KiB), %d samples", name, idle, peak, peak-idle, s.n)
		if idle == 0 {
			t.Errorf("%s's file-transfer plugin was never sampled", name)
		} else if peak-idle > 32000 {
			t.Errorf("%s's file-transfer plugin grew by %d KiB (> 32 MB)", name, peak-idle)
		}
	}
}

// TestLargeTransfer (done-when 1): a 1 GiB file pushed and pulled between
// two hosts over MSRP TCP and TLS; hashes verified; the RSS of both
// plugin processes, sampled throughout, stays within 32 MB of idle.
func TestLargeTransfer(t *testing.T) {
	if testing.Short() {
		t.Skip("transfers 4 GiB")
	}
	src, sum := bigFile(t)
	for _, transport := range []string{"tcp", "tls"} {
		for _, way := range []string{"push", "pull"} {
			t.Run(way+" over "+transport, func(t *testing.T) {
				conf := msrpConfig(t, transport)
				dir := t.TempDir()
				f := &flow{t: t, tc: udp4}
				var uri string
				if way == "push" {
					uri = startFileListener(t, f, "--config-dir", conf, "--accept-files", dir)
				} else {
					uri = startFileListener(t, f, "--config-dir", conf, "--serve-files", filepath.Dir(src))
				}
				args := []string{"--json", "--user", "alice", "--plugin-dir", mediaPlugins(t), "--config-dir", conf}
				if way == "push" {
					f.c = startProc(t, "sender", append([]string{"send-file", uri, src}, args...)...)
				} else {
					f.c = startProc(t, "puller", append([]string{"call", uri, "--pull", filepath.Base(src), "--save-dir", dir, "--until-transferred"}, args...)...)
				}
				rss := sampleRSS(f.l.cmd.Process.Pid, f.c.cmd.Process.Pid)
				start := time.Now()
				receiver := map[string]*proc{"push": f.l, "pull": f.c}[way]
				l := f.fileEvent(receiver, filepath.Base(src), transferWait)
				secs := time.Since(start).Seconds()
				rss.check(t, map[int]string{f.l.cmd.Process.Pid: "listener", f.c.cmd.Process.Pid: "caller"})
				f.received(l, dir, filepath.Base(src), sum)
				t.Logf("%s of 1 GiB over MSRP %s: %.1f s from the command's start (hashing, setup and transfer), %.0f MB/s", way, transport, secs, bigFileSize/secs/1e6)
				if err := f.waitExit(f.c); err != nil {
					f.fatalf("caller exit: %v", err)
				}
				if err := os.Remove(l.Path); err != nil {
					t.Fatal(err)
				}
				f.send(f.l, "/quit")
				if err := f.waitExit(f.l); err != nil {
					f.fatalf("listener exit: %v", err)
				}
			})
		}
	}
}

// ageKept makes what dir keeps for a resume look 8 days old: data and
// metadata agree, the data was last written beyond the validity window.
func ageKept(t *testing.T, dir string) {
	t.Helper()
	part := filepath.Join(dir, filetransfer.PartialDir)
	metas, _ := filepath.Glob(filepath.Join(part, "*.json"))
	if len(metas) != 1 {
		t.Fatalf("kept metadata: %v", metas)
	}
	data := strings.TrimSuffix(metas[0], ".json") + ".part"
	old := time.Now().Add(-filetransfer.ResumeValidity - 24*time.Hour)
	if err := os.Chtimes(data, old, old); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(data)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(metas[0])
	if err != nil {
		t.Fatal(err)
	}
	var meta map[string]any
	if err := json.Unmarshal(b, &meta); err != nil {
		t.Fatal(err)
	}
	meta["mtime"] = st.ModTime()
	if b, err = json.Marshal(meta); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(metas[0], b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestResumeAfterSenderKilled (done-when 2): the sending host is
// SIGKILLed in the middle of a 1 GiB transfer; the receiver keeps what
// it got, and a new session's transfer of the same file resumes from the
// receiver's offset and completes with a matching hash. What is kept
// beyond the validity window is not resumed: the file is sent whole.
func TestResumeAfterSenderKilled(t *testing.T) {
	if testing.Short() {
		t.Skip("transfers GiBs")
	}
	src, sum := bigFile(t)
	name := filepath.Base(src)
	conf := msrpConfig(t, "tcp")
	inbox := t.TempDir()
	f := &flow{t: t, tc: udp4}
	uri := startFileListener(t, f, "--config-dir", conf, "--accept-files", inbox)
	args := []string{"send-file", uri, src, "--json", "--user", "alice", "--plugin-dir", mediaPlugins(t), "--config-dir", conf}

	// interrupt starts a sender and kills it once the receiver has part
	// of the file; it returns the bytes the receiver reported.
	interrupt := func(who string) int64 {
		f.c = startProc(t, who, args...)
		l := f.awaitWithin(f.l, "progress", transferWait, func(l jsonLine) bool {
			return l.Name == "file_progress" && l.TransferredBytes > 0
		})
		if err := f.c.cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		_ = f.waitExit(f.c)
		// The receiver's BYE to the dead sender times out first.
		end := f.fileEvent(f.l, name, transferWait)
		if end.Name != "file_transfer_failed" || end.Reason != filetransfer.ReasonInterruptedTransfer || end.TransferredBytes < l.TransferredBytes {
			f.fatalf("the transfer did not fail as interrupted when its sender was killed: %+v", end)
		}
		if e, _ := os.ReadDir(inbox); len(e) != 1 {
			f.fatalf("left in the inbox: %v", e)
		}
		return l.TransferredBytes
	}

	// Kept too long ago: not resumed.
	interrupt("sender1")
	ageKept(t, inbox)
	f.c = startProc(t, "sender2", args...)
	l := f.fileEvent(f.l, name, transferWait)
	f.received(l, inbox, name, sum)
	if l.ResumedFrom != 0 {
		f.fatalf("resumed from %d what was kept 8 days ago", l.ResumedFrom)
	}
	if err := f.waitExit(f.c); err != nil {
		f.fatalf("sender2 exit: %v", err)
	}
	if err := os.Remove(l.Path); err != nil {
		t.Fatal(err)
	}

	// Kept just now: resumed from the receiver's offset.
	got := interrupt("sender3")
	f.c = startProc(t, "sender4", args...)
	l = f.fileEvent(f.l, name, transferWait)
	f.received(l, inbox, name, sum)
	if l.ResumedFrom < got || l.ResumedFrom >= bigFileSize {
		f.fatalf("resumed from %d; the receiver had reported %d of %d", l.ResumedFrom, got, bigFileSize)
	}
	t.Logf("resumed from byte %d of %d", l.ResumedFrom, bigFileSize)
	if err := f.waitExit(f.c); err != nil {
		f.fatalf("sender4 exit: %v", err)
	}
	if err := os.Remove(l.Path); err != nil {
		t.Fatal(err)
	}
	f.quit()
}

// TestFileSessionSecondCall: `/call URI` without types, in a session that
// carries a file transfer, offers the session's other types only (a file
// transfer cannot be made without its file): the second session starts
// with chat alone. Both sessions then end and call exits 0.
func TestFileSessionSecondCall(t *testing.T) {
	src := filepath.Join(t.TempDir(), "first.bin")
	sum := writeRandom(t, src, 1<<20, 11)
	inbox := t.TempDir()
	conf := msrpConfig(t, "tcp")
	f := &flow{t: t, tc: udp4}
	uri := startFileListener(t, f, "--auto-answer", "--config-dir", conf, "--accept-files", inbox)
	f.c = startProc(t, "caller", "call", uri, "--chat", "--file", src, "--json", "--user", "alice", "--plugin-dir", mediaPlugins(t), "--config-dir", conf)
	f.awaitSession(f.c, 1, "SIPSessionDidStart")
	f.received(f.fileEvent(f.l, "first.bin", flowWait), inbox, "first.bin", sum)
	f.send(f.c, "/call "+uri)
	l := f.awaitSession(f.c, 2, "SIPSessionDidStart")
	if got := fmt.Sprint(l.Data["streams"]); got != "[chat]" {
		f.fatalf("the second session's streams: %s, want [chat]", got)
	}
	f.send(f.c, "/end")
	f.awaitSession(f.c, 2, "SIPSessionDidEnd")
	f.send(f.c, "/end")
	if err := f.waitExit(f.c); err != nil {
		f.fatalf("caller exit: %v", err)
	}
	f.awaitSession(f.l, 1, "SIPSessionDidEnd")
	f.awaitSession(f.l, 2, "SIPSessionDidEnd")
	f.quit()
}
