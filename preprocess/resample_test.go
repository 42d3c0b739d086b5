package preprocess

import (
	"math"
	"math/rand/v2"
	"testing"
)

// grey3 makes a w×h RGB image whose three channels all hold the given row-major values.
func grey3(w, h int, v ...uint8) []uint8 {
	out := make([]uint8, 3*w*h)
	for i, x := range v {
		out[3*i], out[3*i+1], out[3*i+2] = x, x, x
	}
	return out
}

// channel0 returns the first channel of an RGB buffer.
func channel0(rgb []uint8) []int {
	out := make([]int, len(rgb)/3)
	for i := range out {
		out[i] = int(rgb[3*i])
	}
	return out
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestResizeArea checks INTER_AREA's three code paths on values worked out by hand from
// OpenCV's definitions (imgproc/src/resize.cpp).
func TestResizeArea(t *testing.T) {
	cases := []struct {
		name           string
		sw, sh, dw, dh int
		src            []uint8
		want           []int
	}{
		// Scale 2: (a+b+c+d+2)>>2 rounds half up: 0+0+1+1 = 2 → 1 (half to even would give 0).
		{"x2 rounds half up", 2, 2, 1, 1, []uint8{0, 0, 1, 1}, []int{1}},
		{"x2 rows", 4, 2, 2, 1, []uint8{10, 20, 30, 41, 10, 20, 30, 40}, []int{15, 35}},
		// Scale 3: sum·float32(1/9), half to even: 13/9 = 1.44 → 1; 14/9 = 1.56 → 2.
		{"x3 sum 13", 3, 3, 1, 1, []uint8{1, 1, 1, 1, 1, 1, 1, 3, 3}, []int{1}},
		{"x3 sum 14", 3, 3, 1, 1, []uint8{1, 1, 1, 1, 1, 1, 2, 3, 3}, []int{2}},
		// Scale 1.5 (3 → 2): taps (1/1.5, 0.5/1.5) then (0.5/1.5, 1/1.5): (2a+b)/3, (b+2c)/3.
		{"x1.5", 3, 1, 2, 1, []uint8{0, 3, 9}, []int{1, 7}},
		{"x1.5 rounds", 3, 1, 2, 1, []uint8{10, 11, 200}, []int{10, 137}},
		// Same size is a copy.
		{"x1", 2, 1, 2, 1, []uint8{7, 250}, []int{7, 250}},
		// Odd, non-integer on one axis and integer on the other: 5×2 → 2×1 averages 2.5 columns
		// of both rows: (v0+v1+v2/2)/2.5 and (v2/2+v3+v4)/2.5.
		{"x2.5 by x2", 5, 2, 2, 1, []uint8{10, 10, 10, 20, 20, 10, 10, 10, 20, 20}, []int{10, 18}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dst := make([]uint8, 3*c.dw*c.dh)
			resizeArea(dst, c.dw, c.dh, grey3(c.sw, c.sh, c.src...), c.sw, c.sh)
			if got := channel0(dst); !equalInts(got, c.want) {
				t.Errorf("got %v, want %v", got, c.want)
			}
		})
	}
}

// TestResizeAreaMatchesDefinition compares the general path with area averaging written out
// in float64 (each output the mean of the source area it covers): OpenCV's float32 arithmetic
// may round the other way only at a half, so every value is within 1.
func TestResizeAreaMatchesDefinition(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, sz := range [][4]int{{200, 200, 128, 128}, {129, 129, 128, 128}, {300, 170, 127, 127}, {7, 5, 3, 2}, {1000, 999, 128, 128}} {
		sw, sh, dw, dh := sz[0], sz[1], sz[2], sz[3]
		src := make([]uint8, 3*sw*sh)
		for i := range src {
			src[i] = uint8(rng.IntN(256))
		}
		dst := make([]uint8, 3*dw*dh)
		resizeArea(dst, dw, dh, src, sw, sh)
		sx, sy := float64(sw)/float64(dw), float64(sh)/float64(dh)
		cover := func(d int, s float64, p int) float64 { // share of source pixel p in output cell d
			lo, hi := float64(d)*s, float64(d+1)*s
			return math.Max(0, math.Min(hi, float64(p+1))-math.Max(lo, float64(p)))
		}
		worst := 0.0
		for dy := range dh {
			for dx := range dw {
				for c := range 3 {
					var sum, area float64
					for y := int(float64(dy) * sy); y < min(sh, int(math.Ceil(float64(dy+1)*sy))); y++ {
						for x := int(float64(dx) * sx); x < min(sw, int(math.Ceil(float64(dx+1)*sx))); x++ {
							a := cover(dy, sy, y) * cover(dx, sx, x)
							sum += a * float64(src[3*(y*sw+x)+c])
							area += a
						}
					}
					worst = math.Max(worst, math.Abs(float64(dst[3*(dy*dw+dx)+c])-sum/area))
				}
			}
		}
		if worst > 0.5+1e-3 {
			t.Errorf("%d×%d → %d×%d: an output is %.3f from the area mean, want ≤ 0.5", sw, sh, dw, dh, worst)
		}
	}
}

// lanczosDefinition is the Lanczos-4 kernel sinc(t)·sinc(t/4), t in pixels.
func lanczosDefinition(t float64) float64 {
	if t == 0 {
		return 1
	}
	if math.Abs(t) >= 4 {
		return 0
	}
	return 4 * math.Sin(math.Pi*t) * math.Sin(math.Pi*t/4) / (math.Pi * math.Pi * t * t)
}

// TestLanczos4Coeffs checks OpenCV's recurrence against the kernel's definition: tap i of
// offset x is L(x+3−i), normalised to sum 1.
func TestLanczos4Coeffs(t *testing.T) {
	for _, x := range []float32{0, 0.125, 0.25, 0.5, 0.75, 0.999} {
		got := lanczos4Coeffs(x)
		var want [8]float64
		var sum float64
		for i := range want {
			want[i] = lanczosDefinition(float64(x) + 3 - float64(i))
			sum += want[i]
		}
		for i := range want {
			if d := math.Abs(float64(got[i]) - want[i]/sum); d > 1e-6 {
				t.Errorf("x=%g tap %d: %g, want %g", x, i, got[i], want[i]/sum)
			}
		}
	}
	// At offset 0 the centre tap takes everything: the others are ~1e-30 and round to 0.
	if w := lanczosTaps(5, 5, nil)[2].w; w != [8]int32{0, 0, 0, 2048, 0, 0, 0, 0} {
		t.Errorf("fixed-point taps at offset 0: %v, want the identity tap", w)
	}
}

// TestResizeLanczos4 checks enlarging on cases with known answers.
func TestResizeLanczos4(t *testing.T) {
	t.Run("flat stays flat", func(t *testing.T) {
		for _, v := range []uint8{0, 1, 100, 254, 255} {
			dst := make([]uint8, 3*7*7)
			resizeLanczos4(dst, 7, 7, grey3(3, 3, v, v, v, v, v, v, v, v, v), 3, 3)
			for i, got := range dst {
				if got != v {
					t.Fatalf("value %d: output %d is %d", v, i, got)
				}
			}
		}
	})
	t.Run("one pixel fills the output", func(t *testing.T) {
		dst := make([]uint8, 3*128*128)
		resizeLanczos4(dst, 128, 128, []uint8{9, 200, 255}, 1, 1)
		for i := 0; i < len(dst); i += 3 {
			if dst[i] != 9 || dst[i+1] != 200 || dst[i+2] != 255 {
				t.Fatalf("pixel %d is %v, want [9 200 255]", i/3, dst[i:i+3])
			}
		}
	})
	t.Run("edge rings and saturates", func(t *testing.T) {
		// A 0|255 step enlarged 4×: Lanczos overshoots on both sides, which 8-bit output
		// saturates to 0 and 255 (never wraps). The row is what cv2.resize(…, INTER_LANCZOS4)
		// of OpenCV 4.6 returns for it.
		dst := make([]uint8, 3*16)
		resizeLanczos4(dst, 16, 1, grey3(4, 1, 0, 0, 255, 255), 4, 1)
		want := []int{12, 6, 0, 0, 0, 0, 25, 91, 164, 230, 255, 255, 255, 255, 249, 243}
		if got := channel0(dst); !equalInts(got, want) {
			t.Errorf("got %v, want %v", got, want)
		}
	})
	t.Run("matches the definition", func(t *testing.T) {
		// Random image enlarged by a non-integer factor: each output is within 1 of the kernel
		// applied in float64 with replicated borders (OpenCV rounds the weights to 11 bits).
		rng := rand.New(rand.NewPCG(3, 4))
		sw, sh, dw, dh := 37, 23, 128, 101
		src := make([]uint8, 3*sw*sh)
		for i := range src {
			src[i] = uint8(64 + rng.IntN(128)) // away from 0 and 255, where output saturates
		}
		dst := make([]uint8, 3*dw*dh)
		resizeLanczos4(dst, dw, dh, src, sw, sh)
		weights := func(d int, s float64) (int, [8]float64) {
			f := (float64(d)+0.5)*s - 0.5
			i := int(math.Floor(f))
			var w [8]float64
			var sum float64
			for k := range w {
				w[k] = lanczosDefinition(f - float64(i-3+k))
				sum += w[k]
			}
			for k := range w {
				w[k] /= sum
			}
			return i - 3, w
		}
		worst := 0.0
		for dy := range dh {
			y0, wy := weights(dy, float64(sh)/float64(dh))
			for dx := range dw {
				x0, wx := weights(dx, float64(sw)/float64(dw))
				for c := range 3 {
					var v float64
					for ky := range 8 {
						for kx := range 8 {
							y, x := max(0, min(sh-1, y0+ky)), max(0, min(sw-1, x0+kx))
							v += wy[ky] * wx[kx] * float64(src[3*(y*sw+x)+c])
						}
					}
					worst = math.Max(worst, math.Abs(float64(dst[3*(dy*dw+dx)+c])-v))
				}
			}
		}
		if worst > 1 {
			t.Errorf("an output is %.3f from the kernel's value, want ≤ 1", worst)
		}
	})
}

func TestReflect101(t *testing.T) {
	cases := []struct{ p, n, want int }{
		{0, 1, 0}, {-5, 1, 0}, {7, 1, 0},
		{-1, 4, 1}, {-3, 4, 3}, {4, 4, 2}, {6, 4, 0},
		{-4, 4, 2}, {9, 4, 3}, // more than one length outside: reflected again
		{-1, 2, 1}, {2, 2, 0}, {3, 2, 1},
	}
	for _, c := range cases {
		if got := reflect101(c.p, c.n); got != c.want {
			t.Errorf("reflect101(%d, %d) = %d, want %d", c.p, c.n, got, c.want)
		}
	}
}

func TestSquareWindow(t *testing.T) {
	cases := []struct {
		box  Box
		f    float64
		want [3]int // x0, y0, cs
	}{
		// md = 251, cx = 208.5, cy = 233.5: x0 = int(208.5 − 188.25) = 20, cs = int(376.5) = 376.
		{Box{121, 108, 175, 251}, 1.5, [3]int{20, 45, 376}},
		// A box at the corner: x0 = int(5 − 7.5) = int(−2.5) = −2 (toward zero, not −3).
		{Box{0, 0, 10, 10}, 1.5, [3]int{-2, -2, 15}},
		// md·f below 1 still gives a one-pixel window.
		{Box{3, 3, 0, 0}, 1.2, [3]int{3, 3, 1}},
	}
	for _, c := range cases {
		r := SquareWindow(c.box, c.f)
		if got := [3]int{r.Min.X, r.Min.Y, r.Dx()}; got != c.want || r.Dx() != r.Dy() {
			t.Errorf("SquareWindow(%v, %g) = %v, want x0,y0,cs %v", c.box, c.f, r, c.want)
		}
	}
}

// uniqueImage is a w×h image whose pixel (x, y) is (x, y, 7) so a tensor value names its source.
func uniqueImage(w, h int) *Image {
	img := NewImage(w, h)
	for y := range h {
		for x := range w {
			i := 3 * (y*w + x)
			img.Pix[i], img.Pix[i+1], img.Pix[i+2] = uint8(x), uint8(y), 7
		}
	}
	return img
}

// TestSquareCropReflects checks the window's reflected border, the channel order and the /255
// scaling on a window of exactly 128 pixels (r = 1: a copy), placed over the top-left corner.
func TestSquareCropReflects(t *testing.T) {
	img := uniqueImage(200, 150)
	// md = 64, f = 2: cs = 128, x0 = int(32 − 64) = −32, y0 = int(40 − 64) = −24.
	got, err := SquareCrop(img, Box{0, 8, 64, 64}, 2, squareIn(), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	plane := squareIn().Width * squareIn().Width
	for _, p := range [][2]int{{0, 0}, {31, 23}, {32, 24}, {127, 127}, {5, 100}} {
		tx, ty := p[0], p[1]
		wantX, wantY := reflect101(tx-32, 200), reflect101(ty-24, 150)
		i := ty*squareIn().Width + tx
		r, g, b := got[i]*255, got[plane+i]*255, got[2*plane+i]*255
		if r != float32(wantX) || g != float32(wantY) || b != 7 {
			t.Errorf("tensor (%d,%d) = R%g G%g B%g, want R%d G%d B7", tx, ty, r, g, b, wantX, wantY)
		}
	}
}

// TestSquareCropPadsSide127 checks the int(cs·128/cs) quirk: for cs = 161 (shrinking) and
// cs = 49 (enlarging) the resized window is 127 pixels, padded by reflection with nothing
// before and one row and column after, so row and column 127 repeat 125.
func TestSquareCropPadsSide127(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	img := NewImage(400, 300)
	for i := range img.Pix {
		img.Pix[i] = uint8(rng.IntN(256))
	}
	for _, cs := range []int{161, 49} {
		if side := int(float64(cs) * (128.0 / float64(cs))); side != 127 {
			t.Fatalf("cs %d: side %d, the test needs 127", cs, side)
		}
		// md = cs, f = 1: box of side cs centred at (200, 150).
		got, err := SquareCrop(img, Box{200 - cs/2, 150 - cs/2, cs, cs}, 1, squareIn(), nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		n := squareIn().Width
		for c := range 3 {
			p := got[c*n*n : (c+1)*n*n]
			for k := range n {
				if p[127*n+k] != p[125*n+k] || p[k*n+127] != p[k*n+125] {
					t.Fatalf("cs %d channel %d: row/column 127 does not repeat 125 at %d", cs, c, k)
				}
			}
			if p[126*n+3] == p[125*n+3] && p[126*n+4] == p[125*n+4] && p[126*n+5] == p[125*n+5] {
				t.Fatalf("cs %d: row 126 equals 125; the padding is not where it should be", cs)
			}
		}
	}
}

// TestSquareCropReusesScratch checks that a warm SquareScratch and tensor make steady-state
// crops allocate nothing, shrinking (INTER_AREA) and enlarging (INTER_LANCZOS4) alike.
func TestSquareCropReusesScratch(t *testing.T) {
	img := uniqueImage(480, 640)
	box := Box{121, 108, 175, 251}
	var sc SquareScratch
	in := squareIn()
	dst := make([]float32, TensorLen(in))
	if _, err := SquareCrop(img, box, 1.5, in, dst, &sc); err != nil {
		t.Fatal(err)
	}
	small := Box{200, 300, 40, 40} // md·f = 60 < 128: enlarged
	for _, b := range []Box{box, small} {
		if _, err := SquareCrop(img, b, 1.5, squareIn(), dst, &sc); err != nil {
			t.Fatal(err)
		}
		if n := testing.AllocsPerRun(5, func() { _, _ = SquareCrop(img, b, 1.5, in, dst, &sc) }); n != 0 {
			t.Errorf("box %v: %v allocations per crop, want 0", b, n)
		}
	}
}
