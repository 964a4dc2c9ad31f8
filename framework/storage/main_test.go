package storage

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/sipstreams/sipstreams/framework/config"
)

// When saverDirEnv is set, the test binary is the child process of
// TestSaveSurvivesKill: it saves big documents to that directory in a
// loop until it is killed.
const (
	saverDirEnv   = "SIPSTREAMS_STORAGE_TEST_SAVER_DIR"
	saverRoundEnv = "SIPSTREAMS_STORAGE_TEST_SAVER_ROUND"
	// saverReady is the line the saver prints after its first Save.
	saverReady = "saved"
	// saverLimit stops an orphaned saver (one whose parent died).
	saverLimit = time.Minute
)

func TestMain(m *testing.M) {
	if dir := os.Getenv(saverDirEnv); dir != "" {
		os.Exit(runSaver(dir, os.Getenv(saverRoundEnv)))
	}
	os.Exit(m.Run())
}

func runSaver(dir, roundText string) int {
	round, err := strconv.Atoi(roundText)
	if err != nil {
		fmt.Fprintln(os.Stderr, "saver: bad round:", err)
		return 2
	}
	s, err := NewFile(dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, "saver:", err)
		return 1
	}
	start := time.Now()
	for gen := 1; time.Since(start) < saverLimit; gen++ {
		if err := s.Save(context.Background(), bigDocument(round, gen)); err != nil {
			fmt.Fprintln(os.Stderr, "saver:", err)
			return 1
		}
		if gen == 1 {
			fmt.Println(saverReady)
		}
	}
	return 0
}

// bigDocument returns a valid document of a few hundred kilobytes in which
// every account carries its round and generation, so that a file mixing
// two documents, or a truncated one, does not equal any bigDocument.
func bigDocument(round, gen int) *config.Document {
	d := config.NewDocument()
	d.Settings.UserAgent = fmt.Sprintf("sipstreams round %d gen %d", round, gen)
	const accounts = 300
	d.Accounts = make([]config.Account, accounts)
	for i := range d.Accounts {
		a := config.NewAccount(fmt.Sprintf("user%d@example.com", i))
		a.DisplayName = fmt.Sprintf("User %d of round %d gen %d", i, round, gen)
		a.Auth.Password = fmt.Sprintf("secret-%d-%d-%d", round, gen, i)
		a.NATTraversal.STUNServers = []string{fmt.Sprintf("stun%d.example.com", gen%7)}
		d.Accounts[i] = a
	}
	d.Settings.DefaultAccount = d.Accounts[gen%accounts].ID
	return d
}
