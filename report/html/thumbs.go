package html

import (
	"errors"
	"fmt"
	"image"
	"image/jpeg"
	"io/fs"
	"os"

	xdraw "golang.org/x/image/draw"

	"github.com/spoofsense/spoofsense/preprocess"
)

// Thumbnail size and quality.
const (
	thumbMaxSide = 160
	thumbQuality = 80
)

// writeThumbnail decodes the image file src upright (EXIF orientation applied, within the
// default size limits) and writes it as a JPEG to dst, scaled to fit thumbMaxSide pixels.
func writeThumbnail(src, dst string) error {
	f, err := os.Open(src)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err // the caption names the image; the page never shows its full path
		}
		return fmt.Errorf("open: %w", err)
	}
	img, err := preprocess.Decode(f, preprocess.Limits{})
	f.Close()
	if err != nil {
		return fmt.Errorf("decode: %w", err)
	}
	w, h := img.Width, img.Height
	if w == 0 || h == 0 {
		return errors.New("empty image")
	}
	if s := max(w, h); s > thumbMaxSide {
		w, h = max(1, w*thumbMaxSide/s), max(1, h*thumbMaxSide/s)
	}
	thumb := image.NewRGBA(image.Rect(0, 0, w, h))
	xdraw.BiLinear.Scale(thumb, thumb.Bounds(), img, img.Bounds(), xdraw.Src, nil)
	out, err := os.Create(dst)
	if err != nil {
		return fmt.Errorf("thumbnail: %w", err)
	}
	if err := jpeg.Encode(out, thumb, &jpeg.Options{Quality: thumbQuality}); err != nil {
		out.Close()
		return fmt.Errorf("thumbnail %s: %w", dst, err)
	}
	if err := out.Close(); err != nil {
		return fmt.Errorf("thumbnail %s: %w", dst, err)
	}
	return nil
}
