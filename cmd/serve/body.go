package serve

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
)

// What the server buffers of request bodies is bounded for real: every byte it keeps (a raw or
// multipart image, the decoded bytes of a base64 one; never the base64 text) is held in pooled
// chunks taken from one byte budget shared by all requests. A request whose bytes do not fit
// gets 503 busy with Retry-After, after the rest of its body was read and thrown away (so that
// the client reads the answer instead of a reset). Chunks are taken as bytes arrive, never for
// a declared Content-Length, so a client trickling its upload holds only what it sent.

// Body bytes are buffered, and counted against the budget, in chunks: a small first one (so that
// a connection that has sent a few bytes holds 4 KiB of the budget, not 64) and large ones after.
const (
	firstChunkSize = 4 << 10
	chunkSize      = 64 << 10
)

var (
	firstChunkPool = sync.Pool{New: func() any { b := make([]byte, firstChunkSize); return &b }}
	chunkPool      = sync.Pool{New: func() any { b := make([]byte, chunkSize); return &b }}
)

// errBudget reports that the body buffer budget is spent.
var errBudget = errors.New("the server's body buffer budget is spent")

// byteBudget is a non-blocking counting semaphore of bytes.
type byteBudget struct {
	limit int64
	used  atomic.Int64
}

func newByteBudget(limit int64) *byteBudget { return &byteBudget{limit: limit} }

// tryTake takes n bytes when they fit.
func (b *byteBudget) tryTake(n int64) bool {
	for {
		u := b.used.Load()
		if u+n > b.limit {
			return false
		}
		if b.used.CompareAndSwap(u, u+n) {
			return true
		}
	}
}

func (b *byteBudget) give(n int64) { b.used.Add(-n) }

// inUse is how many bytes are taken.
func (b *byteBudget) inUse() int64 { return b.used.Load() }

// imageBuffer holds one request's image bytes in chunks taken from a budget. It is an
// io.Writer; Release gives the chunks back. limit bounds its size: a write past it fails with
// *http.MaxBytesError.
type imageBuffer struct {
	budget *byteBudget
	limit  int64
	chunks []*[]byte // full but the last; the first is firstChunkSize long, the others chunkSize
	size   int64
	held   int64 // bytes of the chunks, taken from the budget
}

func newImageBuffer(budget *byteBudget, limit int64) *imageBuffer {
	return &imageBuffer{budget: budget, limit: limit}
}

// space returns the free part of the last chunk, taking a new chunk from the budget when it is
// full, and at most what the limit leaves.
func (b *imageBuffer) space() ([]byte, error) {
	if b.size >= b.limit {
		return nil, &http.MaxBytesError{Limit: b.limit}
	}
	if b.size == b.held { // every chunk is full
		size, pool := int64(chunkSize), &chunkPool
		if len(b.chunks) == 0 {
			size, pool = firstChunkSize, &firstChunkPool
		}
		if !b.budget.tryTake(size) {
			return nil, errBudget
		}
		b.chunks = append(b.chunks, pool.Get().(*[]byte))
		b.held += size
	}
	c := *b.chunks[len(b.chunks)-1]
	off := len(c) - int(b.held-b.size)
	return c[off:min(len(c), off+int(b.limit-b.size))], nil
}

func (b *imageBuffer) Write(p []byte) (int, error) {
	written := 0
	for len(p) > 0 {
		free, err := b.space()
		if err != nil {
			return written, err
		}
		n := copy(free, p)
		p = p[n:]
		b.size += int64(n)
		written += n
	}
	return written, nil
}

// ReadFrom reads r to its end straight into the chunks (io.Copy uses it), so that a request
// being uploaded holds no copy buffer beside them.
func (b *imageBuffer) ReadFrom(r io.Reader) (int64, error) {
	var total int64
	for {
		if b.size >= b.limit { // full: only the end of r may follow
			var probe [1]byte
			n, err := io.ReadFull(r, probe[:])
			if n == 0 && (err == io.EOF || err == io.ErrUnexpectedEOF) {
				return total, nil
			}
			if err != nil && n == 0 {
				return total, err
			}
			return total, &http.MaxBytesError{Limit: b.limit}
		}
		free, err := b.space()
		if err != nil {
			return total, err
		}
		n, err := r.Read(free)
		b.size += int64(n)
		total += int64(n)
		if err == io.EOF {
			return total, nil
		}
		if err != nil {
			return total, err
		}
	}
}

// WriteByte appends one byte.
func (b *imageBuffer) WriteByte(c byte) error {
	_, err := b.Write([]byte{c})
	return err
}

// Len is the number of bytes held.
func (b *imageBuffer) Len() int64 { return b.size }

// Reader returns a reader over the bytes held; the buffer must not change or be released while
// it is read.
func (b *imageBuffer) Reader() io.Reader {
	rs := make([]io.Reader, 0, len(b.chunks))
	left := b.size
	for _, c := range b.chunks {
		n := min(left, int64(len(*c)))
		rs = append(rs, bytes.NewReader((*c)[:n]))
		left -= n
	}
	return io.MultiReader(rs...)
}

// Bytes returns a copy of the bytes held (tests and small inputs).
func (b *imageBuffer) Bytes() []byte {
	out, _ := io.ReadAll(b.Reader())
	return out
}

// Release gives every chunk back to the pool and the budget.
func (b *imageBuffer) Release() {
	for _, c := range b.chunks {
		if len(*c) == firstChunkSize {
			firstChunkPool.Put(c)
		} else {
			chunkPool.Put(c)
		}
	}
	b.budget.give(b.held)
	b.chunks, b.size, b.held = nil, 0, 0
}

// drain reads and drops what is left of a body (within its MaxBytesReader limit and the
// connection's read deadline), so that a refused client reads its answer rather than a reset
// when the server closes the connection under a body it is still sending.
func drain(body io.Reader) {
	_, _ = io.Copy(io.Discard, body)
}
