package scorer

import (
	"context"
	"fmt"
	"math"

	"github.com/spoofsense/spoofsense/preprocess"
)

// SelfTest runs every loaded model once on a generated image and checks what they answer: the
// detector on the whole image (a colour gradient), then each anti-spoof net on the
// crops of a face-sized box at the image's centre, as if the detector had found a face there.
// It returns that result (Face set, Verdict the synthetic face's) or an error naming the model
// whose output is not a probability. A service waits for it before it reports ready, so a model
// that loads but cannot run is caught at start-up, not by the first client.
func (s *Scorer) SelfTest(ctx context.Context) (Result, error) {
	const w, h = 240, 320
	img := preprocess.NewImage(w, h)
	for y := range h {
		for x := range w {
			p := img.Pix[3*(y*w+x):]
			p[0], p[1], p[2] = uint8(x*255/w), uint8(y*255/h), uint8((x+y)*255/(w+h))
		}
	}
	res, err := s.Score(ctx, img)
	if err != nil {
		return res, err
	}
	st := s.states.get()
	defer s.states.put(st)
	face := Face{Box: preprocess.Box{X: w / 4, Y: h / 4, W: w / 2, H: h / 2}}
	face.DetectorBox = face.Box
	if err := s.scoreFace(ctx, st, img, &face, &res.Timings); err != nil {
		return res, err
	}
	for _, nr := range face.Nets {
		var sum float64
		for _, p := range nr.Softmax {
			sum += p
		}
		if len(nr.Softmax) < 2 || math.IsNaN(sum) || math.Abs(sum-1) > 1e-6 {
			return res, fmt.Errorf("%s answered softmax %v (logits %v), not a probability", nr.Name, nr.Softmax, nr.Logits)
		}
	}
	res.Face, res.Verdict = &face, face.Verdict
	res.ProbReal, res.Score = face.ProbReal, face.Score
	return res, nil
}
