package scorer

import (
	"math"
	"slices"
	"sort"
)

// Detection is one face candidate from UltraFace: a box in normalised coordinates (0..1 of the
// image's width and height) and the face probability.
type Detection struct {
	X1, Y1, X2, Y2 float32
	Score          float32
}

// DetectorThresholds are UltraFace's post-processing constants (PIPELINE §1.2).
type DetectorThresholds struct {
	// MinScore keeps candidates whose face probability is strictly above it (default 0.7).
	MinScore float32
	// NMSIoU suppresses a candidate whose IoU with a kept, higher-scoring one exceeds it (0.3).
	NMSIoU float32
}

// DefaultDetectorThresholds returns the reference post-processing constants.
func DefaultDetectorThresholds() DetectorThresholds {
	return DetectorThresholds{MinScore: 0.7, NMSIoU: 0.3}
}

// SelectDetections turns UltraFace's outputs — scores [N,2] (index 1 = face) and boxes [N,4]
// (x1,y1,x2,y2 normalised), both flattened — into the faces kept after thresholding and greedy
// non-maximum suppression, highest score first. dst is reused to avoid allocation.
func SelectDetections(dst []Detection, scores, boxes []float32, th DetectorThresholds) []Detection {
	dst = dst[:0]
	n := len(scores) / 2
	if len(boxes)/4 < n {
		n = len(boxes) / 4
	}
	for i := 0; i < n; i++ {
		s := scores[2*i+1]
		if s > th.MinScore {
			b := boxes[4*i : 4*i+4]
			dst = append(dst, Detection{X1: b[0], Y1: b[1], X2: b[2], Y2: b[3], Score: s})
		}
	}
	// Stable, so equal scores keep the detector's order as the reference does.
	sort.SliceStable(dst, func(i, j int) bool { return dst[i].Score > dst[j].Score })
	kept := dst[:0]
	for _, d := range dst {
		suppressed := false
		for _, k := range kept {
			if iou(d, k) > th.NMSIoU {
				suppressed = true
				break
			}
		}
		if !suppressed {
			kept = append(kept, d)
		}
	}
	return kept
}

// iou is intersection over union: intersection / (areaA + areaB − intersection).
func iou(a, b Detection) float32 {
	w := min(a.X2, b.X2) - max(a.X1, b.X1)
	h := min(a.Y2, b.Y2) - max(a.Y1, b.Y1)
	if w <= 0 || h <= 0 {
		return 0
	}
	inter := w * h
	areaA := (a.X2 - a.X1) * (a.Y2 - a.Y1)
	areaB := (b.X2 - b.X1) * (b.Y2 - b.Y1)
	u := areaA + areaB - inter
	if u <= 0 {
		return 0
	}
	return inter / u
}

// softmax is the numerically stable softmax of a net's logits.
func softmax(l []float64) []float64 {
	m := slices.Max(l)
	out := make([]float64, len(l))
	var sum float64
	for i, v := range l {
		out[i] = math.Exp(v - m)
		sum += out[i]
	}
	for i := range out {
		out[i] /= sum
	}
	return out
}

// liveMargin is the unbounded liveness score of one net's logits with class live as "live":
// logit[live] − logsumexp(the other logits), which equals log(p_live / (1 − p_live)) and so
// orders images as the live probability does without saturating at 0 or 1. For a two-class
// net it is logit[live] − logit[spoof]; for the three-class MiniFASNets
// logit[1] − logsumexp(logit[0], logit[2]).
func liveMargin(l []float64, live int) float64 {
	m := math.Inf(-1)
	for i, v := range l {
		if i != live {
			m = math.Max(m, v)
		}
	}
	var sum float64
	for i, v := range l {
		if i != live {
			sum += math.Exp(v - m)
		}
	}
	return l[live] - (m + math.Log(sum))
}
