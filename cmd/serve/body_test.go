package serve

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"net/http"
	"testing"
)

// The buffer keeps every byte, in order, across chunk boundaries; counts what it holds against
// the budget (4 KiB for a body that has only begun); refuses past its limit or the budget; and
// gives everything back.
func TestImageBuffer(t *testing.T) {
	budget := newByteBudget(1 << 20)
	b := newImageBuffer(budget, 300_000)
	if _, err := b.Write([]byte("LIVE")); err != nil {
		t.Fatal(err)
	}
	if got := budget.inUse(); got != firstChunkSize {
		t.Errorf("a 4-byte body holds %d bytes of the budget, want %d", got, firstChunkSize)
	}
	want := []byte("LIVE")
	rng := rand.New(rand.NewPCG(1, 2))
	for len(want) < 250_000 {
		p := make([]byte, rng.IntN(70_000))
		for i := range p {
			p[i] = byte(rng.Uint32())
		}
		if _, err := b.Write(p); err != nil {
			t.Fatal(err)
		}
		want = append(want, p...)
	}
	got, _ := io.ReadAll(b.Reader())
	if !bytes.Equal(got, want) || b.Len() != int64(len(want)) {
		t.Fatalf("read back %d bytes (equal: %v), want %d", len(got), bytes.Equal(got, want), len(want))
	}
	if _, err := b.Write(make([]byte, 100_000)); !errors.As(err, new(*http.MaxBytesError)) {
		t.Errorf("past the limit: %v, want a MaxBytesError", err)
	}
	b.Release()
	if budget.inUse() != 0 {
		t.Errorf("%d bytes held after Release", budget.inUse())
	}
	small := newByteBudget(firstChunkSize + chunkSize)
	c := newImageBuffer(small, 1<<20)
	if _, err := c.Write(make([]byte, firstChunkSize+chunkSize+1)); !errors.Is(err, errBudget) {
		t.Errorf("past the budget: %v, want errBudget", err)
	}
	c.Release()
	if small.inUse() != 0 {
		t.Errorf("%d bytes held after Release", small.inUse())
	}
}

// A body of exactly the limit fits even in the smallest budget.
func TestSmallestBudgetTakesAWholeBody(t *testing.T) {
	ts := newTestServer(t, func(c *Config, _ *fakeControl) {
		c.MaxInflight, c.Queue, c.MaxBodyBytes, c.MaxBufferedBytes = 1, -1, 1<<20, 1
	})
	body := imgLive + string(make([]byte, 1<<20-len(imgLive)))
	if a := ts.send(t, http.MethodPost, "/v1/check", "image/jpeg", bytes.NewReader([]byte(body)), nil); a.status != 200 {
		t.Errorf("a body of exactly the limit: %d %s", a.status, a.body)
	}
}

// oneByteReader returns its bytes one Read at a time and io.EOF only on the Read after the last.
type oneByteReader struct{ b []byte }

func (r *oneByteReader) Read(p []byte) (int, error) {
	if len(r.b) == 0 {
		return 0, io.EOF
	}
	if len(p) == 0 {
		return 0, nil
	}
	p[0], r.b = r.b[0], r.b[1:]
	return 1, nil
}

// ReadFrom takes a body of exactly the limit (whose end comes in a Read of its own) and refuses
// one byte more.
func TestImageBufferReadFromAtTheLimit(t *testing.T) {
	for _, size := range []int{firstChunkSize, firstChunkSize + 1, 3 * chunkSize} {
		b := newImageBuffer(newByteBudget(1<<30), int64(size))
		if _, err := io.Copy(b, &oneByteReader{b: make([]byte, size)}); err != nil || b.Len() != int64(size) {
			t.Errorf("%d bytes at a limit of %d: %v, held %d", size, size, err, b.Len())
		}
		b.Release()
		b = newImageBuffer(newByteBudget(1<<30), int64(size))
		if _, err := io.Copy(b, &oneByteReader{b: make([]byte, size+1)}); !errors.As(err, new(*http.MaxBytesError)) {
			t.Errorf("%d bytes at a limit of %d: %v, want a MaxBytesError", size+1, size, err)
		}
		b.Release()
	}
}
