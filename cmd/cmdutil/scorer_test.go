package cmdutil

import (
	"context"
	"errors"
	"io"
	"sync"
	"testing"

	"github.com/spoofsense/spoofsense/scorer"
)

type countingScorer struct{ opts scorer.Options }

func (c countingScorer) ScoreReader(context.Context, io.Reader, string) (scorer.Result, error) {
	return scorer.Result{Threshold: c.opts.Threshold}, nil
}

func TestSharedScorersLoadsOnceWhenItCannotDerive(t *testing.T) {
	loads := 0
	f := &Factory{ModelsDir: "/models", NewScorer: func(_ context.Context, o scorer.Options) (ImageScorer, error) {
		loads++
		if o.ModelsDir != "/models" {
			t.Errorf("ModelsDir = %q, want the --models value", o.ModelsDir)
		}
		if o.Threshold == 0.9 {
			return nil, errors.New("boom")
		}
		return countingScorer{o}, nil
	}}
	shared := f.SharedScorers()
	var wg sync.WaitGroup
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := shared(context.Background(), scorer.Options{Threshold: 0.5}); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	// The fake cannot derive (no WithOptions), so each call after the first loads anew — but
	// the first, base load happened exactly once before the others.
	if loads != 4 {
		t.Errorf("loads = %d, want 4 (one base, three non-derivable)", loads)
	}
	if _, err := shared(context.Background(), scorer.Options{Threshold: 0.9}); err == nil {
		t.Error("a failing load returned no error")
	}
}

// decodedCounting is a countingScorer that scores decoded images too.
type decodedCounting struct{ countingScorer }

func (d decodedCounting) ScoreDecoded(_ context.Context, in scorer.Decoded) (scorer.Result, error) {
	return scorer.Result{File: in.Name, Threshold: d.opts.Threshold}, nil
}

func TestLoadDecodedScorer(t *testing.T) {
	tests := []struct {
		name    string
		load    NewScorerFunc
		wantErr string
	}{
		{"decodes", func(_ context.Context, o scorer.Options) (ImageScorer, error) {
			return decodedCounting{countingScorer{o}}, nil
		}, ""},
		{"reader only", func(_ context.Context, o scorer.Options) (ImageScorer, error) { return countingScorer{o}, nil },
			"scorer cmdutil.countingScorer does not score decoded images"},
		{"load fails", func(context.Context, scorer.Options) (ImageScorer, error) { return nil, errors.New("boom") }, "boom"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &Factory{NewScorer: tt.load}
			s, err := f.LoadDecodedScorer(context.Background(), scorer.Options{Threshold: 0.7})
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if res, _ := s.ScoreDecoded(context.Background(), scorer.Decoded{Name: "x.jpg"}); res.File != "x.jpg" || res.Threshold != 0.7 {
				t.Errorf("ScoreDecoded = %+v", res)
			}
		})
	}
}
