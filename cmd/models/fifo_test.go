//go:build unix

package modelscmd

import (
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// A model file replaced by a named pipe (no writer) does not hang `models verify` or a scoring
// command: it is refused at once, naming the file.
func TestVerifyRefusesAFIFO(t *testing.T) {
	dir := modelDir(t, []string{"version-RFB-320.onnx", "MiniFASNetV1SE.onnx", "MiniFASNetV2SE-128.onnx"}, map[string][]byte{})
	fifo := filepath.Join(dir, "MiniFASNetV2.onnx")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	done := make(chan result, 1)
	go func() { done <- run(t, []string{"--models", dir, "models", "verify"}, nil, nil) }()
	select {
	case res := <-done:
		if res.code == 0 || res.err == nil || !strings.Contains(res.err.Error(), fifo+" is not a regular file") {
			t.Errorf("exit %d, error %v; want a failure naming %s as not a regular file", res.code, res.err, fifo)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("models verify is stuck on a FIFO")
	}
}
