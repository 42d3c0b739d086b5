package scorer

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"math/rand/v2"
	"os"
	"testing"

	"github.com/spoofsense/spoofsense/preprocess"
	"github.com/spoofsense/spoofsense/preprocess/preprocesstest"
)

func encodePNG(t *testing.T, img image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func encodeJPEG(t *testing.T, img image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 95}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// rotate returns img turned by quarter turns counter-clockwise.
func rotateCCW(img *preprocess.Image, quarter int) *image.RGBA {
	w, h := img.Width, img.Height
	ow, oh := w, h
	if quarter%2 == 1 {
		ow, oh = h, w
	}
	out := image.NewRGBA(image.Rect(0, 0, ow, oh))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			var nx, ny int
			switch quarter % 4 {
			case 0:
				nx, ny = x, y
			case 1: // 90° CCW
				nx, ny = y, w-1-x
			case 2:
				nx, ny = w-1-x, h-1-y
			case 3: // 90° CW
				nx, ny = h-1-y, x
			}
			out.Set(nx, ny, img.At(x, y))
		}
	}
	return out
}

// A copy of a dev face stored rotated, with the EXIF orientation that undoes it, scores like
// the upright image: the same box (within JPEG re-encoding noise) and the same verdict.
func TestEXIFRotatedCopyScoresTheSame(t *testing.T) {
	var cache scorerCache
	s := cache.get(t, Options{})
	data, err := os.ReadFile(devImage(t, "image_T1.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	upright, err := preprocess.DecodeBytes(data, preprocess.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	// The upright reference is the same pixels re-encoded without EXIF, so both sides carry
	// the same JPEG noise.
	ref, err := s.ScoreReader(context.Background(), bytes.NewReader(encodeJPEG(t, upright)), "upright.jpg")
	if err != nil || ref.Face == nil {
		t.Fatalf("upright copy: %v, face %v", err, ref.Face)
	}
	// Orientation 6 means "rotate 90° clockwise to display": store it turned counter-clockwise.
	for _, tc := range []struct {
		orientation uint16
		storedCCW   int
	}{{3, 2}, {6, 1}, {8, 3}} {
		stored := encodeJPEG(t, rotateCCW(upright, tc.storedCCW))
		res, err := s.ScoreReader(context.Background(), bytes.NewReader(preprocesstest.WithJPEGOrientation(stored, tc.orientation)), "rotated.jpg")
		if err != nil {
			t.Fatalf("orientation %d: %v", tc.orientation, err)
		}
		if res.Image.Orientation != int(tc.orientation) || res.Image.Width != upright.Width {
			t.Errorf("orientation %d: decoded %d×%d with orientation %d", tc.orientation, res.Image.Width, res.Image.Height, res.Image.Orientation)
		}
		if res.Face == nil || !boxNear(res.Face.Box, [4]int{ref.Face.Box.X, ref.Face.Box.Y, ref.Face.Box.W, ref.Face.Box.H}, 3) {
			t.Errorf("orientation %d: box %+v, want %+v", tc.orientation, res.Face, ref.Face.Box)
		}
		if res.Verdict != ref.Verdict {
			t.Errorf("orientation %d: verdict %s, want %s", tc.orientation, res.Verdict, ref.Verdict)
		}
	}
}

// Images without a face are scored as no_face; unreadable or over-limit ones are InputErrors
// naming the file.
func TestGeneratedInputs(t *testing.T) {
	var cache scorerCache
	s := cache.get(t, Options{})
	flat := image.NewRGBA(image.Rect(0, 0, 320, 240))
	for i := range flat.Pix {
		flat.Pix[i] = 0x80
	}
	noise := image.NewRGBA(image.Rect(0, 0, 320, 240))
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range noise.Pix {
		noise.Pix[i] = uint8(rng.IntN(256))
	}
	tiny := image.NewRGBA(image.Rect(0, 0, 1, 1))
	tiny.Set(0, 0, color.RGBA{200, 100, 50, 255})
	face, err := os.ReadFile(devImage(t, "image_F2.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	faceImg, err := preprocess.DecodeBytes(face, preprocess.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	// A PNG header claiming 100000×100000 pixels, with no pixel data behind it.
	huge := encodePNG(t, tiny)
	binary.BigEndian.PutUint32(huge[16:], 100000)
	binary.BigEndian.PutUint32(huge[20:], 100000)
	binary.BigEndian.PutUint32(huge[29:], crc32.ChecksumIEEE(huge[12:29])) // IHDR's CRC
	truncated := face[:len(face)/2]

	tests := []struct {
		name    string
		data    []byte
		verdict Verdict
		errIs   error // nil: scored; else the InputError must wrap it
	}{
		{"flat.png", encodePNG(t, flat), NoFace, nil},
		{"noise.png", encodePNG(t, noise), NoFace, nil},
		{"one-pixel.png", encodePNG(t, tiny), NoFace, nil},
		{"png-named.jpg", encodePNG(t, faceImg), Spoof, nil},
		{"huge-header.png", huge, "", preprocess.ErrTooManyPixels},
		{"empty.jpg", nil, "", preprocess.ErrEmpty},
		{"text.jpg", []byte("this is not an image\n"), "", preprocess.ErrUnsupportedFormat},
		{"truncated.jpg", truncated, "", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, err := s.ScoreReader(context.Background(), bytes.NewReader(tc.data), tc.name)
			if tc.verdict != "" {
				if err != nil || res.Verdict != tc.verdict {
					t.Fatalf("verdict %q err %v, want %q", res.Verdict, err, tc.verdict)
				}
				return
			}
			var ie *InputError
			if !errors.As(err, &ie) || ie.Name != tc.name {
				t.Fatalf("err = %v, want an InputError naming %s", err, tc.name)
			}
			if tc.errIs != nil && !errors.Is(err, tc.errIs) {
				t.Errorf("err = %v, want it to wrap %v", err, tc.errIs)
			}
			if res.Status != StatusError || res.Error != err.Error() || res.File != tc.name {
				t.Errorf("result %+v does not carry the error", res)
			}
		})
	}
}
