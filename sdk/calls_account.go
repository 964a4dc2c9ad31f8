package sdk

import (
	"maps"
	"sync"

	pb "github.com/sipstreams/sipstreams/sdk/internal/streampb"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
)

// A call that builds a stream carries its account, whose flattened
// settings (some ninety of them for a SIP account) made up most of the
// bytes and of the encoding and decoding work of each call. On the Calls
// stream both sides keep the encoded account instead: the host encodes an
// account once and appends the same bytes to every request for it
// (protobuf messages are their fields' encodings, in any order), and the
// plugin decodes those bytes once and hands every request for the account
// the same decoded Account. The wire does not change: what goes on it is
// what proto.Marshal of the whole request would have written, field order
// aside.

// accountField is the field number of the account in NewFromSDPRequest
// and CreateRequest.
const accountField protowire.Number = 2

// maxCachedAccounts bounds both sides' caches; when full, a cache starts
// over.
const maxCachedAccounts = 64

// accountOf returns where a request keeps its account, nil for a request
// without one.
func accountOf(m proto.Message) **pb.Account {
	switch r := m.(type) {
	case *pb.NewFromSDPRequest:
		return &r.Account
	case *pb.CreateRequest:
		return &r.Account
	}
	return nil
}

// accountEncodings is the host side's cache: the encoding of the account
// last sent under each ID, with a copy of what it encoded.
type accountEncodings struct {
	mu   sync.Mutex
	byID map[string]*accountEncoding
}

type accountEncoding struct {
	acc *pb.Account // a copy: the caller's may change afterwards
	enc []byte
}

// marshal encodes a request as proto.Marshal does, the account's bytes
// from the cache.
func (c *accountEncodings) marshal(m proto.Message) ([]byte, error) {
	field := accountOf(m)
	if field == nil || *field == nil {
		return proto.Marshal(m)
	}
	acc := *field
	*field = nil
	b, err := proto.Marshal(m)
	*field = acc
	if err != nil {
		return nil, err
	}
	enc, err := c.encoding(acc)
	if err != nil {
		return nil, err
	}
	b = protowire.AppendTag(b, accountField, protowire.BytesType)
	return protowire.AppendBytes(b, enc), nil
}

// encoding returns a's encoding, made once while a stays the same.
func (c *accountEncodings) encoding(a *pb.Account) ([]byte, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e := c.byID[a.GetId()]; e != nil && sameAccount(e.acc, a) {
		return e.enc, nil
	}
	cp := &pb.Account{Id: a.GetId(), Uri: a.GetUri(), DisplayName: a.GetDisplayName(), Settings: maps.Clone(a.GetSettings())}
	enc, err := proto.Marshal(cp)
	if err != nil {
		return nil, err
	}
	if c.byID == nil || len(c.byID) >= maxCachedAccounts {
		c.byID = map[string]*accountEncoding{}
	}
	c.byID[a.GetId()] = &accountEncoding{acc: cp, enc: enc}
	return enc, nil
}

func sameAccount(a, b *pb.Account) bool {
	return a.GetId() == b.GetId() && a.GetUri() == b.GetUri() && a.GetDisplayName() == b.GetDisplayName() &&
		maps.Equal(a.GetSettings(), b.GetSettings())
}

// accountDecodings is the plugin side's cache: decoded accounts by their
// encoding. The Accounts it hands out are shared by the calls of one
// account, so nobody may change them (Account.Settings says so).
type accountDecodings struct {
	mu    sync.Mutex
	byEnc map[string]*pb.Account
}

// unmarshal decodes b into m as proto.Unmarshal does, the account from
// the cache when m has one and b holds it once.
func (c *accountDecodings) unmarshal(b []byte, m proto.Message) error {
	field := accountOf(m)
	if field == nil {
		return proto.Unmarshal(b, m)
	}
	rest, enc, ok := cutField(b, accountField)
	if !ok {
		return proto.Unmarshal(b, m)
	}
	if err := proto.Unmarshal(rest, m); err != nil {
		return err
	}
	acc, err := c.decode(enc)
	if err != nil {
		return err
	}
	*field = acc
	return nil
}

func (c *accountDecodings) decode(enc []byte) (*pb.Account, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if a, ok := c.byEnc[string(enc)]; ok {
		return a, nil
	}
	a := &pb.Account{}
	if err := proto.Unmarshal(enc, a); err != nil {
		return nil, err
	}
	if c.byEnc == nil || len(c.byEnc) >= maxCachedAccounts {
		c.byEnc = map[string]*pb.Account{}
	}
	c.byEnc[string(enc)] = a
	return a, nil
}

// cutField splits a well-formed message encoding into the field num,
// which it holds exactly once as a length-delimited field, and the rest.
// ok is false otherwise (no such field, more than one — which protobuf
// merges —, another wire type, or a malformed encoding): the caller then
// decodes b as it is.
func cutField(b []byte, num protowire.Number) (rest, value []byte, ok bool) {
	start, end := -1, -1
	for off := 0; off < len(b); {
		n, typ, tl := protowire.ConsumeTag(b[off:])
		if tl < 0 {
			return nil, nil, false
		}
		vl := protowire.ConsumeFieldValue(n, typ, b[off+tl:])
		if vl < 0 {
			return nil, nil, false
		}
		if n == num {
			if start >= 0 || typ != protowire.BytesType {
				return nil, nil, false
			}
			v, _ := protowire.ConsumeBytes(b[off+tl:])
			value = v
			start, end = off, off+tl+vl
		}
		off += tl + vl
	}
	if start < 0 {
		return nil, nil, false
	}
	rest = make([]byte, 0, len(b)-(end-start))
	rest = append(append(rest, b[:start]...), b[end:]...)
	return rest, value, true
}
