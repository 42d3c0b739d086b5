package jpeg

import (
	"bytes"
	"image"
	stdjpeg "image/jpeg"
	"io"
	"os"
	"testing"

	"github.com/spoofsense/spoofsense/models/fixtures"
)

// BenchmarkDecode compares Decode with image/jpeg's on a 640×480 camera photo
// and on a small progressive file.
func BenchmarkDecode(b *testing.B) {
	photo, err := os.ReadFile(fixtures.Path(b, "data", "dev", "live", "image_T1.jpg"))
	if err != nil {
		b.Fatal(err)
	}
	progressive := readTestdata(b, "libjpeg-420-q85-progressive.jpeg")
	decoders := []struct {
		name   string
		decode func(io.Reader) (image.Image, error)
	}{
		{"islow", Decode},
		{"stdlib", stdjpeg.Decode},
	}
	for _, input := range []struct {
		name string
		data []byte
	}{{"image_T1", photo}, {"progressive-45x37", progressive}} {
		for _, d := range decoders {
			b.Run(input.name+"/"+d.name, func(b *testing.B) {
				b.SetBytes(int64(len(input.data)))
				b.ReportAllocs()
				for b.Loop() {
					if _, err := d.decode(bytes.NewReader(input.data)); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
