package metrics

import (
	"math/rand/v2"
	"testing"
)

// benchSamples returns n samples, a third bona fide, with scores on a 1e-6 grid (so some tie)
// and three attack species.
func benchSamples(n int) []Sample {
	rng := rand.New(rand.NewPCG(5, 6))
	species := []string{"print", "replay", ""}
	s := make([]Sample, n)
	for i := range s {
		if i%3 == 0 {
			s[i] = Sample{Label: BonaFide, Score: float64(int(min(max(rng.NormFloat64()*0.2+0.7, 0), 1)*1e6)) / 1e6}
		} else {
			s[i] = Sample{Label: Attack, Species: species[i%len(species)], Score: float64(int(min(max(rng.NormFloat64()*0.2+0.3, 0), 1)*1e6)) / 1e6}
		}
	}
	return s
}

func benchScores(n int) (bona, attack []float64) {
	for _, s := range benchSamples(n) {
		if s.Label == BonaFide {
			bona = append(bona, s.Score)
		} else {
			attack = append(attack, s.Score)
		}
	}
	return bona, attack
}

func BenchmarkEvaluate100k(b *testing.B) {
	samples := benchSamples(100_000)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Evaluate(samples, DefaultThreshold, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAUC100k(b *testing.B) {
	bona, attack := benchScores(100_000)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := AUC(bona, attack); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkNewCurve100k(b *testing.B) {
	bona, attack := benchScores(100_000)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := NewCurve(bona, attack); err != nil {
			b.Fatal(err)
		}
	}
}
