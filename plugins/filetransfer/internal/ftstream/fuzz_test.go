package ftstream

import (
	"strconv"
	"testing"
)

// FuzzParseOffset: whatever a receiver answers in FILE_OFFSET's Offset
// header, the sender goes on from a byte of the file (0 when the answer
// is not a count below the size), and a count below the size is taken as
// it is.
func FuzzParseOffset(f *testing.F) {
	for _, s := range []string{"0", "102400", " 7 ", "-1", "+5", "1e3", "99999999999999999999", "", "0x10", "١٢"} {
		f.Add(s, int64(200000))
	}
	f.Fuzz(func(t *testing.T, v string, size int64) {
		if size <= 0 {
			return
		}
		n := parseOffset(v, size)
		if n < 0 || n >= size {
			t.Fatalf("parseOffset(%q, %d) = %d, outside the file", v, size, n)
		}
		if want, err := strconv.ParseInt(v, 10, 64); err == nil && want > 0 && want < size && v == strconv.FormatInt(want, 10) && n != want {
			t.Fatalf("parseOffset(%q, %d) = %d, want %d", v, size, n, want)
		}
	})
}
