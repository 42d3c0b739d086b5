package preprocess

import (
	"image"
	"math"
	"testing"
)

// referenceResize is the obviously-correct floating-point form of OpenCV's INTER_LINEAR:
// source coordinate (d+0.5)·s/d − 0.5, clamped to the image, bilinear weights, rounded.
func referenceResize(src *Image, w, h int) *Image {
	coord := func(d, dn, sn int) (i0, i1 int, f float64) {
		s := (float64(d)+0.5)*float64(sn)/float64(dn) - 0.5
		s = max(0, min(s, float64(sn-1)))
		i0 = int(math.Floor(s))
		return i0, min(i0+1, sn-1), s - float64(i0)
	}
	dst := NewImage(w, h)
	for y := range h {
		y0, y1, fy := coord(y, h, src.Height)
		for x := range w {
			x0, x1, fx := coord(x, w, src.Width)
			for c := range 3 {
				p := func(x, y int) float64 { return float64(src.Pix[3*(y*src.Width+x)+c]) }
				v := (1-fy)*((1-fx)*p(x0, y0)+fx*p(x1, y0)) + fy*((1-fx)*p(x0, y1)+fx*p(x1, y1))
				dst.Pix[3*(y*w+x)+c] = uint8(math.Round(v))
			}
		}
	}
	return dst
}

func TestResizeMatchesReference(t *testing.T) {
	sizes := []struct{ sw, sh, dw, dh int }{
		{480, 640, 320, 240}, {173, 251, 80, 80}, {80, 80, 80, 80}, {1, 1, 80, 80}, {2, 3, 7, 5},
		{81, 79, 80, 80}, {640, 480, 80, 80}, {5, 400, 80, 80}, {33, 17, 320, 240},
	}
	for i, s := range sizes {
		src := noiseImage(s.sw, s.sh, uint64(i))
		got, err := Resize(src, src.Bounds(), s.dw, s.dh)
		if err != nil {
			t.Fatal(err)
		}
		want := referenceResize(src, s.dw, s.dh)
		worst := 0
		for j := range got.Pix {
			worst = max(worst, absDiff(got.Pix[j], want.Pix[j]))
		}
		// OpenCV's 11-bit weights and its vectorised rounding stay within 1 of the exact value.
		if worst > 1 {
			t.Errorf("%d×%d → %d×%d: max diff %d from the float reference, want ≤ 1", s.sw, s.sh, s.dw, s.dh, worst)
		}
	}
}

func TestResizeExactCases(t *testing.T) {
	// Same size is a copy; a flat image stays flat; halving averages 2×2 blocks with
	// OpenCV's (a+b+c+d+2)>>2 rounding (it switches to INTER_AREA there, which is bit-identical).
	src := noiseImage(40, 30, 9)
	same, _ := Resize(src, src.Bounds(), 40, 30)
	if d := pixelMeanAbsDiff(t, same, src); d != 0 {
		t.Errorf("same-size resize changed pixels (mean diff %.3f)", d)
	}
	flat, _ := Resize(flatImage(37, 91, 3, 128, 255), image.Rect(0, 0, 37, 91), 80, 80)
	if d := pixelMeanAbsDiff(t, flat, flatImage(80, 80, 3, 128, 255)); d != 0 {
		t.Errorf("flat image resized not flat (mean diff %.3f)", d)
	}
	half, _ := Resize(src, src.Bounds(), 20, 15)
	for y := range 15 {
		for x := range 20 {
			for c := range 3 {
				p := func(x, y int) int { return int(src.Pix[3*(y*40+x)+c]) }
				want := (p(2*x, 2*y) + p(2*x+1, 2*y) + p(2*x, 2*y+1) + p(2*x+1, 2*y+1) + 2) >> 2
				if got := int(half.Pix[3*(y*20+x)+c]); got != want {
					t.Fatalf("halving (%d,%d,%d) = %d, want %d", x, y, c, got, want)
				}
			}
		}
	}
	if _, err := Resize(src, image.Rect(50, 50, 60, 60), 10, 10); err == nil {
		t.Error("resizing a region outside the image did not fail")
	}
}

func TestLinearCoordWeights(t *testing.T) {
	tests := []struct {
		d      int
		scale  float64
		s      int
		w0, w1 int16
	}{
		{0, 1.5, 0, 1536, 512},      // f = 0.25
		{1, 1.5, 1, 512, 1536},      // f = 1.75
		{0, 0.5, -1, 512, 1536},     // f = −0.25 (the caller clamps columns, not rows)
		{3, 2, 6, 1024, 1024},       // f = 6.5
		{0, 1.0 / 3, -1, 683, 1365}, // f = −1/3: weights 682.67 and 1365.33 rounded
		{5, 1, 5, 2048, 0},          // same size: exact copy
	}
	for _, tt := range tests {
		s, w0, w1 := linearCoord(tt.d, tt.scale)
		if s != tt.s || w0 != tt.w0 || w1 != tt.w1 {
			t.Errorf("linearCoord(%d, %g) = %d, %d, %d; want %d, %d, %d", tt.d, tt.scale, s, w0, w1, tt.s, tt.w0, tt.w1)
		}
	}
}
