package sdk

import (
	"time"

	pb "github.com/sipstreams/sipstreams/sdk/internal/streampb"
)

// toproto / fromproto conversions between the SDK's Go types and the
// generated contract messages. Each has a round-trip test.

func matchToProto(m MatchRule) *pb.MatchRule {
	return &pb.MatchRule{Media: m.Media, Protos: m.Protos, AcceptTypes: m.AcceptTypes, RtpmapNames: m.RTPMapNames, Formats: m.Formats}
}

func matchFromProto(m *pb.MatchRule) MatchRule {
	if m == nil {
		return MatchRule{}
	}
	return MatchRule{Media: m.Media, Protos: m.Protos, AcceptTypes: m.AcceptTypes, RTPMapNames: m.RtpmapNames, Formats: m.Formats}
}

func manifestToProto(m *Manifest) *pb.Manifest {
	out := &pb.Manifest{
		Name: m.Name, Version: m.Version,
		ContractMajor: uint32(m.ContractMajor), ContractMinor: uint32(m.ContractMinor),
		Capabilities: m.Capabilities, Methods: m.Methods,
	}
	for _, t := range m.StreamTypes {
		out.StreamTypes = append(out.StreamTypes, &pb.StreamType{
			Type: t.Type, Priority: int32(t.Priority), HoldSupported: t.HoldSupported,
			Match: matchToProto(t.Match), Codecs: t.Codecs,
		})
	}
	return out
}

func manifestFromProto(m *pb.Manifest) *Manifest {
	out := &Manifest{
		Name: m.GetName(), Version: m.GetVersion(),
		ContractMajor: int(m.GetContractMajor()), ContractMinor: int(m.GetContractMinor()),
		Capabilities: m.GetCapabilities(), Methods: m.GetMethods(),
	}
	for _, t := range m.GetStreamTypes() {
		out.StreamTypes = append(out.StreamTypes, StreamTypeInfo{
			Type: t.GetType(), Priority: int(t.GetPriority()), HoldSupported: t.GetHoldSupported(),
			Match: matchFromProto(t.GetMatch()), Codecs: t.GetCodecs(),
		})
	}
	return out
}

func accountToProto(a *Account) *pb.Account {
	if a == nil {
		return nil
	}
	return &pb.Account{Id: a.ID, Uri: a.URI, DisplayName: a.DisplayName, Settings: a.Settings}
}

func accountFromProto(a *pb.Account) *Account {
	if a == nil {
		return nil
	}
	return &Account{ID: a.GetId(), URI: a.GetUri(), DisplayName: a.GetDisplayName(), Settings: a.GetSettings()}
}

func sessionToProto(s *SessionInfo) *pb.SessionInfo {
	if s == nil {
		return nil
	}
	return &pb.SessionInfo{
		Id: s.ID, Direction: s.Direction, LocalIdentity: s.LocalIdentity, RemoteIdentity: s.RemoteIdentity,
		LocalFocus: s.LocalFocus, RemoteFocus: s.RemoteFocus, LocalIp: s.LocalIP,
	}
}

func sessionFromProto(s *pb.SessionInfo) *SessionInfo {
	if s == nil {
		return nil
	}
	return &SessionInfo{
		ID: s.GetId(), Direction: s.GetDirection(), LocalIdentity: s.GetLocalIdentity(), RemoteIdentity: s.GetRemoteIdentity(),
		LocalFocus: s.GetLocalFocus(), RemoteFocus: s.GetRemoteFocus(), LocalIP: s.GetLocalIp(),
	}
}

func prepareToProto(p *Prepare) *pb.Prepare {
	if p == nil {
		return nil
	}
	return &pb.Prepare{Session: sessionToProto(p.Session), Direction: p.Direction, LocalMedia: p.LocalMedia}
}

func prepareFromProto(p *pb.Prepare) *Prepare {
	if p == nil {
		return nil
	}
	return &Prepare{Session: sessionFromProto(p.GetSession()), Direction: p.GetDirection(), LocalMedia: p.GetLocalMedia()}
}

func newFromSDPToProto(r *NewFromSDPRequest) *pb.NewFromSDPRequest {
	return &pb.NewFromSDPRequest{Types: r.Types, Account: accountToProto(r.Account), RemoteSdp: r.RemoteSDP, StreamIndex: int32(r.StreamIndex), Prepare: prepareToProto(r.Prepare)}
}

func newFromSDPFromProto(r *pb.NewFromSDPRequest) *NewFromSDPRequest {
	return &NewFromSDPRequest{Types: r.GetTypes(), Account: accountFromProto(r.GetAccount()), RemoteSDP: r.GetRemoteSdp(), StreamIndex: int(r.GetStreamIndex()), Prepare: prepareFromProto(r.GetPrepare())}
}

func createToProto(r *CreateRequest) *pb.CreateRequest {
	return &pb.CreateRequest{Type: r.Type, Account: accountToProto(r.Account), Params: r.Params, Prepare: prepareToProto(r.Prepare)}
}

func createFromProto(r *pb.CreateRequest) *CreateRequest {
	return &CreateRequest{Type: r.GetType(), Account: accountFromProto(r.GetAccount()), Params: r.GetParams(), Prepare: prepareFromProto(r.GetPrepare())}
}

func openedToProto(o *Opened) *pb.NewStreamResponse {
	return &pb.NewStreamResponse{Handle: o.Handle, Type: o.Type, Initialized: o.Initialized, InitError: o.InitError, Media: o.Media}
}

func attributesToProto(a *Attributes) *pb.StreamAttributes {
	return &pb.StreamAttributes{HoldSupported: a.HoldSupported, OnHoldByLocal: a.OnHoldByLocal, OnHoldByRemote: a.OnHoldByRemote, Extra: a.Extra}
}

func attributesFromProto(a *pb.StreamAttributes) *Attributes {
	return &Attributes{HoldSupported: a.GetHoldSupported(), OnHoldByLocal: a.GetOnHoldByLocal(), OnHoldByRemote: a.GetOnHoldByRemote(), Extra: a.GetExtra()}
}

func notificationToProto(n *Notification) *pb.Notification {
	var t int64
	if !n.Time.IsZero() {
		t = n.Time.UnixNano()
	}
	return &pb.Notification{Handle: n.Handle, Name: n.Name, TimeUnixNano: t, Data: n.Data, Seq: n.Seq}
}

func notificationFromProto(n *pb.Notification) *Notification {
	var t time.Time
	if n.GetTimeUnixNano() != 0 {
		t = time.Unix(0, n.GetTimeUnixNano())
	}
	return &Notification{Handle: n.GetHandle(), Name: n.GetName(), Time: t, Data: n.GetData(), Seq: n.GetSeq()}
}
