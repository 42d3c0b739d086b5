package scorer

import (
	"bytes"
	"context"
	"os"
	"testing"
)

// BenchmarkScore is the end-to-end time for one dev image, decode included, with the per-stage
// split reported as extra metrics (ms/op of each stage).
func BenchmarkScore(b *testing.B) {
	for _, policy := range []CropPolicy{CropsSingle, CropsMulti} {
		b.Run(string(policy), func(b *testing.B) {
			t := &testing.T{}
			var cache scorerCache
			s := cache.get(t, Options{Crops: policy})
			data, err := os.ReadFile(devImage(t, "image_T1.jpg"))
			if err != nil {
				b.Fatal(err)
			}
			ctx := context.Background()
			var sum Timings
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				res, err := s.ScoreReader(ctx, bytes.NewReader(data), "image_T1.jpg")
				if err != nil {
					b.Fatal(err)
				}
				sum.Decode += res.Timings.Decode
				sum.Detect += res.Timings.Detect
				sum.Crop += res.Timings.Crop
				sum.Nets += res.Timings.Nets
				sum.Quality += res.Timings.Quality
			}
			n := float64(b.N)
			b.ReportMetric(sum.Decode/n, "decode-ms")
			b.ReportMetric(sum.Detect/n, "detect-ms")
			b.ReportMetric(sum.Crop/n, "crop-ms")
			b.ReportMetric(sum.Nets/n, "nets-ms")
			b.ReportMetric(sum.Quality/n, "quality-ms")
		})
	}
}
