package jpeg

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"
	stdjpeg "image/jpeg"
	"io"
	"math/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spoofsense/spoofsense/models/fixtures"
)

// libjpegCases are the files in testdata made by testdata/libjpeg_ref.c: NAME.jpeg was
// encoded by libjpeg-turbo and NAME.planes holds the component planes libjpeg-turbo
// decodes from it with JDCT_ISLOW.
var libjpegCases = []string{
	"libjpeg-420-q75",
	"libjpeg-420-q1",
	"libjpeg-422-q90",
	"libjpeg-440-q50",
	"libjpeg-444-q100",
	"libjpeg-gray-q60",
	"libjpeg-420-q85-progressive",
	"libjpeg-gray-q30-progressive",
	"libjpeg-420-q80-restart",
	"libjpeg-rgb-q80",
	"libjpeg-cmyk-q80",
}

// readTestdata returns the contents of testdata/name.
func readTestdata(tb testing.TB, name string) []byte {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// planes returns the samples of img as libjpeg's raw output lays them out: each
// component's plane at its own resolution, rows packed, in component order. CMYK
// images are un-inverted (Decode inverts Adobe CMYK; libjpeg's raw output does not).
func planes(tb testing.TB, img image.Image) []byte {
	tb.Helper()
	var out []byte
	appendPlane := func(pix []byte, stride, w, h int) {
		for y := range h {
			out = append(out, pix[y*stride:y*stride+w]...)
		}
	}
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	switch m := img.(type) {
	case *image.Gray:
		appendPlane(m.Pix, m.Stride, w, h)
	case *image.YCbCr:
		cw, ch := w, h
		switch m.SubsampleRatio {
		case image.YCbCrSubsampleRatio420:
			cw, ch = (w+1)/2, (h+1)/2
		case image.YCbCrSubsampleRatio422:
			cw = (w + 1) / 2
		case image.YCbCrSubsampleRatio440:
			ch = (h + 1) / 2
		case image.YCbCrSubsampleRatio411:
			cw = (w + 3) / 4
		case image.YCbCrSubsampleRatio410:
			cw, ch = (w+3)/4, (h+1)/2
		}
		appendPlane(m.Y, m.YStride, w, h)
		appendPlane(m.Cb, m.CStride, cw, ch)
		appendPlane(m.Cr, m.CStride, cw, ch)
	case *image.RGBA: // An Adobe RGB JPEG: the planes are interleaved as they are.
		for c := range 3 {
			for y := range h {
				for x := range w {
					out = append(out, m.Pix[y*m.Stride+4*x+c])
				}
			}
		}
	case *image.CMYK:
		for c := range 4 {
			for y := range h {
				for x := range w {
					out = append(out, 255-m.Pix[y*m.Stride+4*x+c])
				}
			}
		}
	default:
		tb.Fatalf("unexpected image type %T", img)
	}
	return out
}

// TestDecodeMatchesLibjpeg checks that the decoded samples equal libjpeg-turbo's
// exactly, for several subsamplings, qualities, colour spaces, progressive and
// restart-interval files.
func TestDecodeMatchesLibjpeg(t *testing.T) {
	for _, name := range libjpegCases {
		t.Run(name, func(t *testing.T) {
			img, err := Decode(bytes.NewReader(readTestdata(t, name+".jpeg")))
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			want := readTestdata(t, name+".planes")
			got := planes(t, img)
			if len(got) != len(want) {
				t.Fatalf("%T %v: %d samples, libjpeg has %d", img, img.Bounds(), len(got), len(want))
			}
			n, first := 0, -1
			for i := range want {
				if got[i] != want[i] {
					if first < 0 {
						first = i
					}
					n++
				}
			}
			if n > 0 {
				t.Errorf("%d of %d samples differ from libjpeg's; first at %d: got %d, want %d",
					n, len(want), first, got[first], want[first])
			}
		})
	}
}

// testPicture returns a deterministic RGBA picture with gradients, hard edges,
// saturated areas and noise, the content on which IDCTs disagree most.
func testPicture(w, h int, seed int64) *image.RGBA {
	rnd := rand.New(rand.NewSource(seed))
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	clamp := func(v int) uint8 { return uint8(max(0, min(255, v))) }
	for y := range h {
		for x := range w {
			n := rnd.Intn(61) - 30
			r, g, b := 255*x/max(1, w-1), 255*y/max(1, h-1), 0
			if (x/7+y/5)%2 == 0 {
				b = 255
			}
			if x > 2*w/3 && y < h/3 {
				r, g, b = 255, 255, 255
			}
			img.SetRGBA(x, y, color.RGBA{clamp(r + n), clamp(g - n), clamp(b + n/2), 255})
		}
	}
	return img
}

// stdlibCase is a named JPEG file, usually one image/jpeg encoded.
type stdlibCase struct {
	name string
	data []byte
}

// stdlibCases encodes colour (4:2:0) and grey test pictures of several sizes with
// image/jpeg at several qualities.
func stdlibCases(tb testing.TB) []stdlibCase {
	tb.Helper()
	var cases []stdlibCase
	for _, size := range []image.Point{{1, 1}, {8, 8}, {17, 9}, {61, 47}} {
		for _, q := range []int{1, 10, 50, 75, 90, 100} {
			pic := testPicture(size.X, size.Y, int64(q))
			gray := image.NewGray(pic.Bounds())
			for y := range size.Y {
				for x := range size.X {
					gray.Set(x, y, pic.At(x, y))
				}
			}
			for _, src := range []image.Image{pic, gray} {
				var buf bytes.Buffer
				if err := stdjpeg.Encode(&buf, src, &stdjpeg.Options{Quality: q}); err != nil {
					tb.Fatal(err)
				}
				cases = append(cases, stdlibCase{fmt.Sprintf("%T-%dx%d-q%d", src, size.X, size.Y, q), buf.Bytes()})
			}
		}
	}
	return cases
}

// compareToStdlib decodes data with Decode and with image/jpeg and checks that
// both give the same image type, bounds and subsampling and samples within
// ±tolerance. It returns how many samples differ.
func compareToStdlib(tb testing.TB, data []byte, tolerance int) int {
	tb.Helper()
	got, err := Decode(bytes.NewReader(data))
	if err != nil {
		tb.Fatalf("Decode: %v", err)
	}
	want, err := stdjpeg.Decode(bytes.NewReader(data))
	if err != nil {
		tb.Fatalf("image/jpeg Decode: %v", err)
	}
	if fmt.Sprintf("%T", got) != fmt.Sprintf("%T", want) || got.Bounds() != want.Bounds() {
		tb.Fatalf("got %T %v, image/jpeg gives %T %v", got, got.Bounds(), want, want.Bounds())
	}
	if g, ok := got.(*image.YCbCr); ok {
		if r := want.(*image.YCbCr).SubsampleRatio; g.SubsampleRatio != r {
			tb.Fatalf("subsample ratio %v, image/jpeg gives %v", g.SubsampleRatio, r)
		}
	}
	gp, wp := planes(tb, got), planes(tb, want)
	differ := 0
	for i := range gp {
		d := int(gp[i]) - int(wp[i])
		if d != 0 {
			differ++
		}
		if d < -tolerance || d > tolerance {
			tb.Fatalf("sample %d: got %d, image/jpeg gives %d (tolerance ±%d)", i, gp[i], wp[i], tolerance)
		}
	}
	return differ
}

// TestDecodeCloseToStdlib checks that Decode and image/jpeg differ only by IDCT
// rounding on images image/jpeg encoded.
func TestDecodeCloseToStdlib(t *testing.T) {
	for _, c := range stdlibCases(t) {
		t.Run(c.name, func(t *testing.T) {
			compareToStdlib(t, c.data, 2)
		})
	}
}

// TestDecodeRealPhoto decodes a camera photo: it must be within IDCT rounding of
// image/jpeg's result and, because the IDCTs differ, not identical to it.
func TestDecodeRealPhoto(t *testing.T) {
	data, err := os.ReadFile(fixtures.Path(t, "data", "dev", "live", "image_T1.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	if n := compareToStdlib(t, data, 2); n == 0 {
		t.Error("decoded samples are identical to image/jpeg's; the libjpeg IDCT is not in use")
	}
}

func TestDecodeConfig(t *testing.T) {
	files := stdlibCases(t)
	for _, name := range libjpegCases {
		files = append(files, stdlibCase{name, readTestdata(t, name+".jpeg")})
	}
	for _, f := range files {
		t.Run(f.name, func(t *testing.T) {
			got, err := DecodeConfig(bytes.NewReader(f.data))
			if err != nil {
				t.Fatalf("DecodeConfig: %v", err)
			}
			want, err := stdjpeg.DecodeConfig(bytes.NewReader(f.data))
			if err != nil {
				t.Fatalf("image/jpeg DecodeConfig: %v", err)
			}
			if got != want {
				t.Errorf("got %+v, image/jpeg gives %+v", got, want)
			}
			img, err := Decode(bytes.NewReader(f.data))
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if b := img.Bounds(); b.Dx() != got.Width || b.Dy() != got.Height || img.ColorModel() != got.ColorModel {
				t.Errorf("Decode gives %v %v, DecodeConfig %+v", b, img.ColorModel(), got)
			}
		})
	}
}

// TestDecodeErrors checks that broken input gives the right error instead of a
// panic or a hang.
func TestDecodeErrors(t *testing.T) {
	valid := readTestdata(t, "libjpeg-420-q75.jpeg")
	tests := []struct {
		name  string
		input []byte
		want  func(error) bool
	}{
		{"empty", nil, func(err error) bool { return err == io.ErrUnexpectedEOF }},
		{"not a JPEG", []byte("GIF89a........"), isFormatError},
		// From image/jpeg's TestIssue56724: a header cut short is an unexpected EOF.
		{"truncated header", valid[:24], func(err error) bool { return err == io.ErrUnexpectedEOF }},
		{"truncated scan", valid[:len(valid)/2], isFormatError},
		// From image/jpeg's TestLargeImageWithShortData: a fuzzer-made 8192×8192
		// frame with 504 bytes of data must fail quickly.
		{"large image, short data", []byte(largeImageWithShortData), func(err error) bool { return err != nil }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Decode(bytes.NewReader(tt.input))
			if !tt.want(err) {
				t.Errorf("got error %v", err)
			}
		})
	}
}

func isFormatError(err error) bool {
	var fe FormatError
	return errors.As(err, &fe)
}

// TestTruncatedSOSDataDoesntPanic is image/jpeg's test of the same name.
func TestTruncatedSOSDataDoesntPanic(t *testing.T) {
	b := readTestdata(t, "libjpeg-gray-q60.jpeg")
	i := bytes.Index(b, []byte{0xff, 0xda})
	if i < 0 {
		t.Fatal("SOS marker not found")
	}
	for j := i + 2; j < min(i+12, len(b)); j++ {
		if _, err := Decode(bytes.NewReader(b[:j])); err == nil {
			t.Errorf("%d bytes: decoded a JPEG cut inside the SOS header", j)
		}
	}
}

// eofReader returns data and then dataEOF, the latter together with io.EOF.
type eofReader struct {
	data    []byte // Read first, without EOF.
	dataEOF []byte // Read last, returned together with io.EOF.
}

func (r *eofReader) Read(b []byte) (n int, err error) {
	if len(r.data) > 0 {
		n = copy(b, r.data)
		r.data = r.data[n:]
		return n, nil
	}
	n = copy(b, r.dataEOF)
	r.dataEOF = r.dataEOF[n:]
	if len(r.dataEOF) == 0 {
		err = io.EOF
	}
	return n, err
}

// TestDecodeEOF is image/jpeg's test of the same name: a reader that returns the
// final data together with io.EOF must still decode.
func TestDecodeEOF(t *testing.T) {
	data := readTestdata(t, "libjpeg-420-q85-progressive.jpeg")
	n := len(data)
	for i := 0; i < n; i = max(1, 2*i) {
		if _, err := Decode(&eofReader{data[:n-i], data[n-i:]}); err != nil {
			t.Errorf("last %d bytes read with EOF: %v", i, err)
		}
	}
}

// TestExtraneousData is image/jpeg's test of the same name: junk between the
// entropy-coded data and the EOI marker does not affect decoding.
func TestExtraneousData(t *testing.T) {
	src := image.NewRGBA(image.Rect(0, 0, 1, 1))
	src.Set(0, 0, color.RGBA{0xff, 0x00, 0x00, 0xff})
	var buf bytes.Buffer
	if err := stdjpeg.Encode(&buf, src, nil); err != nil {
		t.Fatalf("encode: %v", err)
	}
	enc := buf.String()
	if !strings.HasSuffix(enc, "\xff\xd9") || !strings.Contains(enc[len(enc)-64:], "\xff\xda") {
		t.Fatalf("unexpected encoding: % x", enc)
	}
	want, err := Decode(strings.NewReader(enc))
	if err != nil {
		t.Fatal(err)
	}
	rnd := rand.New(rand.NewSource(1))
	for i, nerr := 0, 0; i < 1000 && nerr < 10; i++ {
		buf.Reset()
		buf.WriteString(enc[:len(enc)-2])
		for n := rnd.Intn(10); n > 0; n-- {
			if x := byte(rnd.Intn(256)); x != 0xff {
				buf.WriteByte(x)
			} else {
				buf.WriteString("\xff\x00") // A stuffed 0xff data byte.
			}
		}
		buf.WriteString("\xff\xd9")
		got, err := Decode(&buf)
		if err != nil {
			t.Errorf("image #%d: %v", i, err)
			nerr++
			continue
		}
		if !bytes.Equal(planes(t, got), planes(t, want)) {
			t.Errorf("image #%d: junk before EOI changed the samples", i)
			nerr++
		}
	}
}

// TestBadRestartMarker is image/jpeg's test of the same name: bytes inserted
// before a restart marker are skipped, but a wrong marker is an error.
func TestBadRestartMarker(t *testing.T) {
	b := readTestdata(t, "libjpeg-420-q80-restart.jpeg")
	sos := bytes.Index(b, []byte{0xff, 0xda})
	rst := bytes.Index(b[max(sos, 0):], []byte{0xff, 0xd1})
	if sos < 0 || rst < 0 {
		t.Fatal("test image has no RST1 marker after its SOS marker")
	}
	prefix, suffix := b[:sos+rst], b[sos+rst:]
	tests := []struct {
		infix string
		ok    bool
	}{
		{"", true},
		{"\x00", true},
		{"\x61", true},
		{"\x61\x62\x63\xff\x00\x64", true},
		{"\xff", true},
		{"\xff\x00", true},
		{"\xff\xff\xff\x00\xff\x00\x00\xff\xff\xff", true},
		{"\xff\x03", false},
		{"\xff\xd5", false},
		{"\xff\xff\xd5", false},
	}
	for _, tt := range tests {
		data := append(append(append([]byte(nil), prefix...), tt.infix...), suffix...)
		_, err := Decode(bytes.NewReader(data))
		if (err == nil) != tt.ok {
			t.Errorf("%q before RST1: got error %v, want success %v", tt.infix, err, tt.ok)
		}
	}
}

// largeImageWithShortData is the input of image/jpeg's TestLargeImageWithShortData,
// based on the fuzzer-generated image in Go issue 10413.
const largeImageWithShortData = "" +
	"\xff\xd8\xff\xe0\x00\x10\x4a\x46\x49\x46\x00\x01\x01\x00\x00\x01" +
	"\x00\x01\x00\x00\xff\xdb\x00\x43\x00\x10\x0b\x0c\x0e\x0c\x0a\x10" +
	"\x0e\x89\x0e\x12\x11\x10\x13\x18\xff\xd8\xff\xe0\x00\x10\x4a\x46" +
	"\x49\x46\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xdb\x00\x43" +
	"\x00\x10\x0b\x0c\x0e\x0c\x0a\x10\x0e\x0d\x0e\x12\x11\x10\x13\x18" +
	"\x28\x1a\x18\x16\x16\x18\x31\x23\x25\x1d\x28\x3a\x33\x3d\x3c\x39" +
	"\x33\x38\x37\x40\x48\x5c\x4e\x40\x44\x57\x45\x37\x38\x50\x6d\x51" +
	"\x57\x5f\x62\x67\x68\x67\x3e\x4d\x71\x79\x70\x64\x78\x5c\x65\x67" +
	"\x63\xff\xc0\x00\x0b\x08\x20\x00\x20\x00\x01\x01\x11\x00\xff\xc4" +
	"\x00\x1f\x00\x00\x01\x05\x01\x01\x01\x01\x01\x01\x00\x00\x00\x00" +
	"\x00\x00\x00\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\xff" +
	"\xc4\x00\xb5\x10\x00\x02\x01\x03\x03\x02\x04\x03\x05\x05\x04\x04" +
	"\x00\x00\x01\x7d\x01\x02\x03\x00\x04\x11\x05\x12\x21\x31\x01\x06" +
	"\x13\x51\x61\x07\x22\x71\x14\x32\x81\x91\xa1\x08\x23\xd8\xff\xdd" +
	"\x42\xb1\xc1\x15\x52\xd1\xf0\x24\x33\x62\x72\x82\x09\x0a\x16\x17" +
	"\x18\x19\x1a\x25\x26\x27\x28\x29\x2a\x34\x35\x36\x37\x38\x39\x3a" +
	"\x43\x44\x45\x46\x47\x48\x49\x4a\x53\x54\x55\x56\x57\x58\x59\x5a" +
	"\x00\x63\x64\x65\x66\x67\x68\x69\x6a\x73\x74\x75\x76\x77\x78\x79" +
	"\x7a\x83\x84\x85\x86\x87\x88\x89\x8a\x92\x93\x94\x95\x96\x97\x98" +
	"\x99\x9a\xa2\xa3\xa4\xa5\xa6\xa7\xa8\xa9\xaa\xb2\xb3\xb4\xb5\xb6" +
	"\xb7\xb8\xb9\xba\xc2\xc3\xc4\xc5\xc6\xc7\xff\xd8\xff\xe0\x00\x10" +
	"\x4a\x46\x49\x46\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xdb" +
	"\x00\x43\x00\x10\x0b\x0c\x0e\x0c\x0a\x10\x0e\x0d\x0e\x12\x11\x10" +
	"\x13\x18\x28\x1a\x18\x16\x16\x18\x31\x23\x25\x1d\xc8\xc9\xca\xd2" +
	"\xd3\xd4\xd5\xd6\xd7\xd8\xd9\xda\xe1\xe2\xe3\xe4\xe5\xe6\xe7\xe8" +
	"\xe9\xea\xf1\xf2\xf3\xf4\xf5\xf6\xf7\xf8\xf9\xfa\xff\xda\x00\x08" +
	"\x01\x01\x00\x00\x3f\x00\xb9\xeb\x50\xb0\xdb\xc8\xa8\xe4\x63\x80" +
	"\xdd\x31\xd6\x9d\xbb\xf2\xc5\x42\x1f\x6c\x6f\xf4\x34\xdd\x3c\xfc" +
	"\xac\xe7\x3d\x80\xa9\xcc\x87\x34\xb3\x37\xfa\x2b\x9f\x6a\xad\x63" +
	"\x20\x36\x9f\x78\x64\x75\xe6\xab\x7d\xb2\xde\x29\x70\xd3\x20\x27" +
	"\xde\xaf\xa4\xf0\xca\x9f\x24\xa8\xdf\x46\xa8\x24\x84\x96\xe3\x77" +
	"\xf9\x2e\xe0\x0a\x62\x7f\xdf\xd9"
