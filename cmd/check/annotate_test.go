package check

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/jpeg"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/spoofsense/spoofsense/preprocess/preprocesstest"
	"github.com/spoofsense/spoofsense/scorer"
)

func TestAnnotationName(t *testing.T) {
	tests := []struct {
		in   string
		png  bool
		want string
	}{
		{"a/b.jpg", false, "a/b.jpg.annotated.jpg"},
		{"a/b.png", true, "a/b.png.annotated.png"},
		{"./x.heic", false, "x.heic.annotated.jpg"},
		{"/abs/dir/x.png", true, "abs/dir/x.png.annotated.png"},
		{"../../etc/passwd", false, "__/__/etc/passwd.annotated.jpg"},
		{"a/../../b.jpg", false, "__/b.jpg.annotated.jpg"},
		{"-", false, "stdin.annotated.jpg"},
		{"/", false, "image.annotated.jpg"},
	}
	for _, tt := range tests {
		got := annotationName(tt.in, tt.png)
		if got != filepath.FromSlash(tt.want) {
			t.Errorf("annotationName(%q) = %q, want %q", tt.in, got, tt.want)
		}
		if !filepath.IsLocal(got) {
			t.Errorf("annotationName(%q) = %q escapes the directory", tt.in, got)
		}
		if !isAnnotationName(filepath.Base(got)) {
			t.Errorf("isAnnotationName(%q) = false", got)
		}
	}
}

// TestAnnotate scores a directory and stdin with --annotate: every scored image gets a copy
// with its box drawn in the verdict's colour, inputs are untouched, error rows get no copy,
// and a second run over the same tree does not score the copies.
func TestAnnotate(t *testing.T) {
	dir := t.TempDir()
	live := filepath.Join(dir, "in", "live.png")
	spoof := filepath.Join(dir, "in", "sub", "x-spoof.jpg")
	inputs := map[string][]byte{live: writeBig(t, live, false), spoof: writeBig(t, spoof, true)}
	must(t, os.WriteFile(filepath.Join(dir, "in", "bad.jpg"), []byte("text"), 0o644))
	out := filepath.Join(dir, "out")
	stdin := encodeImage(t, 200, 150, 3, false)

	t.Chdir(dir)
	var readerCalls atomic.Int32
	r := runCmd(t, context.Background(), &fakeScorer{readerCalls: &readerCalls}, stdin, "--annotate", "out", "in", "-")
	if r.code != 3 { // bad.jpg
		t.Fatalf("exit %d, stderr %q", r.code, r.errOut)
	}
	// check decodes each image once and hands the scorer and the annotator the same pixels.
	if n := readerCalls.Load(); n != 0 {
		t.Errorf("the scorer decoded %d images again (ScoreReader), want 0", n)
	}
	for path, data := range inputs {
		if got, _ := os.ReadFile(path); !bytes.Equal(got, data) {
			t.Errorf("input %s was modified", path)
		}
	}
	tests := []struct {
		name string
		want color.RGBA
	}{
		{"in/live.png.annotated.png", verdictColor(scorer.Live)},
		{"in/sub/x-spoof.jpg.annotated.jpg", verdictColor(scorer.Spoof)},
		{"stdin.annotated.png", verdictColor(scorer.Live)},
	}
	for _, tt := range tests {
		f, err := os.Open(filepath.Join(out, filepath.FromSlash(tt.name)))
		if err != nil {
			t.Error(err)
			continue
		}
		img, _, err := image.Decode(f)
		f.Close()
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		// The fake's box is the middle half of the image: its left edge is at W/4.
		b := img.Bounds()
		got := color.RGBAModel.Convert(img.At(b.Dx()/4+1, b.Dy()/2)).(color.RGBA)
		if !near(got, tt.want) {
			t.Errorf("%s: box edge colour %v, want about %v", tt.name, got, tt.want)
		}
	}
	entries, _ := filepath.Glob(filepath.Join(out, "in", "bad*"))
	if len(entries) != 0 {
		t.Errorf("copies of an unreadable input: %q", entries)
	}

	// A second run with the copies beside the inputs does not score the copies.
	r = runCmd(t, context.Background(), &fakeScorer{}, nil, "--annotate", "in", "in")
	if rows := parseNDJSON(t, r.out); len(rows) != 3 {
		t.Errorf("second run scored %q", files(rows))
	}
	if _, err := os.Stat(filepath.Join(dir, "in", "in", "live.png.annotated.png")); err != nil {
		t.Error(err)
	}
	r = runCmd(t, context.Background(), &fakeScorer{}, nil, "--annotate", "in", "in")
	if rows := parseNDJSON(t, r.out); len(rows) != 3 {
		t.Errorf("third run scored %q", files(rows))
	}
}

func TestAnnotateDirIsAFile(t *testing.T) {
	dir := t.TempDir()
	img := filepath.Join(dir, "a.png")
	writeImage(t, img, 1)
	r := runCmd(t, context.Background(), &fakeScorer{}, nil, "--annotate", img, img)
	if r.code != 2 || r.loads != 0 {
		t.Errorf("exit %d loads %d stderr %q; want a usage error before loading", r.code, r.loads, r.errOut)
	}
}

func TestLooksLikeImage(t *testing.T) {
	tests := []struct {
		head string
		want bool
	}{
		{"\xff\xd8\xff\xe0\x00\x10JFIF", true},
		{"\x89PNG\r\n\x1a\n\x00\x00", true},
		{"GIF89a", true},
		{"RIFF\x10\x00\x00\x00WEBPVP8 ", true},
		{"II*\x00\x08\x00", true},
		{"\x00\x00\x00\x18ftypheic\x00\x00", true},
		{"\x00\x00\x00\x18ftypisom\x00\x00", false}, // an MP4 video
		{"BM\x36\x00\x0c\x00\x00\x00\x00\x00\x36\x00", true},
		{"BMW owners manual", false},
		{"hello world", false},
		{"", false},
	}
	for _, tt := range tests {
		if got := looksLikeImage([]byte(tt.head)); got != tt.want {
			t.Errorf("looksLikeImage(%q) = %v, want %v", tt.head, got, tt.want)
		}
	}
}

// writeBig writes a 240×180 image, big enough for a visible frame.
func writeBig(t *testing.T, path string, asJPEG bool) []byte {
	t.Helper()
	data := encodeImage(t, 240, 180, len(path), asJPEG)
	must(t, os.MkdirAll(filepath.Dir(path), 0o755))
	must(t, os.WriteFile(path, data, 0o644))
	return data
}

func near(a, b color.RGBA) bool {
	d := func(x, y uint8) int { return max(int(x), int(y)) - min(int(x), int(y)) }
	return d(a.R, b.R) < 40 && d(a.G, b.G) < 40 && d(a.B, b.B) < 40
}

// An EXIF-rotated input is annotated upright, as the scorer measured its boxes: a 240×180
// JPEG tagged orientation 6 (turn 90° clockwise to display) gives a 180×240 copy.
func TestAnnotateAppliesEXIFOrientation(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "rotated.jpg")
	must(t, os.WriteFile(in, preprocesstest.WithJPEGOrientation(encodeImage(t, 240, 180, 5, true), 6), 0o644))
	t.Chdir(dir)
	if r := runCmd(t, context.Background(), &fakeScorer{}, nil, "--annotate", "out", "--exit-zero", "rotated.jpg"); r.code != 0 {
		t.Fatalf("exit %d, stderr %q", r.code, r.errOut)
	}
	f, err := os.Open(filepath.Join(dir, "out", "rotated.jpg.annotated.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cfg, err := jpeg.DecodeConfig(f)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Width != 180 || cfg.Height != 240 {
		t.Errorf("annotated copy is %d×%d, want the upright 180×240", cfg.Width, cfg.Height)
	}
}
