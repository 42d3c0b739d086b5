package preprocess

import (
	"image"
	"testing"
)

func TestCropWindow(t *testing.T) {
	tests := []struct {
		name  string
		box   Box
		w, h  int
		scale float64
		want  image.Rectangle
		eff   float64
	}{
		// Centre (100,100), 2× → 80×80 window 60..140 (inclusive right 140).
		{"fits", Box{80, 80, 40, 40}, 400, 300, 2, image.Rect(60, 60, 141, 141), 2},
		// Left/top would be −10: shifted right/down, not clipped.
		{"shift left and up", Box{10, 10, 40, 40}, 400, 300, 2, image.Rect(0, 0, 81, 81), 2},
		// Right would be 419 > 399: shifted left by 20.
		{"shift right", Box{360, 100, 40, 40}, 400, 300, 2, image.Rect(319, 80, 400, 161), 2},
		// Scale clamped by the height: min(299/100, 399/50, 4) = 2.99.
		{"clamped", Box{100, 100, 50, 100}, 400, 300, 4, image.Rect(50, 0, 200, 300), 2.99},
		// Truncation of fractional corners: centre 50.5, half-size 27.5 → 23.0..78.0.
		{"fractional", Box{30, 30, 41, 41}, 200, 200, 55.0 / 41, image.Rect(23, 23, 79, 79), 55.0 / 41},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, eff := CropWindow(tt.box, tt.w, tt.h, tt.scale)
			if r != tt.want || eff != tt.eff {
				t.Errorf("CropWindow = %v, %g; want %v, %g", r, eff, tt.want, tt.eff)
			}
			if !r.In(image.Rect(0, 0, tt.w, tt.h)) {
				t.Errorf("window %v outside the %d×%d image", r, tt.w, tt.h)
			}
		})
	}
}

func TestMultiCropWindowsShareTheCentre(t *testing.T) {
	box := Box{200, 250, 100, 130}
	_, s := CropWindow(box, 480, 640, scaleV1SE())
	prev := image.Rect(0, 0, 480, 640)
	for _, f := range []float64{1, 0.9, 0.8} {
		r, eff := CropWindow(box, 480, 640, f*s)
		if eff != f*s {
			t.Errorf("factor %g: effective scale %g, want %g", f, eff, f*s)
		}
		if !r.In(prev) {
			t.Errorf("factor %g: window %v not inside the larger %v", f, r, prev)
		}
		prev = r
	}
}

func TestDetectorInputValues(t *testing.T) {
	img := flatImage(640, 480, 255, 127, 0)
	dst, err := DetectorInput(img, detIn(), make([]float32, TensorLen(detIn())))
	if err != nil {
		t.Fatal(err)
	}
	plane := detIn().Width * detIn().Height
	for c, want := range []float32{1, 0, -127.0 / 128} {
		for i := c * plane; i < (c+1)*plane; i++ {
			if dst[i] != want {
				t.Fatalf("channel %d value %d = %g, want %g", c, i-c*plane, dst[i], want)
			}
		}
	}
}

func TestCropFaceChannelOrder(t *testing.T) {
	// Left half red, right half blue: the crop's first plane is blue (B, G, R order).
	img := newTestImage(200, 200, func(x, y int) (uint8, uint8, uint8) {
		if x < 100 {
			return 250, 10, 0
		}
		return 0, 10, 250
	})
	dst, eff, err := CropFace(img, Box{50, 50, 100, 100}, 1, cropIn(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(dst) != TensorLen(cropIn()) || eff != 1 {
		t.Fatalf("len %d eff %g, want %d and 1", len(dst), eff, TensorLen(cropIn()))
	}
	plane := cropIn().Width * cropIn().Height
	left, right := 10, 70 // columns well inside each half of the 80-px crop
	if dst[left] != 0 || dst[right] != 250 || dst[plane+left] != 10 || dst[2*plane+left] != 250 || dst[2*plane+right] != 0 {
		t.Errorf("B(l,r)=%g,%g G=%g R(l,r)=%g,%g; want 0,250 10 250,0",
			dst[left], dst[right], dst[plane+left], dst[2*plane+left], dst[2*plane+right])
	}
}

func TestCropFaceMatchesResize(t *testing.T) {
	img := noiseImage(120, 90, 4)
	box := Box{30, 20, 40, 50}
	dst, _, err := CropFace(img, box, 1.5, cropIn(), nil)
	if err != nil {
		t.Fatal(err)
	}
	r, _ := CropWindow(box, img.Width, img.Height, 1.5)
	want, _ := Resize(img, r, cropIn().Width, cropIn().Width)
	plane := cropIn().Width * cropIn().Height
	for i := range plane {
		if dst[2*plane+i] != float32(want.Pix[3*i]) || dst[plane+i] != float32(want.Pix[3*i+1]) || dst[i] != float32(want.Pix[3*i+2]) {
			t.Fatalf("pixel %d differs from Resize of the crop window", i)
		}
	}
}

func TestTensorOutsideImage(t *testing.T) {
	if _, err := Tensor(flatImage(10, 10, 1, 1, 1), image.Rect(5, 5, 20, 20), cropIn(), nil); err == nil {
		t.Error("crop outside the image did not fail")
	}
}

func TestTensorFunctionsDoNotAllocate(t *testing.T) {
	img := noiseImage(480, 640, 5)
	det := make([]float32, TensorLen(detIn()))
	crop := make([]float32, TensorLen(cropIn()))
	box := Box{120, 110, 175, 250}
	di, ci, scale := detIn(), cropIn(), scaleV2()
	if n := testing.AllocsPerRun(5, func() { _, _ = DetectorInput(img, di, det) }); n != 0 {
		t.Errorf("DetectorInput allocates %.0f times with dst given", n)
	}
	if n := testing.AllocsPerRun(5, func() { _, _, _ = CropFace(img, box, scale, ci, crop) }); n != 0 {
		t.Errorf("CropFace allocates %.0f times with dst given", n)
	}
}
