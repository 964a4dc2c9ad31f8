package sdk

import (
	"context"
	"slices"
	"sync"
	"testing"

	plugin "github.com/hashicorp/go-plugin"
)

// teardownStream records its Deactivate and End, in order.
type teardownStream struct {
	UnimplementedStream
	mu  sync.Mutex
	log []string
}

func (s *teardownStream) record(what string) {
	s.mu.Lock()
	s.log = append(s.log, what)
	s.mu.Unlock()
}

func (s *teardownStream) Deactivate(context.Context) error { s.record("Deactivate"); return nil }
func (s *teardownStream) End(context.Context) error        { s.record("End"); return nil }

// TestDeactivateAndEnd: the host's DeactivateAndEnd gets the plugin's
// stream deactivated, then ended — in one End with deactivate_first for a
// plugin of contract 1.3, in two calls for an older one (which would end
// the stream without deactivating it on a deactivate_first it does not
// know) — whether the calls travel on the Calls stream or unary.
func TestDeactivateAndEnd(t *testing.T) {
	for _, c := range []struct {
		name        string
		minor       uint32 // what the manifest says; 0: as it is
		callsMethod string // "NoSuchMethod": the calls go unary, and are counted
		want        map[string]int
	}{
		{"contract 1.3, unary", 0, "NoSuchMethod", map[string]int{"Describe": 1, "Calls": 1, "Create": 1, "End": 1}},
		{"contract 1.2, unary", 2, "NoSuchMethod", map[string]int{"Describe": 1, "Calls": 1, "Create": 1, "Deactivate": 1, "End": 1}},
		{"contract 1.3, Calls stream", 0, "", nil},
		{"contract 1.2, Calls stream", 2, "", nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			st := &teardownStream{}
			p := testPlugin(StreamType{Type: "a", Priority: 1, Match: MatchRule{Media: []string{"audio"}},
				Create: func(context.Context, *CreateRequest, *Env) (Stream, error) { return st, nil }})
			lp := newLocal(t, p)
			client, server := plugin.TestPluginGRPCConn(t, false, map[string]plugin.Plugin{PluginKey: NewGRPCPlugin(lp)})
			t.Cleanup(func() {
				server.Stop()
				_ = client.Close()
			})
			conn := &countingConn{cc: client.Conn, describeMinor: c.minor, callsMethod: c.callsMethod}
			host := newGRPCProvider(conn)
			ctx := testCtx(t)
			if _, err := host.Describe(ctx); err != nil {
				t.Fatal(err)
			}
			o, err := host.Create(ctx, &CreateRequest{Type: "a"})
			if err != nil {
				t.Fatal(err)
			}
			if _, ok := o.Stream.(DeactivateEnder); !ok {
				t.Fatalf("the host's stream %T is no DeactivateEnder", o.Stream)
			}
			if err := DeactivateAndEnd(ctx, o.Stream); err != nil {
				t.Fatal(err)
			}
			if want := []string{"Deactivate", "End"}; !slices.Equal(st.log, want) {
				t.Errorf("the plugin's stream saw %v, want %v", st.log, want)
			}
			if c.want != nil && !equalCounts(conn.get(), c.want) {
				t.Errorf("RPCs %v, want %v", conn.get(), c.want)
			}
		})
	}
}

// TestDeactivateAndEndLocal: a stream that is no DeactivateEnder gets
// Deactivate then End.
func TestDeactivateAndEndLocal(t *testing.T) {
	st := &teardownStream{}
	if err := DeactivateAndEnd(context.Background(), st); err != nil {
		t.Fatal(err)
	}
	if want := []string{"Deactivate", "End"}; !slices.Equal(st.log, want) {
		t.Errorf("got %v, want %v", st.log, want)
	}
}
