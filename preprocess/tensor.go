package preprocess

import (
	"fmt"
	"image"

	"github.com/spoofsense/spoofsense/scorer/engine/kernels"
)

// Tensor sizes of the nets (NCHW, batch 1).
const (
	DetectorWidth  = 320
	DetectorHeight = 240
	CropSize       = 80
	// DetectorInputLen and CropLen are the float32 counts of the two tensors.
	DetectorInputLen = 3 * DetectorHeight * DetectorWidth
	CropLen          = 3 * CropSize * CropSize
)

// Crop scales of the two anti-spoof nets (PIPELINE §1.4).
const (
	ScaleV2   = 2.7 // MiniFASNetV2
	ScaleV1SE = 4.0 // MiniFASNetV1SE
)

// DetectorInput writes the UltraFace input for img into dst and returns it: the whole image
// resized to 320×240 (aspect ratio not kept) with OpenCV's INTER_LINEAR, channels R, G, B,
// value (v − 127)/128, NCHW [1,3,240,320]. dst is reused when it holds DetectorInputLen values
// (then nothing is allocated) and allocated otherwise.
func DetectorInput(img *Image, dst []float32) []float32 {
	if len(dst) < DetectorInputLen {
		dst = make([]float32, DetectorInputLen)
	}
	dst = dst[:DetectorInputLen]
	const plane = DetectorWidth * DetectorHeight
	var sc resizeScratch
	z := newLinearResizer(img.Pix, img.Stride(), img.Width, img.Height, DetectorWidth, DetectorHeight, sc.buffers(DetectorWidth))
	for dy := range DetectorHeight {
		r0, r1, b0, b1 := z.rows(dy)
		o := dy * DetectorWidth
		for c := range 3 { // R, G, B rows into the R, G, B planes
			h := c * DetectorWidth
			kernels.ResizeBlend(dst[c*plane+o:c*plane+o+DetectorWidth], r0[h:h+DetectorWidth], r1[h:h+DetectorWidth], b0, b1, 127, 1.0/128)
		}
	}
	return dst
}

// CropFace writes the anti-spoof net input for the face box at the given scale into dst and
// returns it: the CropWindow region resized to 80×80 with OpenCV's INTER_LINEAR, channels
// B, G, R, values 0..255 (no normalisation), NCHW [1,3,80,80]. It also returns the effective
// scale. dst is reused when it holds CropLen values (then nothing is allocated).
func CropFace(img *Image, box Box, scale float64, dst []float32) ([]float32, float64, error) {
	r, eff := CropWindow(box, img.Width, img.Height, scale)
	dst, err := CropRegion(img, r, dst)
	return dst, eff, err
}

// CropRegion is CropFace on an explicit window r (as CropWindow returns), for callers that
// compute windows themselves, such as multi-crop.
func CropRegion(img *Image, r image.Rectangle, dst []float32) ([]float32, error) {
	if r.Empty() || !r.In(img.Bounds()) {
		return nil, fmt.Errorf("crop %v: outside the %d×%d image", r, img.Width, img.Height)
	}
	if len(dst) < CropLen {
		dst = make([]float32, CropLen)
	}
	dst = dst[:CropLen]
	const plane = CropSize * CropSize
	var sc resizeScratch
	stride := img.Stride()
	z := newLinearResizer(img.Pix[r.Min.Y*stride+3*r.Min.X:], stride, r.Dx(), r.Dy(), CropSize, CropSize, sc.buffers(CropSize))
	for dy := range CropSize {
		r0, r1, b0, b1 := z.rows(dy)
		o := dy * CropSize
		for c := range 3 { // R, G, B rows into the B, G, R planes
			h, p := c*CropSize, (2-c)*plane
			kernels.ResizeBlend(dst[p+o:p+o+CropSize], r0[h:h+CropSize], r1[h:h+CropSize], b0, b1, 0, 1)
		}
	}
	return dst, nil
}
