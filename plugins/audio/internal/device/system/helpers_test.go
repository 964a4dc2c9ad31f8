package system

import (
	"errors"
	"io"

	"github.com/sipstreams/sipstreams/plugins/audio/internal/wav"
)

// wavOpen reads a whole WAV file.
func wavOpen(path string) ([]int16, error) {
	r, err := wav.Open(path)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	var out []int16
	buf := make([]int16, 4096)
	for {
		n, err := r.Read(buf)
		out = append(out, buf[:n]...)
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return out, err
		}
	}
}
