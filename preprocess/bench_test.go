package preprocess

import (
	"bytes"
	"os"
	"testing"

	"github.com/spoofsense/spoofsense/models/fixtures"
)

func BenchmarkDecodeDevJPEG(b *testing.B) {
	data, err := os.ReadFile(fixtures.Path(b, "data", "dev", "live", "image_T1.jpg"))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := Decode(bytes.NewReader(data), Limits{}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDetectorInput(b *testing.B) {
	img := decodeDev(b, "image_T1.jpg")
	dst := make([]float32, DetectorInputLen)
	for b.Loop() {
		DetectorInput(img, dst)
	}
}

func BenchmarkCropFace(b *testing.B) {
	img := decodeDev(b, "image_T1.jpg")
	dst := make([]float32, CropLen)
	box := Box{121, 108, 175, 251}
	for b.Loop() {
		if _, _, err := CropFace(img, box, ScaleV2, dst); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkLaplacianVariance(b *testing.B) {
	img := decodeDev(b, "image_T1.jpg")
	box := Box{121, 108, 175, 251}
	for b.Loop() {
		LaplacianVariance(img, box)
	}
}

// BenchmarkSquareCrop is the MiniFASNetV2SE-128 crop of the sample T1 at its three expansions
// (a 376-pixel window shrunk with INTER_AREA, then 338 and 301).
func BenchmarkSquareCrop(b *testing.B) {
	img := decodeDev(b, "image_T1.jpg")
	dst := make([]float32, SquareCropLen)
	var sc SquareScratch
	box := Box{121, 108, 175, 251}
	b.ReportAllocs()
	for b.Loop() {
		for _, f := range []float64{1.5, 1.35, 1.2} {
			if _, err := SquareCrop(img, box, f, dst, &sc); err != nil {
				b.Fatal(err)
			}
		}
	}
}
