package engine

import (
	"fmt"
	"math"
)

// compileResize implements Resize (opset 10+) and Upsample-style scaling in nearest mode.
func compileResize(c *compileCtx) (compiled, error) {
	x, err := c.need(0, dtFloat32)
	if err != nil {
		return compiled{}, err
	}
	mode, err := c.attrString("mode", "nearest")
	if err != nil {
		return compiled{}, err
	}
	if mode != "nearest" {
		return compiled{}, unsupported("mode %q (only nearest is implemented)", mode)
	}
	ctm, err := c.attrString("coordinate_transformation_mode", "half_pixel")
	if err != nil {
		return compiled{}, err
	}
	nearest, err := c.attrString("nearest_mode", "round_prefer_floor")
	if err != nil {
		return compiled{}, err
	}
	if c.opset < 11 {
		ctm, nearest = "asymmetric", "floor"
	}
	r := len(x.shape)
	if r > maxRank {
		return compiled{}, fmt.Errorf("rank %d exceeds %d", r, maxRank)
	}
	scaleIn, sizesIn := 2, 3
	if c.opset < 11 {
		scaleIn, sizesIn = 1, -1
	}
	scales := make([]float64, r)
	shape := make([]int, r)
	if sizesIn > 0 && c.input(sizesIn) != nil {
		sizes, err := c.constInts(sizesIn)
		if err != nil {
			return compiled{}, err
		}
		if len(sizes) != r {
			return compiled{}, fmt.Errorf("sizes %v do not match rank %d", sizes, r)
		}
		for k := range sizes {
			if sizes[k] < 0 {
				return compiled{}, fmt.Errorf("bad sizes %v", sizes)
			}
			shape[k] = sizes[k]
			scales[k] = float64(sizes[k]) / float64(x.shape[k])
		}
	} else {
		sv := c.input(scaleIn)
		if sv == nil {
			return compiled{}, fmt.Errorf("neither scales nor sizes given")
		}
		if sv.c == nil {
			return compiled{}, errNeedConst
		}
		if sv.dt != dtFloat32 || len(sv.c.f) != r {
			return compiled{}, fmt.Errorf("scales of shape %v do not match rank %d", sv.shape, r)
		}
		for k, s := range sv.c.f {
			if !(s > 0) || s > 1<<16 {
				return compiled{}, fmt.Errorf("bad scale %v", s)
			}
			scales[k] = float64(s)
			shape[k] = int(math.Floor(float64(x.shape[k]) * float64(s)))
		}
	}
	if ctm == "tf_crop_and_resize" {
		return compiled{}, unsupported("coordinate_transformation_mode %q", ctm)
	}
	// Source index for each output index, per axis.
	maps := make([][]int, r)
	for k := 0; k < r; k++ {
		maps[k] = make([]int, shape[k])
		for o := range maps[k] {
			in, out, s := float64(x.shape[k]), float64(shape[k]), scales[k]
			var src float64
			switch ctm {
			case "half_pixel":
				src = (float64(o)+0.5)/s - 0.5
			case "pytorch_half_pixel":
				if out > 1 {
					src = (float64(o)+0.5)/s - 0.5
				}
			case "align_corners":
				if out > 1 {
					src = float64(o) * (in - 1) / (out - 1)
				}
			case "asymmetric":
				src = float64(o) / s
			case "tf_half_pixel_for_nn":
				src = (float64(o) + 0.5) / s
			default:
				return compiled{}, unsupported("coordinate_transformation_mode %q", ctm)
			}
			var i int
			switch nearest {
			case "round_prefer_floor":
				if src == math.Floor(src)+0.5 {
					i = int(math.Floor(src))
				} else {
					i = int(math.Round(src))
				}
			case "round_prefer_ceil":
				i = int(math.Floor(src + 0.5))
			case "floor":
				i = int(math.Floor(src))
			case "ceil":
				i = int(math.Ceil(src))
			default:
				return compiled{}, unsupported("nearest_mode %q", nearest)
			}
			maps[k][o] = min(max(i, 0), x.shape[k]-1)
		}
	}
	inStride := rowStrides(x.shape)
	return single(dtFloat32, shape, func(_ *runCtx, in, out []*tensorData) {
		resizeNearest(maps, inStride, in[0].f, out[0].f)
	})
}

// resizeNearest copies out[o...] = in[maps[0][o0], maps[1][o1], ...].
func resizeNearest(maps [][]int, inStride []int, x, out []float32) {
	r := len(maps)
	if len(out) == 0 {
		return
	}
	var idx [maxRank]int
	for o := range out {
		off := 0
		for k := 0; k < r; k++ {
			off += maps[k][idx[k]] * inStride[k]
		}
		out[o] = x[off]
		for k := r - 1; k >= 0; k-- {
			idx[k]++
			if idx[k] < len(maps[k]) {
				break
			}
			idx[k] = 0
		}
	}
}
