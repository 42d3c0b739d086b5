package cmd

import (
	"bytes"
	"context"
	"encoding/json"
	"image"
	"image/color"
	"image/png"
	"io"
	"math"
	"strings"
	"testing"

	"github.com/spoofsense/spoofsense/scorer"
)

// pixelScorer scores tiny PNGs that carry their prob_real (probImage): the first pixel holds
// it in ten-thousandths, the second a marker; an image without the marker (the serve
// self-test's) has no face. It decodes as the real scorer does, so check, eval and serve all
// see what they would with real images.
type pixelScorer struct{ opts scorer.Options }

// faceMarker is the second pixel of a probImage.
var faceMarker = [3]uint8{0x5a, 0xa5, 0x0f}

// probImage encodes p (rounded to ten-thousandths) as a 2×1 PNG for pixelScorer and returns
// the bytes and the rounded p.
func probImage(t *testing.T, p float64) ([]byte, float64) {
	t.Helper()
	n := int(math.Round(p * 10000))
	img := image.NewRGBA(image.Rect(0, 0, 2, 1))
	img.Set(0, 0, color.RGBA{uint8(n >> 8), uint8(n), 0, 255})
	img.Set(1, 0, color.RGBA{faceMarker[0], faceMarker[1], faceMarker[2], 255})
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), float64(n) / 10000
}

func (s pixelScorer) ScoreReader(ctx context.Context, r io.Reader, name string) (scorer.Result, error) {
	d, err := scorer.Decode(r, name, s.opts.Limits)
	if err != nil {
		return scorer.Result{}, err
	}
	return s.ScoreDecoded(ctx, d)
}

func (s pixelScorer) ScoreDecoded(_ context.Context, d scorer.Decoded) (scorer.Result, error) {
	th := s.opts.Threshold
	if th == 0 {
		th = scorer.DefaultThreshold
	}
	res := scorer.Result{File: d.Name, Status: scorer.StatusOK, Threshold: th}
	pix := d.Image.Pix
	if len(pix) < 6 || [3]uint8(pix[3:6]) != faceMarker {
		res.Verdict = scorer.NoFace
		return res, nil
	}
	p := float64(int(pix[0])<<8|int(pix[1])) / 10000
	res.ProbReal, res.FaceCount, res.Verdict = p, 1, scorer.Spoof
	if p >= th {
		res.Verdict = scorer.Live
	}
	return res, nil
}

// ndjsonResults decodes check's NDJSON output.
func ndjsonResults(t *testing.T, out string) []scorer.Result {
	t.Helper()
	var results []scorer.Result
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var res scorer.Result
		if err := json.Unmarshal([]byte(line), &res); err != nil {
			t.Fatalf("%v: %q", err, line)
		}
		results = append(results, res)
	}
	return results
}
