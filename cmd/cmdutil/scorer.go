package cmdutil

import (
	"context"
	"fmt"
	"io"
	"sync"

	"github.com/spoofsense/spoofsense/scorer"
)

// ImageScorer scores one image read from r. *scorer.Scorer implements it; command tests pass
// fakes. Implementations must be safe for concurrent use: commands share one across workers.
type ImageScorer interface {
	ScoreReader(ctx context.Context, r io.Reader, name string) (scorer.Result, error)
}

// DecodedScorer also scores images the command has decoded itself with scorer.Decode, so that
// a command needing the pixels as well (check draws its --annotate copies on them) decodes each
// image once. *scorer.Scorer implements it; check's test fake does too.
type DecodedScorer interface {
	ImageScorer
	ScoreDecoded(ctx context.Context, d scorer.Decoded) (scorer.Result, error)
}

// NewScorerFunc loads a scorer with the given options (see Factory.NewScorer).
type NewScorerFunc func(ctx context.Context, opts scorer.Options) (ImageScorer, error)

// LoadScorer returns a scorer for opts, loading the models now. A command calls it only once it
// knows it has images to score, so --help and flag errors never load a model. An empty
// opts.ModelsDir is filled from the --models flag. It uses f.NewScorer when set (tests), else
// scorer.New.
func (f *Factory) LoadScorer(ctx context.Context, opts scorer.Options) (ImageScorer, error) {
	if opts.ModelsDir == "" {
		opts.ModelsDir = f.ModelsDir
	}
	if f.NewScorer != nil {
		return f.NewScorer(ctx, opts)
	}
	s, err := scorer.New(ctx, opts)
	if err != nil {
		// Return a nil interface, not a typed nil *scorer.Scorer.
		return nil, err
	}
	return s, nil
}

// LoadDecodedScorer is LoadScorer for a command that decodes its images itself; a scorer that
// cannot score decoded images (a test fake of another command) is an error naming its type.
func (f *Factory) LoadDecodedScorer(ctx context.Context, opts scorer.Options) (DecodedScorer, error) {
	s, err := f.LoadScorer(ctx, opts)
	if err != nil {
		return nil, err
	}
	d, ok := s.(DecodedScorer)
	if !ok {
		return nil, fmt.Errorf("scorer %T does not score decoded images", s)
	}
	return d, nil
}

// SharedScorers returns a NewScorerFunc that loads the models once, through LoadScorer, for the
// first options it is asked for and derives a scorer for every later option set from those
// loaded models (scorer.Scorer.WithOptions) instead of loading them again. serve uses it for
// per-request options. It is safe for concurrent use.
func (f *Factory) SharedScorers() NewScorerFunc {
	var (
		mu   sync.Mutex
		base ImageScorer
	)
	type deriver interface {
		WithOptions(scorer.Options) (*scorer.Scorer, error)
	}
	return func(ctx context.Context, opts scorer.Options) (ImageScorer, error) {
		mu.Lock()
		defer mu.Unlock()
		if base == nil {
			s, err := f.LoadScorer(ctx, opts)
			if err != nil {
				return nil, err
			}
			base = s
			return s, nil
		}
		if d, ok := base.(deriver); ok {
			s, err := d.WithOptions(opts)
			if err != nil {
				return nil, err
			}
			return s, nil
		}
		return f.LoadScorer(ctx, opts)
	}
}
