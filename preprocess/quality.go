package preprocess

import "image"

// Luma of an 8-bit RGB pixel as OpenCV's cvtColor(…, COLOR_RGB2GRAY) computes it: BT.601
// weights 0.299, 0.587, 0.114 in 14-bit fixed point, rounded.
func luma(r, g, b uint8) int32 {
	return (int32(r)*4899 + int32(g)*9617 + int32(b)*1868 + 1<<13) >> 14
}

// clipBox returns the part of box inside the image as a rectangle.
func clipBox(img *Image, box Box) image.Rectangle {
	return box.Rect().Intersect(img.Bounds())
}

// MeanLuma returns the mean BT.601 luma (0..255) of the pixels of box inside the image, the
// PIPELINE §1.6 lighting measure; 0 when the box does not overlap the image.
func MeanLuma(img *Image, box Box) float64 {
	return meanOverBox(img, box, func(r, g, b uint8) int64 { return int64(luma(r, g, b)) })
}

// MeanChroma returns the mean chroma of the pixels of box inside the image: max(R, G, B) −
// min(R, G, B) per pixel (0..255), averaged. It is 0 for a grey image and a few units for a
// near-grey one (a sepia print, a monochrome screen); colour skin under ordinary light is well
// above that. The anti-spoof nets were trained on colour photos: a grey face scores lower even
// when it is live, and this is the measure that says why. It returns 0 when the box does not
// overlap the image.
func MeanChroma(img *Image, box Box) float64 {
	return meanOverBox(img, box, func(r, g, b uint8) int64 { return int64(max(r, g, b) - min(r, g, b)) })
}

// meanOverBox averages f over the pixels of box inside the image; 0 when they do not overlap.
func meanOverBox(img *Image, box Box, f func(r, g, b uint8) int64) float64 {
	rect := clipBox(img, box)
	if rect.Empty() {
		return 0
	}
	var sum int64
	for y := rect.Min.Y; y < rect.Max.Y; y++ {
		row := img.Pix[3*(y*img.Width+rect.Min.X) : 3*(y*img.Width+rect.Max.X)]
		for i := 0; i < len(row); i += 3 {
			sum += f(row[i], row[i+1], row[i+2])
		}
	}
	return float64(sum) / float64(rect.Dx()*rect.Dy())
}

// LaplacianVariance returns the variance of the Laplacian of the luma over the pixels of box
// inside the image, the usual sharpness (blur) measure of PIPELINE §1.6: low values mean a
// blurred face. The Laplacian is OpenCV's default 3×3 one (4-neighbour, centre −4); neighbours
// outside the box but inside the image are used, and image borders are mirrored without
// repeating the edge (OpenCV's BORDER_REFLECT_101). It returns 0 when the box does not overlap.
func LaplacianVariance(img *Image, box Box) float64 {
	r := clipBox(img, box)
	if r.Empty() {
		return 0
	}
	w, h := img.Width, img.Height
	// Luma of three rows (y−1, y, y+1) over the columns r.Min.X−1 … r.Max.X, rolled down
	// the box, so that each pixel's luma is computed once per row it is read in, not five
	// times. The sums are integers (exact in int64, as they were in float64).
	n := r.Dx() + 2
	buf := make([]int32, 3*n)
	fill := func(dst []int32, y int) {
		y = reflect101(y, h)
		row := img.Pix[3*y*w : 3*(y+1)*w]
		at := func(x int) int32 { return luma(row[3*x], row[3*x+1], row[3*x+2]) }
		dst[0], dst[n-1] = at(reflect101(r.Min.X-1, w)), at(reflect101(r.Max.X, w))
		in := row[3*r.Min.X : 3*r.Max.X]
		d := dst[1 : n-1]
		for i := range d {
			d[i] = luma(in[3*i], in[3*i+1], in[3*i+2])
		}
	}
	up, mid, down := buf[:n], buf[n:2*n], buf[2*n:]
	fill(up, r.Min.Y-1)
	fill(mid, r.Min.Y)
	var sum, sumSq int64
	for y := r.Min.Y; y < r.Max.Y; y++ {
		fill(down, y+1)
		for i := 1; i < n-1; i++ {
			l := int64(up[i] + down[i] + mid[i-1] + mid[i+1] - 4*mid[i])
			sum += l
			sumSq += l * l
		}
		up, mid, down = mid, down, up
	}
	cnt := float64(r.Dx() * r.Dy())
	mean := float64(sum) / cnt
	return max(0, float64(sumSq)/cnt-mean*mean)
}

// BorderDistance returns the smallest distance in pixels between the box and the image borders
// (left, top, right, bottom); negative when the box reaches outside the image. PIPELINE §1.6
// asks for at least 15 px.
func BorderDistance(box Box, width, height int) int {
	return min(box.X, box.Y, width-(box.X+box.W), height-(box.Y+box.H))
}

// AreaFraction returns the share of the image area covered by the part of box inside the
// width×height image. PIPELINE §1.6 asks for at least 0.2.
func AreaFraction(box Box, width, height int) float64 {
	if width <= 0 || height <= 0 {
		return 0
	}
	r := box.Rect().Intersect(image.Rect(0, 0, width, height))
	return float64(r.Dx()*r.Dy()) / float64(width*height)
}

// MinSide returns the shorter side of the box in pixels. PIPELINE §1.6 asks for at least 224.
func (b Box) MinSide() int { return min(b.W, b.H) }
