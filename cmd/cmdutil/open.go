package cmdutil

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"sync"
	"syscall"
)

// OpenInput opens a user-given file for reading so that no open or read of it can outlive ctx.
// The open is non-blocking (O_NONBLOCK), so a named pipe without a writer does not hang it: its
// read then ends at once, empty. A file that is not regular (a FIFO, a device) is closed when
// ctx ends, which ends a read blocked on it. Sockets and directories are refused with an error
// naming the file.
func OpenInput(ctx context.Context, name string) (*os.File, error) {
	f, err := os.OpenFile(name, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	switch mode := fi.Mode(); {
	case mode.IsRegular():
		return f, nil
	case mode.IsDir():
		f.Close()
		return nil, &fs.PathError{Op: "open", Path: name, Err: syscall.EISDIR}
	case mode&(fs.ModeSocket|fs.ModeIrregular) != 0:
		f.Close()
		return nil, fmt.Errorf("open %s: not a regular file, a pipe or a device (%s)", name, mode.Type())
	}
	// A FIFO or a device: reads go through the runtime poller, and closing the file ends them.
	// The caller's Close and this one may both run: the second is a harmless error.
	context.AfterFunc(ctx, func() { f.Close() })
	return f, nil
}

// ContextReader returns a reader over r whose Read returns ctx.Err() once ctx is done, even
// while a Read of r is blocked (stdin from `sleep 15 |`, a terminal): that read is left to the
// process's exit. Reads of r happen on a goroutine of their own, one at a time and only when
// asked for, so nothing is read ahead of what the caller takes.
func ContextReader(ctx context.Context, r io.Reader) io.Reader {
	return &ctxReader{ctx: ctx, r: r}
}

type ctxReader struct {
	ctx context.Context
	r   io.Reader

	mu      sync.Mutex
	pending chan readResult // the read in progress, if a caller gave up waiting on it
	buf     []byte          // what that read returned beyond what was taken
	err     error           // the error it ended with, once buf is taken
}

type readResult struct {
	b   []byte
	err error
}

func (c *ctxReader) Read(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.buf) > 0 {
		n := copy(p, c.buf)
		c.buf = c.buf[n:]
		return n, nil
	}
	if c.err != nil {
		return 0, c.err
	}
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	if len(p) == 0 {
		return 0, nil
	}
	if c.pending == nil {
		ch := make(chan readResult, 1)
		buf := make([]byte, len(p))
		go func() {
			n, err := c.r.Read(buf)
			ch <- readResult{buf[:n], err}
		}()
		c.pending = ch
	}
	select {
	case res := <-c.pending:
		c.pending = nil
		n := copy(p, res.b)
		c.buf = res.b[n:]
		if len(c.buf) == 0 {
			return n, res.err
		}
		c.err = res.err
		return n, nil
	case <-c.ctx.Done():
		return 0, c.ctx.Err()
	}
}
