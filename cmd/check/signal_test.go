//go:build unix

package check

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/spoofsense/spoofsense/cmd/cmdutil"
)

// runAsync runs checkRun with the given streams and returns the result on a channel.
func runAsync(t *testing.T, ctx context.Context, ios *cmdutil.IOStreams, args ...string) <-chan runResult {
	t.Helper()
	ch := make(chan runResult, 1)
	go func() {
		_, _, out, errOut := cmdutil.Test()
		ios.Out, ios.ErrOut = out, errOut
		f, loads := fakeFactory(ios, &fakeScorer{}, nil)
		ch <- execute(t, ctx, f, loads, out, errOut, args...)
	}()
	return ch
}

func within(t *testing.T, what string, ch <-chan runResult) runResult {
	t.Helper()
	select {
	case r := <-ch:
		return r
	case <-time.After(20 * time.Second):
		t.Fatalf("%s: the run did not end", what)
		return runResult{}
	}
}

// A named pipe given as a PATH cannot hang the run. Without a writer it is opened
// non-blocking and read as empty (an error row naming it, exit 3); with a writer that sends
// nothing, an interrupt (the context SIGINT cancels) ends the blocked read with exit 130.
func TestFIFOInputs(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	t.Run("no writer", func(t *testing.T) {
		ios, _, _, _ := cmdutil.Test()
		r := within(t, "check fifo", runAsync(t, context.Background(), ios, "-o", "ndjson", fifo))
		if r.code != cmdutil.ExitFileError || !strings.Contains(r.out, `"file":"`+fifo+`"`) || !strings.Contains(r.out, `"status":"error"`) {
			t.Errorf("exit %d, out %q; want 3 and an error row for %s", r.code, r.out, fifo)
		}
	})
	t.Run("a writer that sends nothing", func(t *testing.T) {
		w, err := os.OpenFile(fifo, os.O_RDWR, 0) // RDWR does not wait for a reader
		if err != nil {
			t.Fatal(err)
		}
		defer w.Close()
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		ios, _, _, _ := cmdutil.Test()
		ch := runAsync(t, ctx, ios, "-o", "ndjson", fifo)
		select {
		case r := <-ch:
			t.Fatalf("the run ended before the interrupt: exit %d, %q", r.code, r.errOut)
		case <-time.After(100 * time.Millisecond): // let it block in the read; not an assertion
		}
		cancel()
		if r := within(t, "check fifo after the interrupt", ch); r.code != cmdutil.ExitInterrupt {
			t.Errorf("exit %d, stderr %q; want 130", r.code, r.errOut)
		}
	})
}

// startedReader signals when the first Read of it begins.
type startedReader struct {
	r       io.Reader
	started chan struct{}
}

func (s *startedReader) Read(p []byte) (int, error) {
	select {
	case s.started <- struct{}{}:
	default:
	}
	return s.r.Read(p)
}

// `sleep 15 | spoofsense check -`: stdin is a pipe on which nothing comes. An interrupt while
// the scorer is blocked reading it ends the run at once with exit 130.
func TestStdinReadEndsOnInterrupt(t *testing.T) {
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer pw.Close()
	defer pr.Close()
	in := &startedReader{r: pr, started: make(chan struct{}, 1)}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ios, _, _, _ := cmdutil.Test()
	ios.In = in
	ch := runAsync(t, ctx, ios, "-o", "ndjson", "-")
	select {
	case <-in.started:
	case <-time.After(20 * time.Second):
		t.Fatal("stdin was never read")
	}
	cancel()
	if r := within(t, "check - after the interrupt", ch); r.code != cmdutil.ExitInterrupt {
		t.Errorf("exit %d, stderr %q; want 130", r.code, r.errOut)
	}
}

// --files-from naming a FIFO without a writer reads as an empty list at once.
func TestFilesFromFIFO(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "list")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	ios, _, _, _ := cmdutil.Test()
	r := within(t, "check --files-from fifo", runAsync(t, context.Background(), ios, "--files-from", fifo))
	if r.code != cmdutil.ExitFileError || !strings.Contains(r.errOut, "no images found") {
		t.Errorf("exit %d, stderr %q; want 3, no images found", r.code, r.errOut)
	}
}
