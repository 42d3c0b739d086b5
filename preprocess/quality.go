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
	lumaAt := func(x, y int) int32 {
		x, y = reflect101(x, w), reflect101(y, h)
		i := 3 * (y*w + x)
		return luma(img.Pix[i], img.Pix[i+1], img.Pix[i+2])
	}
	var sum, sumSq float64
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			l := float64(lumaAt(x-1, y) + lumaAt(x+1, y) + lumaAt(x, y-1) + lumaAt(x, y+1) - 4*lumaAt(x, y))
			sum += l
			sumSq += l * l
		}
	}
	n := float64(r.Dx() * r.Dy())
	mean := sum / n
	return max(0, sumSq/n-mean*mean)
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
