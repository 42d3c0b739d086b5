package preprocess

import (
	"fmt"
	"image"

	"github.com/spoofsense/spoofsense/models"
)

// SquareWindow is the square window of PIPELINE §1.8 step 1 around box at expansion f:
// md = max(w, h), centre (x + w/2, y + h/2), x0 = int(cx − md·f/2), y0 = int(cy − md·f/2),
// side cs = int(md·f), in float64 with truncation toward zero (Python's int()). Unlike
// CropWindow it is neither shifted nor clipped: the parts outside the image are filled by
// reflection (see SquareCrop). The side is at least 1.
func SquareWindow(box Box, f float64) image.Rectangle {
	md := float64(max(box.W, box.H))
	cx := float64(box.X) + float64(box.W)/2
	cy := float64(box.Y) + float64(box.H)/2
	x0, y0 := int(cx-md*f/2), int(cy-md*f/2)
	cs := max(int(md*f), 1)
	return image.Rect(x0, y0, x0+cs, y0+cs)
}

// reflect101 maps index p into 0..n−1 as OpenCV's borderInterpolate with BORDER_REFLECT_101
// (…dcb|abcd|cba…), repeating the reflection for indices more than one length outside.
func reflect101(p, n int) int {
	if n == 1 {
		return 0
	}
	for p < 0 || p >= n {
		if p < 0 {
			p = -p
		} else {
			p = 2*n - 2 - p
		}
	}
	return p
}

// SquareScratch holds the 8-bit buffers of one SquareCrop call, reused by the next one so that
// a steady stream of crops allocates only when a window is larger than any before. The zero
// value is ready to use; a SquareScratch must not be shared by concurrent calls.
type SquareScratch struct {
	window []uint8 // the cs×cs window, RGB
	side   []uint8 // the window resized to side×side, RGB
	resize resampleScratch
}

// grow returns b resliced to n elements, reallocated only when its capacity is short; the
// contents are whatever b held (zero when reallocated).
func grow[T any](b []T, n int) []T {
	if cap(b) < n {
		return make([]T, n)
	}
	return b[:n]
}

// SquareCrop writes the square input in describes (MiniFASNetV2SE-128's in models.Manifest:
// n = 128, RGB, /255) for the face box at expansion f into dst and returns it (PIPELINE §1.8):
// the SquareWindow with the parts outside the image filled by BORDER_REFLECT_101; with
// r = n/cs and side = int(cs·r) (which can be n−1), the window resized to side×side by
// OpenCV's INTER_AREA when r ≤ 1 and INTER_LANCZOS4 when r > 1, on 8-bit pixels; padded to
// n×n by BORDER_REFLECT_101 with (n−side)/2 before and the rest after; planes in in.Color
// order, value (v − in.Mean)/in.Std, NCHW [1,3,n,n]. dst is reused when it holds
// TensorLen(in) values; sc may be nil (buffers are then allocated).
func SquareCrop(img *Image, box Box, f float64, in models.Input, dst []float32, sc *SquareScratch) ([]float32, error) {
	if img.Width < 1 || img.Height < 1 {
		return nil, fmt.Errorf("square crop of an empty %d×%d image", img.Width, img.Height)
	}
	if in.Width != in.Height {
		return nil, fmt.Errorf("square crop: the input %q is %d×%d, not square", in.Name, in.Width, in.Height)
	}
	n := in.Width
	if sc == nil {
		sc = new(SquareScratch)
	}
	win := SquareWindow(box, f)
	cs := win.Dx()
	if cs > 4*max(img.Width, img.Height)+n {
		return nil, fmt.Errorf("square crop %v: far larger than the %d×%d image", win, img.Width, img.Height)
	}

	// The window, reflected at the image borders.
	sc.window = grow(sc.window, 3*cs*cs)
	stride := img.Stride()
	for y := range cs {
		srow := img.Pix[reflect101(win.Min.Y+y, img.Height)*stride:]
		drow := sc.window[3*cs*y : 3*cs*(y+1)]
		x := 0
		// Columns inside the image are one copy.
		for x < cs {
			sx := win.Min.X + x
			if sx >= 0 && sx < img.Width {
				n := min(cs-x, img.Width-sx)
				copy(drow[3*x:3*(x+n)], srow[3*sx:3*(sx+n)])
				x += n
				continue
			}
			p := 3 * reflect101(sx, img.Width)
			drow[3*x], drow[3*x+1], drow[3*x+2] = srow[p], srow[p+1], srow[p+2]
			x++
		}
	}

	// Resize to side×side (§1.8 step 4).
	r := float64(n) / float64(cs)
	side := min(max(int(float64(cs)*r), 1), n)
	sc.side = grow(sc.side, 3*side*side)
	if r <= 1 {
		resizeAreaWith(sc.side, side, side, sc.window, cs, cs, &sc.resize)
	} else {
		resizeLanczos4With(sc.side, side, side, sc.window, cs, cs, &sc.resize)
	}

	// Pad to n×n by reflection and write the tensor.
	if len(dst) < TensorLen(in) {
		dst = make([]float32, TensorLen(in))
	}
	dst = dst[:TensorLen(in)]
	plane := n * n
	rp, bp := 0, 2*plane
	if in.Color == models.BGR {
		rp, bp = bp, rp
	}
	mean, std := in.Mean, in.Std
	before := (n - side) / 2
	for y := range n {
		srow := sc.side[3*side*reflect101(y-before, side):]
		o := y * n
		rr := dst[rp+o : rp+o+n]
		g := dst[plane+o : plane+o+n]
		b := dst[bp+o : bp+o+n]
		for x := range rr {
			p := 3 * reflect101(x-before, side)
			rr[x] = (float32(srow[p]) - mean) / std
			g[x] = (float32(srow[p+1]) - mean) / std
			b[x] = (float32(srow[p+2]) - mean) / std
		}
	}
	return dst, nil
}
