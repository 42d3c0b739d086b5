package preprocess

import (
	"image"
	"testing"
)

func TestRawBox(t *testing.T) {
	tests := []struct {
		x1, y1, x2, y2 float32
		w, h           int
		want           Box
	}{
		{0.25, 0.5, 0.75, 1, 400, 200, Box{100, 100, 200, 100}},
		{0.1, 0.1, 0.2, 0.2, 99, 99, Box{9, 9, 9, 9}},       // 9.9 → 9, 19.8−9.9 = 9.9 → 9
		{-0.015, 0, 0.5, 0.5, 100, 100, Box{-1, 0, 51, 50}}, // −1.5 truncates toward zero
	}
	for _, tt := range tests {
		if got := RawBox(tt.x1, tt.y1, tt.x2, tt.y2, tt.w, tt.h); got != tt.want {
			t.Errorf("RawBox(%g,%g,%g,%g, %d×%d) = %v, want %v", tt.x1, tt.y1, tt.x2, tt.y2, tt.w, tt.h, got, tt.want)
		}
	}
}

func TestMapBox(t *testing.T) {
	tests := []struct {
		name           string
		x1, y1, x2, y2 float32
		w, h           int
		want           Box
	}{
		// w=100, h=200: nw=117, nh=172.6; cx = 0+50−1.6 = 48.4, cy = 0+100+14.2 = 114.2;
		// x = int(−10.1) = −10 (truncation toward zero), y = int(27.9) = 27.
		{"hand-computed", 0, 0, 0.5, 1, 200, 200, Box{-10, 27, 117, 172}},
		// pipeline.json's F2 detection: unrounded box x 148.33, y 193.34, w 200.46, h 308.46.
		// Mapping the truncated box (148, 193, 200, 308) would give (127, 235, 234, 265).
		{"unrounded box", 0.3090275526046753, 0.30209022760391235, 0.7266377210617065, 0.7840625643730164, 480, 640, Box{128, 236, 234, 266}},
	}
	for _, tt := range tests {
		if got := MapBox(tt.x1, tt.y1, tt.x2, tt.y2, tt.w, tt.h); got != tt.want {
			t.Errorf("%s: MapBox = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestQualityMeasures(t *testing.T) {
	flat := flatImage(100, 80, 200, 100, 50)
	box := Box{10, 10, 50, 40}
	wantLuma := float64((200*4899 + 100*9617 + 50*1868 + 8192) >> 14)
	if got := MeanLuma(flat, box); got != wantLuma {
		t.Errorf("MeanLuma(flat) = %g, want %g", got, wantLuma)
	}
	if got := LaplacianVariance(flat, box); got != 0 {
		t.Errorf("LaplacianVariance(flat) = %g, want 0", got)
	}
	checker := newTestImage(100, 80, func(x, y int) (uint8, uint8, uint8) {
		if (x+y)%2 == 0 {
			return 255, 255, 255
		}
		return 0, 0, 0
	})
	// Every pixel's Laplacian is ±4·255 (4 opposite neighbours), alternating: variance (1020)².
	if got := LaplacianVariance(checker, Box{0, 0, 100, 80}); got != 1020*1020 {
		t.Errorf("LaplacianVariance(checkerboard) = %g, want %d", got, 1020*1020)
	}
	sharp := noiseImage(100, 80, 1)
	blurred, _ := Resize(sharp, sharp.Bounds(), 25, 20)
	blurred, _ = Resize(blurred, blurred.Bounds(), 100, 80)
	if s, b := LaplacianVariance(sharp, box), LaplacianVariance(blurred, box); b >= s/4 {
		t.Errorf("blurred variance %g not well below sharp %g", b, s)
	}
	if got := MeanLuma(flat, Box{200, 200, 10, 10}); got != 0 {
		t.Errorf("MeanLuma outside the image = %g, want 0", got)
	}
}

func TestBoxGeometryHelpers(t *testing.T) {
	tests := []struct {
		box      Box
		w, h     int
		border   int
		fraction float64
	}{
		{Box{15, 20, 50, 40}, 100, 100, 15, 0.2},
		{Box{0, 0, 100, 100}, 100, 100, 0, 1},
		{Box{-10, 50, 20, 20}, 100, 100, -10, 0.02},
		{Box{60, 60, 50, 50}, 100, 100, -10, 0.16},
	}
	for _, tt := range tests {
		if got := BorderDistance(tt.box, tt.w, tt.h); got != tt.border {
			t.Errorf("BorderDistance(%v) = %d, want %d", tt.box, got, tt.border)
		}
		if got := AreaFraction(tt.box, tt.w, tt.h); got != tt.fraction {
			t.Errorf("AreaFraction(%v) = %g, want %g", tt.box, got, tt.fraction)
		}
	}
	if got := (Box{0, 0, 300, 224}).MinSide(); got != 224 {
		t.Errorf("MinSide = %d, want 224", got)
	}
}

// TestCropWindowBorders checks §1.4 step 4 where it matters: a window whose right (or bottom)
// edge lands between W−1 and W is shifted by that fraction, which moves its truncated left (top)
// edge by a pixel; one past the left (top) edge is shifted right (down) by the overshoot.
func TestCropWindowBorders(t *testing.T) {
	tests := []struct {
		box   Box
		scale float64
		want  image.Rectangle
	}{
		// nw = 11.5, right = 99.75 > 99: left 88.25 − 0.75 = 87.5 → 87; right 99 → Max 100.
		{Box{89, 40, 10, 10}, 1.15, image.Rect(87, 39, 100, 51)},
		{Box{40, 89, 10, 10}, 1.15, image.Rect(39, 87, 51, 100)},
		// left = 6 − 6.5 < 0: right −= left → 13; the window starts at 0 (top 45 − 6.5 → 38).
		{Box{1, 40, 10, 10}, 1.3, image.Rect(0, 38, 14, 52)},
		{Box{40, 1, 10, 10}, 1.3, image.Rect(38, 0, 52, 14)},
		// Clamped scale: min((H−1)/h, (W−1)/w, 4) = 99/50 on a 100×100 image: the whole image.
		{Box{20, 20, 50, 50}, 4, image.Rect(0, 0, 100, 100)},
	}
	for _, tc := range tests {
		if got, _ := CropWindow(tc.box, 100, 100, tc.scale); got != tc.want {
			t.Errorf("CropWindow(%v, 100×100, %g) = %v, want %v", tc.box, tc.scale, got, tc.want)
		}
	}
}

// refLaplacianVariance is LaplacianVariance as its doc defines it: the luma computed at
// each of the five taps of every pixel, borders reflected with reflect101.
func refLaplacianVariance(img *Image, box Box) float64 {
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

func TestLaplacianVarianceMatchesDefinition(t *testing.T) {
	for _, tt := range []struct {
		name string
		w, h int
		box  Box
	}{
		{"inside", 60, 40, Box{10, 5, 30, 20}},
		{"whole image", 60, 40, Box{0, 0, 60, 40}},
		{"beyond every border", 60, 40, Box{-5, -7, 80, 60}},
		{"top-left corner", 33, 21, Box{-3, -3, 8, 9}},
		{"bottom-right corner", 33, 21, Box{28, 15, 10, 10}},
		{"one column", 20, 20, Box{19, 0, 1, 20}},
		{"one row", 20, 20, Box{0, 0, 20, 1}},
		{"1×1 image", 1, 1, Box{0, 0, 1, 1}},
		{"one-row image", 17, 1, Box{0, 0, 17, 1}},
		{"one-column image", 1, 17, Box{0, 0, 1, 17}},
		{"outside", 20, 20, Box{30, 30, 5, 5}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			img := noiseImage(tt.w, tt.h, 7)
			if got, want := LaplacianVariance(img, tt.box), refLaplacianVariance(img, tt.box); got != want {
				t.Errorf("LaplacianVariance = %v, want %v", got, want)
			}
		})
	}
}
