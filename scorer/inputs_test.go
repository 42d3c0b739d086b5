package scorer

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/jpeg"
	"image/png"
	"os"
	"strings"
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

// The generated inputs of testdata/inputs (preprocesstest.Inputs) get their verdict or a typed
// InputError naming the file; so do a dev face saved as PNG under a .jpg name and the same face
// cut in half.
func TestGeneratedInputs(t *testing.T) {
	var cache scorerCache
	s := cache.get(t, Options{})
	face, err := os.ReadFile(devImage(t, "image_F2.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	faceImg, err := preprocess.DecodeBytes(face, preprocess.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	type testCase struct {
		name    string
		data    []byte
		verdict Verdict
		errText string // for a refusal: a part of the error
		errIs   error  // for a refusal: when set, the InputError must wrap it
	}
	sentinels := map[string]error{
		"huge-header.png": preprocess.ErrTooManyPixels,
		"empty.jpg":       preprocess.ErrEmpty,
		"text.jpg":        preprocess.ErrUnsupportedFormat,
		"iphone.heic":     preprocess.ErrUnsupportedFormat,
	}
	var tests []testCase
	for _, in := range preprocesstest.Inputs() {
		tests = append(tests, testCase{in.Name, in.Data, Verdict(in.Verdict), in.Error, sentinels[in.Name]})
	}
	tests = append(tests,
		testCase{"face-png-named.jpg", encodePNG(t, faceImg), Spoof, "", nil},
		testCase{"face-truncated.jpg", face[:len(face)/2], "", "decode face-truncated.jpg", nil},
	)
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
			if !errors.As(err, &ie) || ie.Name != tc.name || !strings.Contains(err.Error(), tc.errText) {
				t.Fatalf("err = %v, want an InputError naming %s and saying %q", err, tc.name, tc.errText)
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

// An empty image from a Go caller is an input error, not a run on whatever the detector's
// input buffer held from the image before it.
func TestScoreEmptyImage(t *testing.T) {
	var cache scorerCache
	s := cache.get(t, Options{})
	data, err := os.ReadFile(devImage(t, "image_T1.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.ScoreReader(context.Background(), bytes.NewReader(data), "image_T1.jpg"); err != nil {
		t.Fatal(err)
	}
	res, err := s.Score(context.Background(), &preprocess.Image{})
	var inErr *InputError
	if !errors.As(err, &inErr) || res.Status != StatusError || res.Verdict != "" {
		t.Fatalf("Score(empty image) = status %q verdict %q, err %v; want an *InputError and an error result", res.Status, res.Verdict, err)
	}
}
