package serve

import "context"

// admission bounds the work the server holds at once. A request takes an admission slot before
// its body is read and keeps it until it is answered; at most maxInflight of the admitted requests
// run the scorer at a time and the others wait for a worker. When every slot is taken a request
// is refused at once (503 with Retry-After) rather than buffered, so memory stays bounded by
// (maxInflight + queue) × the body limit.
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
