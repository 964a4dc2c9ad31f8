package codec

import (
	"errors"
	"testing"
	"time"
)

func TestInfoValidate(t *testing.T) {
	good := Info{Name: "L16", PayloadType: 11, ClockRate: 44100, SampleRate: 44100, Channels: 1}
	tests := []struct {
		name   string
		modify func(*Info)
		ok     bool
	}{
		{"good", func(*Info) {}, true},
		{"dynamic", func(i *Info) { i.PayloadType = DynamicPayloadType }, true},
		{"no name", func(i *Info) { i.Name = "" }, false},
		{"slash in name", func(i *Info) { i.Name = "L16/8000" }, false},
		{"dynamic range as static", func(i *Info) { i.PayloadType = 96 }, false},
		{"zero clock", func(i *Info) { i.ClockRate = 0 }, false},
		{"zero sample rate", func(i *Info) { i.SampleRate = 0 }, false},
		{"negative channels", func(i *Info) { i.Channels = -1 }, false},
		{"negative ptime", func(i *Info) { i.PTime = -time.Millisecond }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			i := good
			tt.modify(&i)
			err := i.Validate()
			if tt.ok != (err == nil) {
				t.Fatalf("Validate() = %v, want ok=%v", err, tt.ok)
			}
			if err != nil && !errors.Is(err, ErrInvalidCodec) {
				t.Fatalf("Validate() = %v, want ErrInvalidCodec", err)
			}
		})
	}
}
