package scorer

import (
	"math"
	"testing"
)

func TestSelectDetections(t *testing.T) {
	th := DefaultDetectorThresholds()
	tests := []struct {
		name   string
		scores []float32 // pairs: background, face
		boxes  []float32
		want   []Detection
	}{
		{
			name:   "below threshold dropped, 0.7 itself dropped",
			scores: []float32{0.3, 0.7, 0.2, 0.8},
			boxes:  []float32{0, 0, .5, .5, .1, .1, .4, .4},
			want:   []Detection{{.1, .1, .4, .4, .8}},
		},
		{
			name:   "overlapping lower score suppressed (IoU 0.81 > 0.3)",
			scores: []float32{0, .9, 0, .95},
			boxes:  []float32{0, 0, .9, .9, 0, 0, 1, 1},
			want:   []Detection{{0, 0, 1, 1, .95}},
		},
		{
			name:   "IoU 0.43 suppressed (above 0.3, below a looser 0.5)",
			scores: []float32{0, .8, 0, .9},
			// boxes of area 1 overlapping 0.6 wide: inter .6, union 1.4
			boxes: []float32{0.4, 0, 1.4, 1, 0, 0, 1, 1},
			want:  []Detection{{0, 0, 1, 1, .9}},
		},
		{
			name:   "IoU exactly below 0.3 kept, sorted by score",
			scores: []float32{0, .8, 0, .9},
			// boxes of area 1 overlapping 0.4 wide: inter .4, union 1.6, IoU 0.25
			boxes: []float32{0.6, 0, 1.6, 1, 0, 0, 1, 1},
			want:  []Detection{{0, 0, 1, 1, .9}, {0.6, 0, 1.6, 1, .8}},
		},
		{
			name:   "disjoint faces both kept",
			scores: []float32{0, .99, 0, .98},
			boxes:  []float32{0, 0, .2, .2, .5, .5, .9, .9},
			want:   []Detection{{0, 0, .2, .2, .99}, {.5, .5, .9, .9, .98}},
		},
		{name: "empty", scores: nil, boxes: nil, want: nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := SelectDetections(nil, tc.scores, tc.boxes, th)
			if len(got) != len(tc.want) {
				t.Fatalf("got %d detections %v, want %d %v", len(got), got, len(tc.want), tc.want)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Errorf("detection %d = %+v, want %+v", i, got[i], tc.want[i])
				}
			}
		})
	}
}

func TestSoftmaxAndLiveMargin(t *testing.T) {
	tests := [][]float64{
		{-5.590154647827148, 7.772930145263672, -2.188068389892578},
		{0, 0, 0},
		{1000, -1000, 3},
		{-0.7874634265899658, -1.9032236337661743, 2.691680669784546},
	}
	for _, l := range tests {
		p := softmax(l)
		if s := p[0] + p[1] + p[2]; math.Abs(s-1) > 1e-12 {
			t.Errorf("softmax%v sums to %v", l, s)
		}
		m := liveMargin(l, 1)
		if p[1] > 1e-300 && p[1] < 1-1e-12 {
			want := math.Log(p[1] / (1 - p[1]))
			if math.Abs(m-want) > 1e-9*math.Max(1, math.Abs(want)) {
				t.Errorf("liveMargin%v = %v, want log-odds %v", l, m, want)
			}
		}
		if math.IsNaN(m) || math.IsInf(m, 0) {
			t.Errorf("liveMargin%v = %v", l, m)
		}
	}
	// The golden T1 raw V2 logits give softmax[1] 0.9999512434005737 (pipeline.json).
	if p := softmax(tests[0]); math.Abs(p[1]-0.9999512434005737) > 1e-6 {
		t.Errorf("softmax[1] = %v", p[1])
	}
	// A two-class net (MiniFASNetV2SE-128, index 0 = live): the margin is logit[0] − logit[1],
	// the log-odds of its softmax[0].
	for _, l := range [][]float64{{0.354198157787323, -0.35299769043922424}, {-9, 4}, {0, 0}} {
		p := softmax(l)
		if m, want := liveMargin(l, 0), l[0]-l[1]; math.Abs(m-want) > 1e-12 || math.Abs(m-math.Log(p[0]/p[1])) > 1e-9 {
			t.Errorf("liveMargin(%v, 0) = %v, want %v", l, m, want)
		}
	}
}
