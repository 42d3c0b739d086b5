package preprocess

import (
	"fmt"
	"image"

	"github.com/spoofsense/spoofsense/models"
	"github.com/spoofsense/spoofsense/scorer/engine/kernels"
)

// TensorLen is the float32 count of the NCHW tensor in describes, batch 1.
func TensorLen(in models.Input) int { return 3 * in.Width * in.Height }

// DetectorInput writes the detector input in describes (UltraFace's in models.Manifest: the
// whole image resized to 320×240, aspect ratio not kept) for img into dst and returns it, as
// Tensor does for the whole image; an empty image is an error. dst is reused when it holds
// TensorLen(in) values (then nothing is allocated) and allocated otherwise.
func DetectorInput(img *Image, in models.Input, dst []float32) ([]float32, error) {
	return Tensor(img, img.Bounds(), in, dst)
}

// CropFace writes the anti-spoof net input in describes for the face box at the given scale
// into dst and returns it: the CropWindow region as Tensor writes it (for the MiniFASNets
// 80×80, channels B, G, R, values 0..255). It also returns the effective scale. dst is reused
// when it holds TensorLen(in) values (then nothing is allocated).
func CropFace(img *Image, box Box, scale float64, in models.Input, dst []float32) ([]float32, float64, error) {
	r, eff := CropWindow(box, img.Width, img.Height, scale)
	dst, err := Tensor(img, r, in, dst)
	return dst, eff, err
}

// Tensor writes the model input in describes for the region r of img into dst and returns
// it: r resized to in.Width×in.Height with OpenCV's INTER_LINEAR (PIPELINE §1.3, §1.4),
// planes in in.Color order, value (v − in.Mean)/in.Std, NCHW [1,3,Height,Width]. It is the
// detector's input for the whole image and a MiniFASNet's for a CropWindow. dst is reused when
// it holds TensorLen(in) values (then nothing is allocated).
func Tensor(img *Image, r image.Rectangle, in models.Input, dst []float32) ([]float32, error) {
	if r.Empty() || !r.In(img.Bounds()) {
		return nil, fmt.Errorf("crop %v: outside the %d×%d image", r, img.Width, img.Height)
	}
	w, h := in.Width, in.Height
	n := TensorLen(in)
	if len(dst) < n {
		dst = make([]float32, n)
	}
	dst = dst[:n]
	plane := w * h
	// The image's R, G, B rows go to planes 0, 1, 2 for RGB and 2, 1, 0 for BGR.
	planeOf := [3]int{0, plane, 2 * plane}
	if in.Color == models.BGR {
		planeOf = [3]int{2 * plane, plane, 0}
	}
	sub, scale := in.Mean, 1/in.Std
	var sc resizeScratch
	stride := img.Stride()
	z := newLinearResizer(img.Pix[r.Min.Y*stride+3*r.Min.X:], stride, r.Dx(), r.Dy(), w, h, sc.buffers(w))
	for dy := range h {
		r0, r1, b0, b1 := z.rows(dy)
		o := dy * w
		for c := range 3 {
			hc, p := c*w, planeOf[c]
			kernels.ResizeBlend(dst[p+o:p+o+w], r0[hc:hc+w], r1[hc:hc+w], b0, b1, sub, scale)
		}
	}
	return dst, nil
}
