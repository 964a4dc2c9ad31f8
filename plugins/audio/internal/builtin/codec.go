package builtin

import codec "github.com/sipstreams/sipstreams/sdk/codec"

// staticCodec is a Codec made of an Info and two constructors.
type staticCodec struct {
	info   codec.Info
	newEnc func(codec.Info) (codec.Encoder, error)
	newDec func(codec.Info) (codec.Decoder, error)
}

func (c *staticCodec) Info() codec.Info                   { return c.info }
func (c *staticCodec) NewEncoder() (codec.Encoder, error) { return c.newEnc(c.info) }
func (c *staticCodec) NewDecoder() (codec.Decoder, error) { return c.newDec(c.info) }
func (c *staticCodec) String() string                     { return c.info.RTPMap() }

// Codecs returns the built-in codecs in the reference's default order:
// Opus, G.722, PCMU, PCMA.
func Codecs() []codec.Codec {
	return []codec.Codec{Opus(), G722(), PCMU(), PCMA()}
}

// Default returns a fresh registry holding the built-in codecs in the
// reference's default order.
func Default() *codec.Registry {
	r, err := codec.NewRegistry(Codecs()...)
	if err != nil {
		// The built-ins have distinct valid names; this cannot happen.
		panic(err)
	}
	return r
}
