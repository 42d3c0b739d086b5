package preprocesstest

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"math/rand/v2"
)

// InputsDir is where `go generate ./preprocess/preprocesstest` writes Inputs, relative to the
// repository root: testdata/inputs. A user can try them (`spoofsense check testdata/inputs`),
// and the tests check that the files there are exactly what Inputs makes.
const InputsDir = "testdata/inputs"

// Input is a generated image file (or a file posing as one) and what spoofsense must make of it.
type Input struct {
	Name string
	Data []byte
	// Verdict is the verdict the file gets when it is scored ("no_face": none of them shows a
	// face). It is empty for a file that must be refused, and Error is then a part of the one
	// line the refusal says.
	Verdict string
	Error   string
}

// Inputs returns the generated inputs, the same bytes on every call, in name order: images
// without a face (flat colour, noise, one pixel, a PNG named .jpg) and files that must be
// refused with a clear error (a header claiming 100000×100000 pixels, zero bytes, text named
// .jpg, a JPEG cut in half, a HEIC header).
func Inputs() []Input {
	flat := image.NewRGBA(image.Rect(0, 0, 320, 240))
	for i := range flat.Pix {
		flat.Pix[i] = 0x80
	}
	noise := image.NewRGBA(image.Rect(0, 0, 160, 120))
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range noise.Pix {
		noise.Pix[i] = uint8(rng.IntN(256))
	}
	tiny := image.NewRGBA(image.Rect(0, 0, 1, 1))
	tiny.Set(0, 0, color.RGBA{200, 100, 50, 255})
	gradient := image.NewRGBA(image.Rect(0, 0, 320, 240))
	for y := range 240 {
		for x := range 320 {
			gradient.Set(x, y, color.RGBA{uint8(x * 255 / 320), uint8(y * 255 / 240), 128, 255})
		}
	}
	// A PNG header claiming 100000×100000 pixels, with no pixel data behind it.
	huge := encodePNG(tiny)
	binary.BigEndian.PutUint32(huge[16:], 100000)
	binary.BigEndian.PutUint32(huge[20:], 100000)
	binary.BigEndian.PutUint32(huge[29:], crc32.ChecksumIEEE(huge[12:29])) // IHDR's CRC
	jpg := encodeJPEG(gradient)
	// An ISO-BMFF file type box of a HEIC photo: what an iPhone sends by default.
	heic := append([]byte{0, 0, 0, 0x18}, "ftypheic\x00\x00\x00\x00mif1heic"...)
	return []Input{
		{Name: "empty.jpg", Data: []byte{}, Error: "empty input"},
		{Name: "flat.png", Data: encodePNG(flat), Verdict: "no_face"},
		{Name: "gradient-named.png.jpg", Data: encodePNG(gradient), Verdict: "no_face"},
		{Name: "huge-header.png", Data: huge, Error: "100000×100000"},
		{Name: "iphone.heic", Data: heic, Error: "unsupported image format: HEIC"},
		{Name: "noise.png", Data: encodePNG(noise), Verdict: "no_face"},
		{Name: "one-pixel.png", Data: encodePNG(tiny), Verdict: "no_face"},
		{Name: "text.jpg", Data: []byte("this is not an image\n"), Error: "unsupported image format: text"},
		{Name: "truncated.jpg", Data: jpg[:len(jpg)/2], Error: "invalid JPEG format"},
	}
}

func encodePNG(img image.Image) []byte {
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		panic(err) // in-memory encoding of a valid image cannot fail
	}
	return b.Bytes()
}

func encodeJPEG(img image.Image) []byte {
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 90}); err != nil {
		panic(err) // in-memory encoding of a valid image cannot fail
	}
	return b.Bytes()
}
