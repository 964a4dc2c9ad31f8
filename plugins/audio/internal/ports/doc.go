// Package ports allocates RTP/RTCP UDP port pairs from a configured range.
//
// RTP uses an even port and RTCP the next odd one (RFC 3550 §11). The range
// comes from the setting rtp.port_range, whose default in the reference SDK
// is 50000-50500 (see [DefaultRange]). Like the reference, an [Allocator]
// keeps a rolling index that walks the range in steps of two, so consecutive
// calls do not hand out the same pair at once, and it skips pairs where either
// port is already in use (both sockets are bound before a pair is returned).
//
//	r, _ := ports.ParseRange("50000-50500")
//	a := ports.New(r)
//	pair, err := a.Allocate(ctx, net.ParseIP("127.0.0.1"))
//	defer pair.Close()
//
// The returned *net.UDPConn values are owned by the caller.
//
// A [Pool] hands out pairs from an Allocator as [Endpoint] values (an
// rtpsession push transport: a reader per socket delivers its datagrams)
// and keeps the pairs of ended streams bound, a bounded number for a
// short while, for the next streams: a stream then costs no bind, no
// close and no goroutine.
package ports
