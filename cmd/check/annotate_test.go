package check

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"os"
	"path/filepath"
	"testing"

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
	r := runCmd(t, context.Background(), &fakeScorer{}, stdin, "--annotate", "out", "in", "-")
	if r.code != 3 { // bad.jpg
		t.Fatalf("exit %d, stderr %q", r.code, r.errOut)
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

func TestOrient(t *testing.T) {
	// A 3×2 image whose pixels are numbered 0..5 row by row:  0 1 2 / 3 4 5.
	src := image.NewRGBA(image.Rect(0, 0, 3, 2))
	for i := range 6 {
		src.SetRGBA(i%3, i/3, color.RGBA{R: uint8(i), A: 255})
	}
	tests := []struct {
		orientation int
		want        [][]uint8 // rows of the result
	}{
		{1, [][]uint8{{0, 1, 2}, {3, 4, 5}}},
		{2, [][]uint8{{2, 1, 0}, {5, 4, 3}}},
		{3, [][]uint8{{5, 4, 3}, {2, 1, 0}}},
		{4, [][]uint8{{3, 4, 5}, {0, 1, 2}}},
		{5, [][]uint8{{0, 3}, {1, 4}, {2, 5}}},
		{6, [][]uint8{{3, 0}, {4, 1}, {5, 2}}},
		{7, [][]uint8{{5, 2}, {4, 1}, {3, 0}}},
		{8, [][]uint8{{2, 5}, {1, 4}, {0, 3}}},
	}
	for _, tt := range tests {
		got := orient(src, tt.orientation)
		if got.Rect.Dy() != len(tt.want) || got.Rect.Dx() != len(tt.want[0]) {
			t.Errorf("orientation %d: size %v", tt.orientation, got.Rect)
			continue
		}
		for y, row := range tt.want {
			for x, v := range row {
				if p := got.RGBAAt(x, y).R; p != v {
					t.Errorf("orientation %d: (%d,%d) = %d, want %d", tt.orientation, x, y, p, v)
				}
			}
		}
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
