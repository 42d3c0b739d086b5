package serve

import (
	"context"
	"slices"
	"strings"
	"sync"

	"github.com/spoofsense/spoofsense/scorer"
)

// variantKey is the part of scorer.Options a request may override with query parameters and
// that needs a Scorer of its own (the threshold does not: it is applied to the result).
type variantKey struct {
	faces scorer.FacePolicy
	crops scorer.CropPolicy
	box   scorer.BoxMode
	nets  string // the net names joined by commas; "" for the default set
}

func keyOf(o scorer.Options) variantKey {
	return variantKey{o.Faces, o.Crops, o.Box, strings.Join(o.Nets, ",")}
}

// variant is a scorer being built or built; ready is closed when s or err is set.
type variant struct {
	ready chan struct{}
	s     ImageScorer
	err   error
}

// scorerSet hands out the scorer for a set of options: the default one (loaded by the warm-up)
// or, built on first use, one per distinct override. At most max overrides are kept; the least
// recently used finished one is dropped first. Failed builds are not kept, so a later request
// retries.
type scorerSet struct {
	newScorer NewScorerFunc
	defaults  scorer.Options
	max       int

	mu       sync.Mutex
	def      ImageScorer
	variants map[variantKey]*variant
	lru      []variantKey // least recently used first
}

func newScorerSet(newScorer NewScorerFunc, defaults scorer.Options, max int) *scorerSet {
	return &scorerSet{newScorer: newScorer, defaults: defaults, max: max, variants: map[variantKey]*variant{}}
}

// setDefault installs the scorer built with the default options.
func (ss *scorerSet) setDefault(s ImageScorer) {
	ss.mu.Lock()
	ss.def = s
	ss.mu.Unlock()
}

// get returns the scorer for opts, building it if needed; it waits for a build in progress until
// ctx ends. The build itself is not cancelled with ctx, since other requests may be waiting on it.
func (ss *scorerSet) get(ctx context.Context, opts scorer.Options) (ImageScorer, error) {
	key := keyOf(opts)
	ss.mu.Lock()
	if key == keyOf(ss.defaults) && ss.def != nil {
		s := ss.def
		ss.mu.Unlock()
		return s, nil
	}
	v, ok := ss.variants[key]
	if ok {
		ss.touch(key)
	} else {
		v = &variant{ready: make(chan struct{})}
		ss.variants[key] = v
		ss.lru = append(ss.lru, key)
		ss.evict()
		go ss.build(context.WithoutCancel(ctx), key, v, opts)
	}
	ss.mu.Unlock()

	select {
	case <-v.ready:
		return v.s, v.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (ss *scorerSet) build(ctx context.Context, key variantKey, v *variant, opts scorer.Options) {
	s, err := ss.newScorer(ctx, opts)
	ss.mu.Lock()
	v.s, v.err = s, err
	if err != nil && ss.variants[key] == v {
		delete(ss.variants, key)
		ss.lru = slices.DeleteFunc(ss.lru, func(k variantKey) bool { return k == key })
	}
	ss.mu.Unlock()
	close(v.ready)
}

// touch marks key as the most recently used. ss.mu must be held.
func (ss *scorerSet) touch(key variantKey) {
	i := slices.Index(ss.lru, key)
	ss.lru = append(slices.Delete(ss.lru, i, i+1), key)
}

// evict drops the least recently used finished variants while there are more than max.
// ss.mu must be held.
func (ss *scorerSet) evict() {
	for i := 0; len(ss.variants) > ss.max && i < len(ss.lru); {
		k := ss.lru[i]
		select {
		case <-ss.variants[k].ready:
			delete(ss.variants, k)
			ss.lru = slices.Delete(ss.lru, i, i+1)
		default:
			i++ // still building: requests are waiting on it
		}
	}
}

// size is the number of override scorers held (built or building).
func (ss *scorerSet) size() int {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	return len(ss.variants)
}
