//go:build unix

package serve

import (
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// An --api-keys-file that is a FIFO without a writer is refused at once (no key), not waited on
// at start-up where no signal could end the wait.
func TestAPIKeysFileFIFO(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "keys")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := ReadAPIKeysFile(fifo)
		done <- err
	}()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "holds no key") {
			t.Errorf("error %v, want the file refused as holding no key", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("ReadAPIKeysFile is stuck on a FIFO")
	}
}
