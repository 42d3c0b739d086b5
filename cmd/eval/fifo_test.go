//go:build unix

package eval

import (
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// A manifest, score file or baseline that is a FIFO without a writer is read as empty at once
// (and refused), not waited on.
func TestFIFOFilesAreNotWaitedOn(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "fifo")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if _, err := loadManifest(fifo); err == nil {
			t.Error("an empty manifest was accepted")
		}
		if _, err := readBaseline(fifo, 0.55); err == nil {
			t.Error("an empty baseline was accepted")
		}
	}()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("stuck on a FIFO")
	}
}
