package refer

import "testing"

func BenchmarkParseReferToAttended(b *testing.B) {
	const v = `"Carol" <sip:carol@chicago.example.com;transport=tcp?Replaces=12345%40192.168.118.3%3Bto-tag%3D12345%3Bfrom-tag%3D5FFE-3994>`
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseReferTo(v); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseSipfrag(b *testing.B) {
	body := []byte("SIP/2.0 180 Ringing\r\n")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseSipfrag(body); err != nil {
			b.Fatal(err)
		}
	}
}
