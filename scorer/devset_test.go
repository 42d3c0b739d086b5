package scorer

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"testing"

	"github.com/spoofsense/spoofsense/models"
	"github.com/spoofsense/spoofsense/models/fixtures"
)

// devRow is one row of a golden/dev CSV: the OpenCV reference result for one dev image.
type devRow struct {
	file     string
	label    string
	faces    int
	probReal float64
	// columns holds every column of the row by header name (e.g. "v2_p1_scale0.9").
	columns map[string]string
}

func readDevCSV(t *testing.T, name string) []devRow {
	t.Helper()
	var rows []devRow
	for _, r := range fixtures.ReadCSV(t, "golden", "dev", name) {
		faces, _ := strconv.Atoi(r["faces"])
		p, err := strconv.ParseFloat(r["prob_real"], 64)
		if err != nil {
			p = math.NaN()
		}
		rows = append(rows, devRow{file: r["file"], label: r["label"], faces: faces, probReal: p, columns: r})
	}
	return rows
}

// TestDevSetAgreement checks PIPELINE §2 — a pipeline using the same box option agrees with
// the OpenCV reference on at least 95% of the dev images within 0.05 of prob_real — and holds
// it to the agreement it really has (measured 2026-12-01): all but 1–2 of the 1,825 scored
// images agree within 0.001, so at least 99.5% must (a bias such as prob_real × 0.985 fails),
// and none may be further off than worst, a little above the largest gap seen. The few
// outliers are images where the detector's box differs by a few pixels from OpenCV's (the
// 3-net file's 0.094 is such a box, 100,44 97×144 against 101,50 94×138, on a replay photo
// whose third-net crop at 1.2 is unstable).
func TestDevSetAgreement(t *testing.T) {
	cases := []struct {
		file  string
		opts  Options
		worst float64
	}{
		{"dev_opencv_rawbox.csv", Options{Box: BoxRaw, Crops: CropsSingle, Nets: twoNets}, 0.015},
		{"dev_opencv_multicrop.csv", Options{Box: BoxRaw, Crops: CropsMulti, Nets: twoNets}, 0.015},
		{"dev_opencv_mappedbox.csv", Options{Box: BoxMapped, Crops: CropsSingle, Nets: twoNets}, 0.025},
		{"dev_opencv_3net.csv", Options{}, 0.1},
	}
	var cache scorerCache
	for caseIdx, tc := range cases {
		t.Run(tc.file, func(t *testing.T) {
			rows := readDevCSV(t, tc.file)
			first, stride := 0, 1
			switch {
			case raceEnabled:
				// ~6 images spread over the set per case, each case its own images: under the
				// race detector one image costs seconds; the full set runs without it.
				first, stride = 150*caseIdx, 300
			case Kernels() == "portable":
				// The portable kernels are some 10× slower: each case takes every fourth
				// image, its own quarter, so the four cases still score every dev photo once
				// (make test runs the whole set per case with the SIMD kernels).
				first, stride = caseIdx, len(cases)
			}
			s := cache.get(t, tc.opts)
			dev := fixtures.Path(t, "data", "dev")
			type outcome struct {
				agree, faceMismatch bool
				got                 float64
			}
			results := make([]outcome, len(rows))
			var wg sync.WaitGroup
			idx := make(chan int)
			for w := 0; w < runtime.GOMAXPROCS(0); w++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := range idx {
						r := rows[i]
						f, err := os.Open(filepath.Join(dev, r.file))
						if err != nil {
							t.Error(err)
							continue
						}
						res, err := s.ScoreReader(context.Background(), f, r.file)
						f.Close()
						if err != nil {
							t.Errorf("%s: %v", r.file, err)
							continue
						}
						switch {
						case r.faces == 0:
							results[i] = outcome{agree: res.Verdict == NoFace, faceMismatch: res.Verdict != NoFace}
						case res.Verdict == NoFace:
							results[i] = outcome{faceMismatch: true}
						default:
							results[i] = outcome{agree: math.Abs(res.ProbReal-r.probReal) <= 0.05, got: res.ProbReal}
						}
					}
				}()
			}
			n := 0
			for i := first; i < len(rows); i += stride {
				idx <- i
				n++
			}
			close(idx)
			wg.Wait()
			agree, faceMis := 0, 0
			worst, worstFile := 0.0, ""
			for i := first; i < len(rows); i += stride {
				if results[i].agree {
					agree++
				}
				if results[i].faceMismatch {
					faceMis++
				}
				if d := math.Abs(results[i].got - rows[i].probReal); rows[i].faces > 0 && !results[i].faceMismatch && d > worst {
					worst, worstFile = d, rows[i].file
				}
			}
			close1, scored := 0, 0
			for i := first; i < len(rows); i += stride {
				if rows[i].faces > 0 && !results[i].faceMismatch {
					scored++
					if math.Abs(results[i].got-rows[i].probReal) <= 0.001 {
						close1++
					}
				}
			}
			t.Logf("%s: %d of %d scored images within 0.001; largest difference %.2g (%s)", tc.file, close1, scored, worst, worstFile)
			if worst > tc.worst {
				t.Errorf("%s differs by %.4f, want at most %g", worstFile, worst, tc.worst)
			}
			// Under the race detector a handful of images: at most one may be off.
			if need := 0.995 * float64(scored); float64(close1) < need && scored-close1 > 1 {
				t.Errorf("%d of %d scored images within 0.001 of the reference, want at least 99.5%%", close1, scored)
			}
			share := float64(agree) / float64(n)
			t.Logf("%s: %d of %d images within 0.05 (%.1f%%), %d face/no-face disagreements", tc.file, agree, n, 100*share, faceMis)
			if share < 0.95 {
				t.Errorf("agreement %.3f < 0.95", share)
			}
		})
	}
}

// sampleTol bounds how far the three sample images' probabilities may be from the dev CSVs.
// PIPELINE §2 allows 0.02; the decoder is libjpeg-exact and the resamplers OpenCV-exact, so
// they agree to the CSVs' six printed decimals, and a bias of a few parts in a thousand (a
// prob_real scaled by 0.985, say) fails.
const sampleTol = 0.001

// TestMultiCropSamples checks PIPELINE §1.7 crop by crop on the three sample images: every
// crop's softmax[1] of each net within sampleTol of dev_opencv_multicrop.csv, and prob_real their
// mean. It also checks that the default Options run the multi-crop policy and say so.
func TestMultiCropSamples(t *testing.T) {
	rows := map[string]devRow{}
	for _, r := range readDevCSV(t, "dev_opencv_multicrop.csv") {
		rows[r.file] = r
	}
	var cache scorerCache
	if got := cache.get(t, Options{}).Options().Crops; got != CropsMulti {
		t.Fatalf("default crop policy %q, want %q", got, CropsMulti)
	}
	for _, file := range []string{"live/image_T1.jpg", "spoof/image_F1.jpg", "spoof/image_F2.jpg"} {
		t.Run(file, func(t *testing.T) {
			want, ok := rows[file]
			if !ok {
				t.Fatalf("%s not in dev_opencv_multicrop.csv", file)
			}
			res := scoreFile(t, cache.get(t, Options{Nets: twoNets}), filepath.Join(fixtures.Path(t, "data", "dev"), file))
			if res.CropPolicy != string(CropsMulti) || res.Face == nil {
				t.Fatalf("crop policy %q, face %v: want a multi-crop result with a face", res.CropPolicy, res.Face)
			}
			for n, net := range []string{"v2", "v1se"} {
				nr := res.Face.Nets[n]
				if len(nr.Crops) != len(multiCropFactors) {
					t.Fatalf("%s: %d crops, want %d", net, len(nr.Crops), len(multiCropFactors))
				}
				var mean float64
				for k, c := range nr.Crops {
					if c.ScaleFactor != multiCropFactors[k] {
						t.Errorf("%s crop %d: scale factor %v, want %v", net, k, c.ScaleFactor, multiCropFactors[k])
					}
					column := fmt.Sprintf("%s_p1_scale%.1f", net, c.ScaleFactor)
					w, err := strconv.ParseFloat(want.columns[column], 64)
					if err != nil {
						t.Fatalf("%s: column %s: %v", file, column, err)
					}
					if math.Abs(c.Softmax[1]-w) > sampleTol {
						t.Errorf("%s = %.6f, want %.6f ± %g", column, c.Softmax[1], w, sampleTol)
					}
					mean += c.Softmax[1] / float64(len(nr.Crops))
				}
				if math.Abs(nr.Softmax[1]-mean) > 1e-12 {
					t.Errorf("%s softmax[1] %v is not the mean of its crops %v", net, nr.Softmax[1], mean)
				}
			}
			if math.Abs(res.ProbReal-want.probReal) > sampleTol {
				t.Errorf("prob_real = %.6f, want %.6f ± %g", res.ProbReal, want.probReal, sampleTol)
			}
		})
	}
}

// TestSingleCropResult: the one-crop policy runs each net once and carries no per-crop list.
func TestSingleCropResult(t *testing.T) {
	var cache scorerCache
	s := cache.get(t, Options{Crops: CropsSingle})
	res := scoreFile(t, s, devImage(t, "image_T1.jpg"))
	if res.CropPolicy != string(CropsSingle) || res.Face == nil {
		t.Fatalf("crop policy %q, face %v: want a single-crop result with a face", res.CropPolicy, res.Face)
	}
	for _, nr := range res.Face.Nets {
		if nr.Crops != nil {
			t.Errorf("%s: %d crops listed, want none", nr.Name, len(nr.Crops))
		}
		if p := softmax(nr.Logits); math.Abs(p[nr.LiveIndex]-nr.PLive) > 1e-12 {
			t.Errorf("%s: softmax %v is not that of its logits (%v)", nr.Name, nr.Softmax, p)
		}
	}
}

// TestDevSampleVerdicts: the live sample scores live and both spoof samples score spoof.
func TestDevSampleVerdicts(t *testing.T) {
	var cache scorerCache
	s := cache.get(t, Options{})
	for name, want := range map[string]Verdict{"image_T1.jpg": Live, "image_F1.jpg": Spoof, "image_F2.jpg": Spoof} {
		if got := scoreFile(t, s, devImage(t, name)).Verdict; got != want {
			t.Errorf("%s: verdict %s, want %s", name, got, want)
		}
	}
}

// TestThreeNetSamples checks PIPELINE §1.8 on the three sample images: the default ensemble
// runs the three nets, the third net's live probability at each expansion (1.5, 1.35, 1.2) is
// within sampleTol of dev_opencv_3net.csv, and prob_real, the mean of the three nets' p_live, too.
func TestThreeNetSamples(t *testing.T) {
	rows := map[string]devRow{}
	for _, r := range readDevCSV(t, "dev_opencv_3net.csv") {
		rows[r.file] = r
	}
	var cache scorerCache
	s := cache.get(t, Options{})
	if got := s.Nets(); !slices.Equal(got, models.AntiSpoofNames()) || len(got) != 3 {
		t.Fatalf("default nets %v, want the three of the manifest", got)
	}
	for _, file := range []string{"live/image_T1.jpg", "spoof/image_F1.jpg", "spoof/image_F2.jpg"} {
		t.Run(file, func(t *testing.T) {
			want := rows[file]
			res := scoreFile(t, s, filepath.Join(fixtures.Path(t, "data", "dev"), file))
			if res.Face == nil || len(res.Face.Nets) != 3 {
				t.Fatalf("face %+v: want three nets", res.Face)
			}
			third := res.Face.Nets[2]
			if third.Name != models.NameMiniFASNetV2SE || third.CropRule != string(models.CropSquareReflect) || third.LiveIndex != 0 {
				t.Fatalf("third net %s rule %s live index %d", third.Name, third.CropRule, third.LiveIndex)
			}
			var mean, sum float64
			for k, e := range []string{"1.50", "1.35", "1.20"} {
				w, err := strconv.ParseFloat(want.columns["fx_p_live_e"+e], 64)
				if err != nil {
					t.Fatal(err)
				}
				if got := third.Crops[k].PLive; math.Abs(got-w) > sampleTol {
					t.Errorf("expansion %s: p_live %.6f, want %.6f ± %g", e, got, w, sampleTol)
				}
				mean += third.Crops[k].PLive / 3
			}
			for _, nr := range res.Face.Nets {
				sum += nr.PLive
			}
			if math.Abs(third.PLive-mean) > 1e-12 || math.Abs(res.ProbReal-sum/3) > 1e-12 {
				t.Errorf("p_live %v (crops' mean %v), prob_real %v (nets' mean %v)", third.PLive, mean, res.ProbReal, sum/3)
			}
			if math.Abs(res.ProbReal-want.probReal) > sampleTol {
				t.Errorf("prob_real %.6f, want %.6f ± %g", res.ProbReal, want.probReal, sampleTol)
			}
		})
	}
}
