package check

import (
	"errors"
	"fmt"
	"image"
	"image/color"
	_ "image/gif" // decoders for the annotated copies
	"image/jpeg"
	"image/png"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"

	_ "golang.org/x/image/bmp"
	"golang.org/x/image/draw"
	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"
	_ "golang.org/x/image/tiff"
	_ "golang.org/x/image/webp"

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

// annotate decodes the image src (again), draws r's face boxes and verdict on it and writes
// it as JPEG (PNG when the input was PNG). input is the input's path ("" for stdin); it is
// never overwritten.
//
// TODO: decode with preprocess.Decode (same limits and EXIF handling as the scorer) once it
// exists; until then image.Decode is used and the EXIF orientation the scorer reported is
// applied here.
func (a *annotator) annotate(r scorer.Result, src io.Reader, input string) error {
	img, format, err := image.Decode(src)
	if err != nil {
		return fmt.Errorf("annotate %s: decode: %w", r.File, err)
	}
	canvas := orient(toRGBA(img), r.Image.Orientation)
	drawResult(canvas, r)

	rel := annotationName(r.File, format == "png")
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
	if format == "png" {
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

func toRGBA(img image.Image) *image.RGBA {
	if rgba, ok := img.(*image.RGBA); ok && rgba.Rect.Min == (image.Point{}) {
		return rgba
	}
	b := img.Bounds()
	rgba := image.NewRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	draw.Draw(rgba, rgba.Rect, img, b.Min, draw.Src)
	return rgba
}

// orient applies an EXIF orientation (1–8) to src, the way the scorer did before it measured
// the face box.
func orient(src *image.RGBA, orientation int) *image.RGBA {
	if orientation < 2 || orientation > 8 {
		return src
	}
	w, h := src.Rect.Dx(), src.Rect.Dy()
	dw, dh := w, h
	if orientation >= 5 {
		dw, dh = h, w
	}
	dst := image.NewRGBA(image.Rect(0, 0, dw, dh))
	for y := range dh {
		for x := range dw {
			var sx, sy int
			switch orientation {
			case 2: // mirrored horizontally
				sx, sy = w-1-x, y
			case 3: // rotated 180°
				sx, sy = w-1-x, h-1-y
			case 4: // mirrored vertically
				sx, sy = x, h-1-y
			case 5: // transposed
				sx, sy = y, x
			case 6: // needs a 90° clockwise turn
				sx, sy = y, h-1-x
			case 7: // transversed
				sx, sy = w-1-y, h-1-x
			case 8: // needs a 90° counter-clockwise turn
				sx, sy = w-1-y, x
			}
			dst.SetRGBA(x, y, src.RGBAAt(sx, sy))
		}
	}
	return dst
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
		b := image.Rect(f.Box.X, f.Box.Y, f.Box.X+f.Box.W, f.Box.Y+f.Box.H)
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
