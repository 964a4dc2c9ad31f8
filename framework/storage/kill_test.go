package storage

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"reflect"
	"strconv"
	"testing"
	"time"
)

// TestSaveSurvivesKill re-executes the test binary as a saver process (see
// TestMain) that saves big documents in a tight loop, SIGKILLs it at a
// random moment, and checks that the config file is still a whole document
// of that saver (never torn), and that at most the one temporary file being
// written is left behind, which the next NewFile removes.
func TestSaveSurvivesKill(t *testing.T) {
	if testing.Short() {
		t.Skip("starts 20 processes")
	}
	exe, err := os.Executable()
	if err != nil {
		t.Skip("cannot find the test binary:", err)
	}
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, seed))

	dir := t.TempDir()
	s, err := NewFile(dir)
	if err != nil {
		t.Fatal(err)
	}
	const rounds = 20
	interrupted := 0
	for round := 1; round <= rounds; round++ {
		cmd := exec.Command(exe, "-test.run=^$")
		cmd.Env = append(os.Environ(), saverDirEnv+"="+dir, saverRoundEnv+"="+strconv.Itoa(round))
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// Wait for the first complete Save of this round.
		line, err := bufio.NewReader(stdout).ReadString('\n')
		if err != nil || line != saverReady+"\n" {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("round %d: saver did not start: %q, %v; stderr:\n%s", round, line, err, stderr.Bytes())
		}
		// A random moment within the next few Saves (each takes tens of
		// milliseconds, much of it writing and syncing).
		time.Sleep(time.Duration(rng.IntN(150_000)) * time.Microsecond)
		if err := cmd.Process.Kill(); err != nil {
			t.Fatal(err)
		}
		cmd.Wait() // "signal: killed"
		if stderr.Len() > 0 {
			t.Fatalf("round %d: saver failed:\n%s", round, stderr.Bytes())
		}

		temps := tempFiles(t, dir)
		if len(temps) > 1 {
			t.Errorf("round %d: %d temporary files left, want at most 1: %v", round, len(temps), temps)
		}
		interrupted += len(temps)

		doc, err := s.Load(context.Background())
		if err != nil {
			t.Fatalf("round %d: config does not load after a kill: %v", round, err)
		}
		var gotRound, gen int
		if _, err := fmt.Sscanf(doc.Settings.UserAgent, "sipstreams round %d gen %d", &gotRound, &gen); err != nil || gotRound != round {
			t.Fatalf("round %d: config is not from this round's saver: user_agent %q", round, doc.Settings.UserAgent)
		}
		if !reflect.DeepEqual(doc, bigDocument(round, gen)) {
			t.Fatalf("round %d: config is torn: it does not equal the document of generation %d", round, gen)
		}
	}
	t.Logf("%d of %d kills interrupted a write in progress", interrupted, rounds)

	if _, err := NewFile(dir); err != nil {
		t.Fatal(err)
	}
	if m := tempFiles(t, dir); len(m) != 0 {
		t.Errorf("NewFile left stale temporary files: %v", m)
	}
}
