package cpim

import "testing"

func BenchmarkParse(b *testing.B) {
	data := readFile(b, "extensions.cpim")
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(data); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkMarshal(b *testing.B) {
	m, err := Parse(readFile(b, "extensions.cpim"))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		_ = m.Marshal()
	}
}
