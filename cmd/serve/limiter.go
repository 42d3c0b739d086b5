package serve

import (
	"context"
	"image"
	"sync"
)

// admission bounds the work the server holds at once. A request takes an admission slot once
// its image was read (so a slow upload never holds one) and keeps it until it is answered; at
// most maxInflight of the admitted requests run the scorer at a time and the others wait for a
// worker. When every slot is taken a request is refused at once (503 with Retry-After). What the
// server buffers of bodies, being read or admitted, is bounded apart by the byte budget
// (body.go), and the pixels being decoded by the pixel budget below.
type admission struct {
	slots   chan struct{} // capacity maxInflight + queue
	workers chan struct{} // capacity maxInflight
}

func newAdmission(maxInflight, queue int) *admission {
	return &admission{
		slots:   make(chan struct{}, maxInflight+queue),
		workers: make(chan struct{}, maxInflight),
	}
}

// tryEnter takes an admission slot without waiting; false means the server is full.
func (a *admission) tryEnter() bool {
	select {
	case a.slots <- struct{}{}:
		return true
	default:
		return false
	}
}

// leave gives back the slot taken by tryEnter.
func (a *admission) leave() { <-a.slots }

// acquireWorker waits for a free worker or for ctx to end.
func (a *admission) acquireWorker(ctx context.Context) error {
	select {
	case a.workers <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// releaseWorker gives back the worker taken by acquireWorker.
func (a *admission) releaseWorker() { <-a.workers }

// admitted is the number of requests holding a slot (running or queued).
func (a *admission) admitted() int { return len(a.slots) }

// running is the number of requests running the scorer.
func (a *admission) running() int { return len(a.workers) }

// pixelBudget bounds the pixels being decoded and scored at once, over all workers: each image
// takes its width × height (from its header) before the scorer decodes it, and waits while the
// budget is taken. An image larger than the whole budget takes all of it (and so runs alone).
type pixelBudget struct {
	mu      sync.Mutex
	limit   int64
	used    int64
	changed chan struct{} // closed and replaced whenever pixels are given back
}

func newPixelBudget(limit int64) *pixelBudget {
	return &pixelBudget{limit: limit, changed: make(chan struct{})}
}

// acquire takes n pixels (at most the whole budget), waiting for them or for ctx to end.
func (b *pixelBudget) acquire(ctx context.Context, n int64) error {
	n = min(n, b.limit)
	for {
		b.mu.Lock()
		if b.used+n <= b.limit {
			b.used += n
			b.mu.Unlock()
			return nil
		}
		ch := b.changed
		b.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// release gives back n pixels taken by acquire.
func (b *pixelBudget) release(n int64) {
	n = min(n, b.limit)
	b.mu.Lock()
	b.used -= n
	close(b.changed)
	b.changed = make(chan struct{})
	b.mu.Unlock()
}

// inUse is the number of pixels taken.
func (b *pixelBudget) inUse() int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.used
}

// imagePixels is width × height from the image's header, 0 when the header cannot be read (the
// scorer then refuses the image before decoding any pixel: it reads headers with the same
// decoders).
func imagePixels(img *imageBuffer) int64 {
	cfg, _, err := image.DecodeConfig(img.Reader())
	if err != nil || cfg.Width <= 0 || cfg.Height <= 0 {
		return 0
	}
	return int64(cfg.Width) * int64(cfg.Height)
}
