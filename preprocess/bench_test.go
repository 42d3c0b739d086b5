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
