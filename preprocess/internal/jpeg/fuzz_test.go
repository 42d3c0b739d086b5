package jpeg

import (
	"bytes"
	"fmt"
	stdjpeg "image/jpeg"
	"testing"
)

// FuzzDecode checks that Decode never panics and that it accepts and rejects
// exactly the inputs image/jpeg does, with the same error and image shape: the
// two share everything but the IDCT.
func FuzzDecode(f *testing.F) {
	for _, name := range libjpegCases {
		f.Add(readTestdata(f, name+".jpeg"))
	}
	for i, c := range stdlibCases(f) {
		if i%5 == 0 {
			f.Add(c.data)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := DecodeConfig(bytes.NewReader(data))
		if err != nil {
			return
		}
		if cfg.Width*cfg.Height > 1e6 {
			return
		}
		got, err := Decode(bytes.NewReader(data))
		want, stdErr := stdjpeg.Decode(bytes.NewReader(data))
		if fmt.Sprint(err) != fmt.Sprint(stdErr) {
			t.Fatalf("Decode error %v, image/jpeg gives %v", err, stdErr)
		}
		if err != nil {
			return
		}
		if fmt.Sprintf("%T", got) != fmt.Sprintf("%T", want) || got.Bounds() != want.Bounds() {
			t.Fatalf("Decode gives %T %v, image/jpeg %T %v", got, got.Bounds(), want, want.Bounds())
		}
		if b := got.Bounds(); b.Dx() != cfg.Width || b.Dy() != cfg.Height || got.ColorModel() != cfg.ColorModel {
			t.Fatalf("Decode gives %v %v, DecodeConfig %+v", b, got.ColorModel(), cfg)
		}
	})
}
