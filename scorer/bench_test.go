package scorer

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"os"
	"slices"
	"testing"

	"github.com/spoofsense/spoofsense/models"
	"github.com/spoofsense/spoofsense/models/fixtures"
	"github.com/spoofsense/spoofsense/preprocess"
	"github.com/spoofsense/spoofsense/scorer/engine"
)

// BenchmarkScore is the end-to-end time for one dev image, decode included, with the per-stage
// split reported as extra metrics (ms/op of each stage), for each crop policy with the two
// MiniFASNets and with the default three nets.
func BenchmarkScore(b *testing.B) {
	var cache scorerCache
	for _, policy := range []CropPolicy{CropsSingle, CropsMulti} {
		for _, nets := range []struct {
			name string
			nets []string
		}{{"2nets", twoNets}, {"3nets", nil}} {
			b.Run(string(policy)+"/"+nets.name, func(b *testing.B) {
				benchScore(b, cache.get(&testing.T{}, Options{Crops: policy, Nets: nets.nets}))
			})
		}
	}
}

func benchScore(b *testing.B, s *Scorer) {
	data, err := os.ReadFile(devImage(&testing.T{}, "image_T1.jpg"))
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
}

// BenchmarkScoreDecoded is Score alone on an already decoded image: what the crop policy
// costs in time and allocations beyond decoding (the allocations are the Result's own slices).
func BenchmarkScoreDecoded(b *testing.B) {
	for _, policy := range []CropPolicy{CropsSingle, CropsMulti} {
		b.Run(string(policy), func(b *testing.B) {
			t := &testing.T{}
			var cache scorerCache
			s := cache.get(t, Options{Crops: policy})
			f, err := os.Open(devImage(t, "image_T1.jpg"))
			if err != nil {
				b.Fatal(err)
			}
			img, err := preprocess.Decode(f, preprocess.Limits{})
			f.Close()
			if err != nil {
				b.Fatal(err)
			}
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := s.Score(ctx, img); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkNetCrops measures the §1.7 multi-crop cost of one net two ways: three batch-1 runs
// (what Score does) and one run of the same graph with a batch dimension of 3. The engine plans
// a model for the input shape it declares ([1,3,80,80]) and takes no other, so the batch-3 case
// loads a copy of the model whose declared input and output batch is rewritten to 3
// (withBatch); its logits equal the batch-1 ones exactly (checked here).
func BenchmarkNetCrops(b *testing.B) {
	for _, name := range models.AntiSpoofNames() {
		info, _ := models.Lookup(name)
		data, err := os.ReadFile(fixtures.Path(b, "models", info.File))
		if err != nil {
			b.Fatal(err)
		}
		one, err := engine.Load(data, engine.LoadOptions{Name: name, Batch: 1})
		if err != nil {
			b.Fatal(err)
		}
		// The MiniFASNets declare batch 1 and reshape to it, so their graph is rewritten for 3;
		// MiniFASNetV2SE-128 declares a dynamic batch and is planned for 3 directly.
		batched, opts := data, engine.LoadOptions{Name: name + " (batch 3)", Batch: 3}
		if info.Crop == models.CropShifted {
			if batched, err = withBatch(data, 3); err != nil {
				b.Fatalf("%s: %v", name, err)
			}
			opts.Batch = 0
		}
		three, err := engine.Load(batched, opts)
		if err != nil {
			b.Fatalf("%s: the engine cannot load it with batch 3: %v", name, err)
		}
		cropLen, classes := 3*info.Input.Width*info.Input.Height, info.Output.Classes
		crops := make([]float32, 3*cropLen)
		for i := range crops {
			crops[i] = float32(i * 7919 % 256)
		}
		ctx := context.Background()
		s1, s3 := one.NewSession(), three.NewSession()
		out3, err := s3.RunFloat32(ctx, crops)
		if err != nil {
			b.Fatalf("%s batch 3: %v", name, err)
		}
		for k := range 3 {
			out1, err := s1.RunFloat32(ctx, crops[k*cropLen:(k+1)*cropLen])
			if err != nil {
				b.Fatal(err)
			}
			for j := range classes {
				if d := math.Abs(float64(out1[0][j] - out3[0][classes*k+j])); d > 1e-4 {
					b.Fatalf("%s crop %d logit %d: batch 3 differs from batch 1 by %g", name, k, j, d)
				}
			}
		}
		b.Run(name+"/3xbatch1", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				for k := range 3 {
					if _, err := s1.RunFloat32(ctx, crops[k*cropLen:(k+1)*cropLen]); err != nil {
						b.Fatal(err)
					}
				}
			}
		})
		b.Run(name+"/1xbatch3", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := s3.RunFloat32(ctx, crops); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// withBatch returns a copy of an ONNX model whose graph inputs and outputs declare a leading
// (batch) dimension of n instead of 1. It edits the protobuf in place: the path
// ModelProto.graph(7) → input(11)/output(12) → type(2) → tensor_type(1) → shape(2) → first
// dim(1) → dim_value(1), a one-byte varint both before and after (1 ≤ n < 128).
func withBatch(model []byte, n byte) ([]byte, error) {
	if n < 1 || n >= 128 {
		return nil, fmt.Errorf("batch %d: must be in [1, 128)", n)
	}
	out := append([]byte(nil), model...)
	patched := 0
	// path lists, per nesting level, the field numbers descended into.
	path := [][]int{{7}, {11, 12}, {2}, {1}, {2}, {1}}
	var walk func(msg []byte, level int) error
	walk = func(msg []byte, level int) error {
		firstDim := true
		return protoFields(msg, func(field, wire int, v []byte) error {
			if level == len(path) {
				if field == 1 && wire == 0 && len(v) == 1 && v[0] == 1 {
					v[0] = n
					patched++
				}
				return nil
			}
			if wire != 2 || !slices.Contains(path[level], field) {
				return nil
			}
			if level == len(path)-1 { // the repeated dim: only the first one is the batch
				if !firstDim {
					return nil
				}
				firstDim = false
			}
			return walk(v, level+1)
		})
	}
	if err := walk(out, 0); err != nil {
		return nil, err
	}
	if patched == 0 {
		return nil, errors.New("no batch dimension of 1 declared")
	}
	return out, nil
}

// protoFields calls fn with every varint (wire type 0) and length-delimited (2) field of one
// protobuf message; v aliases msg, so fn may edit it.
func protoFields(msg []byte, fn func(field, wire int, v []byte) error) error {
	for i := 0; i < len(msg); {
		key, k := binary.Uvarint(msg[i:])
		if k <= 0 {
			return errors.New("malformed protobuf key")
		}
		i += k
		field, wire := int(key>>3), int(key&7)
		var v []byte
		switch wire {
		case 0:
			_, k := binary.Uvarint(msg[i:])
			if k <= 0 {
				return errors.New("malformed protobuf varint")
			}
			v, i = msg[i:i+k], i+k
		case 1:
			i += 8
		case 2:
			l, k := binary.Uvarint(msg[i:])
			if k <= 0 || l > uint64(len(msg)-i-k) {
				return errors.New("malformed protobuf length")
			}
			v, i = msg[i+k:i+k+int(l)], i+k+int(l)
		case 5:
			i += 4
		default:
			return fmt.Errorf("protobuf wire type %d not handled", wire)
		}
		if i > len(msg) {
			return errors.New("truncated protobuf")
		}
		if v != nil {
			if err := fn(field, wire, v); err != nil {
				return err
			}
		}
	}
	return nil
}
