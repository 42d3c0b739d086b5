//go:build unix

package cmd

import (
	"bufio"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/spoofsense/spoofsense/models/fixtures"
)

// Every stop signal is caught (none kills the process outright): the root context ends.
func TestStopSignalsEndTheContext(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGHUP, syscall.SIGTERM, syscall.SIGINT} {
		ctx, stop := signal.NotifyContext(t.Context(), stopSignals...)
		if err := syscall.Kill(os.Getpid(), sig); err != nil {
			t.Fatal(err)
		}
		select {
		case <-ctx.Done():
		case <-time.After(10 * time.Second):
			t.Errorf("%v did not end the context", sig)
		}
		stop()
	}
}

// SIGHUP drains serve as SIGTERM does: a request still uploading when the signal comes is
// answered 200, and the server exits 0 with "stopped" logged (it used to die at once, 129).
func TestServeDrainsOnSIGHUP(t *testing.T) {
	modelsDir := fixtures.Path(t, "models")
	img, err := os.ReadFile(fixtures.Path(t, "data", "dev", "live", "image_T1.jpg"))
	if err != nil {
		t.Skipf("sample image: %v", err)
	}
	bin := filepath.Join(t.TempDir(), "spoofsense")
	build := exec.Command("go", "build", "-o", bin, "github.com/spoofsense/spoofsense")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	srv := exec.Command(bin, "serve", "--addr", "127.0.0.1:0", "--models", modelsDir, "--max-inflight", "1")
	stderr, err := srv.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	defer srv.Process.Kill()
	lines := make(chan string, 100)
	var logs strings.Builder
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	waitLine := func(re *regexp.Regexp) []string {
		t.Helper()
		deadline := time.After(60 * time.Second)
		for {
			select {
			case l, ok := <-lines:
				if !ok {
					t.Fatalf("serve exited before logging %v:\n%s", re, logs.String())
				}
				logs.WriteString(l + "\n")
				if m := re.FindStringSubmatch(l); m != nil {
					return m
				}
			case <-deadline:
				t.Fatalf("no log line %v:\n%s", re, logs.String())
			}
		}
	}
	addr := waitLine(regexp.MustCompile(`msg=listening addr=(\S+)`))[1]
	waitLine(regexp.MustCompile(`msg=ready`))

	// A request in flight: headers and half of the body sent.
	body := `{"data":"` + base64.StdEncoding.EncodeToString(img) + `"}`
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /antispoofing HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", len(body), body[:len(body)/2])

	// Signal only once the server is reading that body (a connection still in the listen
	// backlog would be reset when the listener closes, SIGHUP or not).
	deadline := time.Now().Add(60 * time.Second)
	for !strings.Contains(scrape(t, addr), "\nspoofsense_uploads_in_progress 1\n") {
		if time.Now().After(deadline) {
			t.Fatalf("the upload never started:\n%s", scrape(t, addr))
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := srv.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitLine(regexp.MustCompile(`msg="shutting down"`))
	if _, err := io.WriteString(conn, body[len(body)/2:]); err != nil {
		t.Fatalf("finish the upload after SIGHUP: %v\n%s", err, logs.String())
	}
	_ = conn.SetReadDeadline(time.Now().Add(60 * time.Second))
	answer, _ := io.ReadAll(conn)
	if !strings.HasPrefix(string(answer), "HTTP/1.1 200 ") || !strings.Contains(string(answer), `"pred_idx":"real"`) {
		t.Errorf("the request in flight at SIGHUP was answered %q, want 200 and a score", answer)
	}
	waitLine(regexp.MustCompile(`msg=stopped`))
	err = srv.Wait()
	var ee *exec.ExitError
	if errors.As(err, &ee) || err != nil {
		t.Errorf("serve after SIGHUP: %v, want exit 0\n%s", err, logs.String())
	}
}

// scrape returns the server's /metrics text ("" when it does not answer).
func scrape(t *testing.T, addr string) string {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		return ""
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}
