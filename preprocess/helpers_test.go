package preprocess

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/jpeg"
	"image/png"
	"math/rand/v2"
	"testing"
)

// newTestImage returns a w×h image whose pixel (x, y) is f(x, y).
func newTestImage(w, h int, f func(x, y int) (r, g, b uint8)) *Image {
	m := NewImage(w, h)
	for y := range h {
		for x := range w {
			i := 3 * (y*w + x)
			m.Pix[i], m.Pix[i+1], m.Pix[i+2] = f(x, y)
		}
	}
	return m
}

func flatImage(w, h int, r, g, b uint8) *Image {
	return newTestImage(w, h, func(int, int) (uint8, uint8, uint8) { return r, g, b })
}

func noiseImage(w, h int, seed uint64) *Image {
	rng := rand.New(rand.NewPCG(seed, 1))
	m := NewImage(w, h)
	for i := range m.Pix {
		m.Pix[i] = uint8(rng.IntN(256))
	}
	return m
}

func encodePNG(t testing.TB, m image.Image) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, m); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func encodeJPEG(t testing.TB, m image.Image, quality int) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, m, &jpeg.Options{Quality: quality}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// withPNGChunk inserts a chunk right after a PNG's IHDR chunk.
func withPNGChunk(p []byte, typ string, data []byte) []byte {
	chunk := binary.BigEndian.AppendUint32(nil, uint32(len(data)))
	chunk = append(chunk, typ...)
	chunk = append(chunk, data...)
	chunk = binary.BigEndian.AppendUint32(chunk, crc32.ChecksumIEEE(chunk[4:]))
	const afterIHDR = 8 + 8 + 13 + 4
	out := append([]byte{}, p[:afterIHDR]...)
	out = append(out, chunk...)
	return append(out, p[afterIHDR:]...)
}

// Independent image transforms used to build EXIF-rotated test files.
func flipH(m *Image) *Image {
	return newTestImage(m.Width, m.Height, func(x, y int) (uint8, uint8, uint8) { return m.rgb(m.Width-1-x, y) })
}

func flipV(m *Image) *Image {
	return newTestImage(m.Width, m.Height, func(x, y int) (uint8, uint8, uint8) { return m.rgb(x, m.Height-1-y) })
}

func transpose(m *Image) *Image {
	return newTestImage(m.Height, m.Width, func(x, y int) (uint8, uint8, uint8) { return m.rgb(y, x) })
}

// storedFor returns how a camera stores upright with the given EXIF orientation, i.e. the image
// that displays as upright once the orientation is applied.
func storedFor(upright *Image, orientation int) *Image {
	switch orientation {
	case 2:
		return flipH(upright)
	case 3:
		return flipH(flipV(upright))
	case 4:
		return flipV(upright)
	case 5:
		return transpose(upright)
	case 6: // displayed by turning clockwise, so stored turned counter-clockwise
		return flipV(transpose(upright))
	case 7:
		return flipH(flipV(transpose(upright)))
	case 8: // stored turned clockwise
		return flipH(transpose(upright))
	}
	return upright
}

func (m *Image) rgb(x, y int) (uint8, uint8, uint8) {
	i := 3 * (y*m.Width + x)
	return m.Pix[i], m.Pix[i+1], m.Pix[i+2]
}

// pixelMeanAbsDiff compares two images of the same size on the 0..255 scale.
func pixelMeanAbsDiff(t testing.TB, a, b *Image) float64 {
	t.Helper()
	if a.Width != b.Width || a.Height != b.Height {
		t.Fatalf("sizes differ: %d×%d vs %d×%d", a.Width, a.Height, b.Width, b.Height)
	}
	var sum int
	for i := range a.Pix {
		d := int(a.Pix[i]) - int(b.Pix[i])
		sum += max(d, -d)
	}
	return float64(sum) / float64(len(a.Pix))
}
