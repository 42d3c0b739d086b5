package preprocess

import (
	"fmt"
	"image"
	"math"
)

// Box is an axis-aligned face box in pixels of the upright (EXIF-rotated) image: top-left
// corner (X, Y), width W and height H. Its pixels are columns X..X+W−1 and rows Y..Y+H−1. It is
// the one box type of the pipeline: the detector's boxes, the crops' centre boxes and the boxes
// of scorer results ({"x", "y", "w", "h"} in JSON) are all this type.
type Box struct {
	X int `json:"x"`
	Y int `json:"y"`
	W int `json:"w"`
	H int `json:"h"`
}

// Rect returns the box as an image.Rectangle.
func (b Box) Rect() image.Rectangle { return image.Rect(b.X, b.Y, b.X+b.W, b.Y+b.H) }

// Area is W·H.
func (b Box) Area() int { return b.W * b.H }

func (b Box) String() string { return fmt.Sprintf("(%d,%d %d×%d)", b.X, b.Y, b.W, b.H) }

// Training-geometry mapping of PIPELINE §1.3: median factors relating the RetinaFace box the
// anti-spoof nets were trained on to the UltraFace box (297 photos where both found the face).
const (
	MapWidthFactor  = 1.17   // mapped width = 1.17·w
	MapHeightFactor = 0.863  // mapped height = 0.863·h
	MapShiftX       = -0.016 // centre moves by −0.016·w in x
	MapShiftY       = 0.071  // centre moves by +0.071·h in y
)

// RawBox converts a normalised detector box (x1, y1, x2, y2 in 0..1) to pixels of a W×H image
// as PIPELINE §1.3 does: x = int(x1·W), y = int(y1·H), w = int(x2·W − x1·W),
// h = int(y2·H − y1·H), computed in floating point and truncated toward zero.
func RawBox(x1, y1, x2, y2 float32, width, height int) Box {
	x, y, w, h := pixelBox(x1, y1, x2, y2, width, height)
	return Box{X: int(x), Y: int(y), W: int(w), H: int(h)}
}

// pixelBox is a normalised detector box in unrounded pixels of a W×H image: corner (x1·W, y1·H),
// width x2·W − x1·W and height y2·H − y1·H, computed in float64.
func pixelBox(x1, y1, x2, y2 float32, width, height int) (x, y, w, h float64) {
	fx1, fx2 := float64(x1)*float64(width), float64(x2)*float64(width)
	fy1, fy2 := float64(y1)*float64(height), float64(y2)*float64(height)
	return fx1, fy1, fx2 - fx1, fy2 - fy1
}

// MapBox maps a normalised detector box (x1, y1, x2, y2 in 0..1) of a W×H image to the training
// geometry (PIPELINE §1.3): from the unrounded pixel box (x1·W, y1·H, w = x2·W − x1·W,
// h = y2·H − y1·H), width ×1.17, height ×0.863, centre moved by −0.016·w in x and +0.071·h in y,
// then x = int(cx − nw/2), y = int(cy − nh/2), w = int(nw), h = int(nh) (truncation toward zero).
// Mapping the unrounded box, not RawBox's truncated one, is what golden/dev/dev_opencv_mappedbox.csv
// does on all 1,833 dev photos; its boxes lie within 1 px of golden/pipeline/pipeline.json's, which
// mapped the truncated box.
func MapBox(x1, y1, x2, y2 float32, width, height int) Box {
	x, y, w, h := pixelBox(x1, y1, x2, y2, width, height)
	nw, nh := w*MapWidthFactor, h*MapHeightFactor
	cx := x + w/2 + MapShiftX*w
	cy := y + h/2 + MapShiftY*h
	return Box{X: int(cx - nw/2), Y: int(cy - nh/2), W: int(nw), H: int(nh)}
}

// CropWindow returns the region the anti-spoof crop at the given scale takes from a W×H image
// around box (PIPELINE §1.4 steps 1–5), and the effective scale after clamping to the image,
// min((H−1)/h, (W−1)/w, scale). The window is shifted inside the image, not clipped, and its
// corners are truncated to integers; the returned rectangle is half-open, so the inclusive
// right and bottom pixel of §1.4 are r.Max.X−1 and r.Max.Y−1. Multi-crop (§1.7) calls it again
// with 0.9 and 0.8 times the effective scale.
func CropWindow(box Box, width, height int, scale float64) (r image.Rectangle, effectiveScale float64) {
	w, h := float64(max(box.W, 1)), float64(max(box.H, 1))
	W, H := float64(width), float64(height)
	scale = math.Min(math.Min((H-1)/h, (W-1)/w), scale)
	nw, nh := w*scale, h*scale
	cx, cy := w/2+float64(box.X), h/2+float64(box.Y)
	left, top := cx-nw/2, cy-nh/2
	right, bottom := cx+nw/2, cy+nh/2
	if left < 0 {
		right -= left
		left = 0
	}
	if top < 0 {
		bottom -= top
		top = 0
	}
	if right > W-1 {
		left -= right - W + 1
		right = W - 1
	}
	if bottom > H-1 {
		top -= bottom - H + 1
		bottom = H - 1
	}
	r = image.Rect(int(left), int(top), int(right)+1, int(bottom)+1)
	// Guard against boxes far outside the image: never return pixels outside it.
	r = r.Intersect(image.Rect(0, 0, width, height))
	return r, scale
}
