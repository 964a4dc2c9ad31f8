package spectrum_test

import (
	"fmt"
	"math"

	"github.com/sipstreams/sipstreams/plugins/audio/internal/spectrum"
)

// Which DTMF digit is this? Goertzel tells the row and column tones apart;
// Dominant names the stronger one.
func Example() {
	const rate = 8000
	pcm := make([]int16, rate/10) // 100 ms of digit 9: 852 + 1477 Hz
	for i := range pcm {
		t := float64(i) / rate
		pcm[i] = int16(4000*math.Sin(2*math.Pi*852*t) + 6000*math.Sin(2*math.Pi*1477*t))
	}
	for _, f := range []float64{697, 770, 852, 941, 1209, 1336, 1477} {
		if spectrum.Goertzel(pcm, rate, f) > 1000 {
			fmt.Printf("%.0f Hz present\n", f)
		}
	}
	f, _ := spectrum.Dominant(pcm, rate)
	fmt.Printf("dominant %.0f Hz, RMS %.0f\n", f, spectrum.RMS(pcm))
	// Output:
	// 852 Hz present
	// 1477 Hz present
	// dominant 1477 Hz, RMS 5098
}
