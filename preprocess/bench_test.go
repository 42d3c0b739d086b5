package preprocess

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

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
	dst := make([]float32, TensorLen(detIn()))
	for b.Loop() {
		if _, err := DetectorInput(img, detIn(), dst); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCropFace(b *testing.B) {
	img := decodeDev(b, "image_T1.jpg")
	dst := make([]float32, TensorLen(cropIn()))
	box := Box{121, 108, 175, 251}
	for b.Loop() {
		if _, _, err := CropFace(img, box, scaleV2(), cropIn(), dst); err != nil {
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
	dst := make([]float32, TensorLen(squareIn()))
	var sc SquareScratch
	box := Box{121, 108, 175, 251}
	b.ReportAllocs()
	for b.Loop() {
		for _, f := range []float64{1.5, 1.35, 1.2} {
			if _, err := SquareCrop(img, box, f, squareIn(), dst, &sc); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// devJPEGs returns the bytes of the first n JPEGs of the dev set, by relative path sorted as
// strings: the files preprocess/internal/jpeg/bench/imdecode.py times with cv2.imdecode.
func devJPEGs(b *testing.B, n int) [][]byte {
	root := fixtures.Path(b, "data", "dev")
	var rels []string
	err := filepath.WalkDir(root, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if ext := strings.ToLower(filepath.Ext(p)); !e.IsDir() && (ext == ".jpg" || ext == ".jpeg") {
			rel, err := filepath.Rel(root, p)
			rels = append(rels, filepath.ToSlash(rel))
			return err
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	sort.Strings(rels)
	out := make([][]byte, 0, n)
	for _, rel := range rels[:min(n, len(rels))] {
		data, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(rel)))
		if err != nil {
			b.Fatal(err)
		}
		out = append(out, data)
	}
	return out
}

// BenchmarkDecodeDev200 is the decode stage (JPEG bytes in memory → the upright RGB Image) over
// the first 200 dev photos, with one Decoder as a worker keeps it; ms/photo is the figure `make
// bench-decode` sets beside cv2.imdecode's. The fresh sub-benchmark calls DecodeBytes, which
// allocates a new decoder state for each photo.
func BenchmarkDecodeDev200(b *testing.B) {
	files := devJPEGs(b, 200)
	var d Decoder
	for _, bc := range []struct {
		name   string
		decode func([]byte, Limits) (*Image, error)
	}{{"reused", d.DecodeBytes}, {"fresh", DecodeBytes}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			cpu0 := cpuTime()
			for b.Loop() {
				for _, data := range files {
					if _, err := bc.decode(data, Limits{}); err != nil {
						b.Fatal(err)
					}
				}
			}
			photos := float64(b.N * len(files))
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/1e6/photos, "ms/photo")
			// CPU time leaves out the time other processes held the core.
			b.ReportMetric(float64((cpuTime()-cpu0).Nanoseconds())/1e6/photos, "cpu-ms/photo")
		})
	}
}

// cpuTime is the process's user and system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
