package check

import (
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/image/draw"
	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"

	"github.com/spoofsense/spoofsense/preprocess"
	"github.com/spoofsense/spoofsense/scorer"
)

// annotationSuffix ends every annotated copy's name, before the extension.
const annotationSuffix = ".annotated"

// annotator writes annotated copies of scored images below one directory. Names are derived
// from the input path (see annotationName) and opened through an os.Root, so neither a ".."
// in an input path nor a symlink inside the directory can make it write elsewhere. It is safe
// for concurrent use.
type annotator struct {
	root *os.Root
}

func newAnnotator(dir string) (*annotator, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, err
	}
	return &annotator{root: root}, nil
}

func (a *annotator) Close() error { return a.root.Close() }

// annotationName derives the copy's path below the annotation directory from the input's
// name: the cleaned path with ".." turned into "__" and any root or volume dropped, then
// ".annotated.jpg" (or ".png" when pngOut) appended to the full file name, so that "a/x.jpg"
// and "a/x.png" never collide and an input is never its own output. "-" (stdin) becomes
// "stdin.annotated.jpg".
func annotationName(name string, pngOut bool) string {
	ext := ".jpg"
	if pngOut {
		ext = ".png"
	}
	if name == "-" {
		return "stdin" + annotationSuffix + ext
	}
	name = filepath.ToSlash(filepath.Clean(strings.TrimPrefix(name, filepath.VolumeName(name))))
	var parts []string
	for _, p := range strings.Split(name, "/") {
		switch p {
		case "", ".":
			continue
		case "..":
			p = "__"
		}
		parts = append(parts, p)
	}
	if len(parts) == 0 {
		parts = []string{"image"}
	}
	return filepath.FromSlash(strings.Join(parts, "/")) + annotationSuffix + ext
}

// isAnnotationName reports whether base looks like a file annotate wrote.
func isAnnotationName(base string) bool {
	lower := strings.ToLower(base)
	return strings.HasSuffix(lower, annotationSuffix+".jpg") || strings.HasSuffix(lower, annotationSuffix+".png")
}

// annotate draws r's face boxes and verdict on a copy of img — the image the scorer scored,
// upright as the boxes were measured — and writes it as JPEG (PNG when the input was PNG).
// input is the input's path ("" for stdin); it is never overwritten.
func (a *annotator) annotate(r scorer.Result, img *preprocess.Image, input string) error {
	canvas := toRGBA(img)
	drawResult(canvas, r)

	rel := annotationName(r.File, img.Format == preprocess.FormatPNG)
	if !filepath.IsLocal(rel) {
		return fmt.Errorf("annotate %s: unsafe output name %q", r.File, rel)
	}
	if input != "" {
		if in, err := os.Stat(input); err == nil {
			if out, err := a.root.Stat(rel); err == nil && os.SameFile(in, out) {
				return fmt.Errorf("annotate %s: refusing to overwrite the input %s", r.File, rel)
			}
		}
	}
	if dir := filepath.Dir(rel); dir != "." {
		if err := a.root.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("annotate %s: %w", r.File, err)
		}
	}
	// Write a temporary file and rename it, so a reader never sees half an image.
	tmp := fmt.Sprintf("%s.%08x.tmp", rel, rand.Uint32())
	f, err := a.root.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return fmt.Errorf("annotate %s: %w", r.File, err)
	}
	if img.Format == preprocess.FormatPNG {
		err = png.Encode(f, canvas)
	} else {
		err = jpeg.Encode(f, canvas, &jpeg.Options{Quality: 90})
	}
	err = errors.Join(err, f.Close())
	if err == nil {
		err = a.root.Rename(tmp, rel)
	}
	if err != nil {
		_ = a.root.Remove(tmp)
		return fmt.Errorf("annotate %s: write %s: %w", r.File, rel, err)
	}
	return nil
}

// toRGBA copies a decoded RGB image into an RGBA canvas to draw on.
func toRGBA(img *preprocess.Image) *image.RGBA {
	rgba := image.NewRGBA(image.Rect(0, 0, img.Width, img.Height))
	for i, j := 0, 0; i < len(img.Pix); i, j = i+3, j+4 {
		rgba.Pix[j], rgba.Pix[j+1], rgba.Pix[j+2], rgba.Pix[j+3] = img.Pix[i], img.Pix[i+1], img.Pix[i+2], 0xff
	}
	return rgba
}

// verdictColor is the colour of a box and label: green live, red spoof, amber otherwise.
func verdictColor(v scorer.Verdict) color.RGBA {
	switch v {
	case scorer.Live:
		return color.RGBA{0, 200, 0, 255}
	case scorer.Spoof:
		return color.RGBA{230, 0, 0, 255}
	}
	return color.RGBA{240, 180, 0, 255}
}

// drawResult draws each scored face's box and a label with its verdict and probability, or
// just a label in the corner when no face was scored.
func drawResult(img *image.RGBA, r scorer.Result) {
	size := img.Rect.Dx()
	if h := img.Rect.Dy(); h < size {
		size = h
	}
	scale := max(1, size/400)
	thick := max(2, size/150)
	faces := r.Faces
	if len(faces) == 0 && r.Face != nil {
		faces = []scorer.Face{*r.Face}
		faces[0].Verdict, faces[0].ProbReal = r.Verdict, r.ProbReal
	}
	if len(faces) == 0 {
		drawLabel(img, image.Pt(0, 0), labelText(r.Verdict, 0, false), verdictColor(r.Verdict), scale)
		return
	}
	for _, f := range faces {
		v := f.Verdict
		if v == "" {
			v = r.Verdict
		}
		c := verdictColor(v)
		b := f.Box.Rect()
		drawFrame(img, b, thick, c)
		drawLabel(img, b.Min, labelText(v, f.ProbReal, true), c, scale)
	}
}

func labelText(v scorer.Verdict, prob float64, withProb bool) string {
	text := strings.ToUpper(strings.ReplaceAll(string(v), "_", " "))
	if withProb {
		text += fmt.Sprintf(" %.2f", prob)
	}
	return text
}

// drawFrame draws the outline of b, thick pixels wide, inside b.
func drawFrame(img *image.RGBA, b image.Rectangle, thick int, c color.RGBA) {
	u := image.NewUniform(c)
	for _, side := range []image.Rectangle{
		image.Rect(b.Min.X, b.Min.Y, b.Max.X, b.Min.Y+thick),
		image.Rect(b.Min.X, b.Max.Y-thick, b.Max.X, b.Max.Y),
		image.Rect(b.Min.X, b.Min.Y, b.Min.X+thick, b.Max.Y),
		image.Rect(b.Max.X-thick, b.Min.Y, b.Max.X, b.Max.Y),
	} {
		draw.Draw(img, side.Intersect(b).Intersect(img.Rect), u, image.Point{}, draw.Src)
	}
}

// drawLabel draws text in basicfont on a c-coloured plate, enlarged scale times, just above at
// (or, when there is no room, just below) the point at.
func drawLabel(img *image.RGBA, at image.Point, text string, c color.RGBA, scale int) {
	face := *basicfont.Face7x13 // a copy: font.Drawer wants its face to itself
	const pad = 2
	w := font.MeasureString(&face, text).Ceil() + 2*pad
	h := face.Height + 2*pad
	plate := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.Draw(plate, plate.Rect, image.NewUniform(c), image.Point{}, draw.Src)
	d := font.Drawer{Dst: plate, Src: image.White, Face: &face,
		Dot: fixed.P(pad, pad+face.Ascent)}
	d.DrawString(text)

	sw, sh := w*scale, h*scale
	y := at.Y - sh
	if y < img.Rect.Min.Y {
		y = at.Y
	}
	x := min(at.X, img.Rect.Max.X-sw)
	x = max(x, img.Rect.Min.X)
	draw.NearestNeighbor.Scale(img, image.Rect(x, y, x+sw, y+sh), plate, plate.Rect, draw.Src, nil)
}
