package storage

import (
	"context"
	"errors"
	"reflect"
	"sync"
	"testing"

	"github.com/sipstreams/sipstreams/framework/config"
)

// implementations lists the Storages that every test in this file runs
// against.
func implementations(t *testing.T) map[string]func() Storage {
	t.Helper()
	return map[string]func() Storage{
		"memory": func() Storage { return NewMemory() },
		"file": func() Storage {
			s, err := NewFile(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			return s
		},
	}
}

func sampleDocument() *config.Document {
	d := config.NewDocument()
	d.Settings.UserAgent = "sipstreams test"
	d.Settings.RTP.AudioCodecList = []string{"PCMU", "opus"}
	a := config.NewAccount("alice@example.com")
	a.DisplayName = "Alice"
	a.Auth.Password = " pass word\n"
	a.NATTraversal.STUNServers = []string{"stun.example.com"}
	d.Accounts = []config.Account{a, config.PeerToPeerAccount()}
	d.Settings.DefaultAccount = "alice@example.com"
	return d
}

func TestStorage(t *testing.T) {
	ctx := context.Background()
	for name, newStorage := range implementations(t) {
		t.Run(name+"/defaults when empty", func(t *testing.T) {
			got, err := newStorage().Load(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, config.NewDocument()) {
				t.Errorf("Load of an empty storage = %+v", got)
			}
		})
		t.Run(name+"/save and load", func(t *testing.T) {
			s := newStorage()
			for _, want := range []*config.Document{sampleDocument(), config.NewDocument(), sampleDocument()} {
				if err := s.Save(ctx, want); err != nil {
					t.Fatal(err)
				}
				got, err := s.Load(ctx)
				if err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(got, want) {
					t.Errorf("Load = %+v\nwant %+v", got, want)
				}
			}
		})
		t.Run(name+"/copies", func(t *testing.T) {
			s := newStorage()
			doc := sampleDocument()
			if err := s.Save(ctx, doc); err != nil {
				t.Fatal(err)
			}
			doc.Accounts[0].NATTraversal.STUNServers[0] = "changed after save"
			loaded, err := s.Load(ctx)
			if err != nil {
				t.Fatal(err)
			}
			loaded.Settings.RTP.AudioCodecList[0] = "changed after load"
			again, err := s.Load(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(again, sampleDocument()) {
				t.Errorf("the storage shares memory with its callers: %+v", again)
			}
		})
		t.Run(name+"/invalid document not saved", func(t *testing.T) {
			s := newStorage()
			if err := s.Save(ctx, sampleDocument()); err != nil {
				t.Fatal(err)
			}
			bad := sampleDocument()
			bad.Settings.RTP.PortRange = config.PortRange{Start: 60000, End: 50000}
			err := s.Save(ctx, bad)
			var se *config.SettingError
			if !errors.As(err, &se) || se.Key != "rtp.port_range" || !errors.Is(err, config.ErrInvalidSetting) {
				t.Fatalf("Save(invalid) = %v, want a SettingError for rtp.port_range", err)
			}
			if err := s.Save(ctx, nil); err == nil {
				t.Error("Save(nil) succeeded")
			}
			got, err := s.Load(ctx)
			if err != nil || !reflect.DeepEqual(got, sampleDocument()) {
				t.Errorf("after a refused Save, Load = %+v, %v", got, err)
			}
		})
		t.Run(name+"/canceled context", func(t *testing.T) {
			s := newStorage()
			cctx, cancel := context.WithCancel(ctx)
			cancel()
			if err := s.Save(cctx, sampleDocument()); !errors.Is(err, context.Canceled) {
				t.Errorf("Save = %v, want context.Canceled", err)
			}
			if _, err := s.Load(cctx); !errors.Is(err, context.Canceled) {
				t.Errorf("Load = %v, want context.Canceled", err)
			}
		})
		t.Run(name+"/concurrent use", func(t *testing.T) {
			s := newStorage()
			docs := []*config.Document{sampleDocument(), config.NewDocument()}
			var wg sync.WaitGroup
			for i := range 8 {
				wg.Go(func() {
					for j := range 10 {
						if (i+j)%2 == 0 {
							if err := s.Save(ctx, docs[j%2]); err != nil {
								t.Error(err)
							}
							continue
						}
						got, err := s.Load(ctx)
						if err != nil {
							t.Error(err)
							continue
						}
						if !reflect.DeepEqual(got, docs[0]) && !reflect.DeepEqual(got, docs[1]) {
							t.Errorf("Load returned a document never saved: %+v", got)
						}
					}
				})
			}
			wg.Wait()
		})
	}
}

func TestDirectory(t *testing.T) {
	if d := NewMemory().Directory(); d != "" {
		t.Errorf("memory Directory() = %q", d)
	}
}
