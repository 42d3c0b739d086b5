package check

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/mattn/go-isatty"

	"github.com/spoofsense/spoofsense/cmd/cmdutil"
)

// openPTY opens a pseudo-terminal pair: the terminal (what a program writes to) and the
// controller (what a terminal emulator reads).
func openPTY(t *testing.T) (controller, terminal *os.File) {
	t.Helper()
	ptmx, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals here: %v", err)
	}
	unlock := 0
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, ptmx.Fd(), syscall.TIOCSPTLCK, uintptr(unsafe.Pointer(&unlock))); e != 0 {
		t.Fatalf("unlockpt: %v", e)
	}
	var n uint32
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, ptmx.Fd(), syscall.TIOCGPTN, uintptr(unsafe.Pointer(&n))); e != 0 {
		t.Fatalf("ptsname: %v", e)
	}
	tty, err := os.OpenFile("/dev/pts/"+strconv.Itoa(int(n)), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	return ptmx, tty
}

// lockedBuffer collects what the terminal shows.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

var frameRE = regexp.MustCompile(`^scoring (\d+)/(\d+)(\+?) \[[=> ]{20}\] +\d+% +[\d.]+ img/s  ETA `)

// The progress bar on a real terminal (a pty, as a terminal emulator shows it): it is drawn
// while the list of files is still being read, its total grows as files are found, it shows a
// rate and an ETA, and at the end it is erased, leaving only the summary line.
func TestProgressBarOnATerminal(t *testing.T) {
	const n = 40
	dir, _ := imageDir(t, n, seqName)
	controller, terminal := openPTY(t)
	defer controller.Close()
	defer terminal.Close()
	if !isatty.IsTerminal(terminal.Fd()) {
		t.Fatal("the pty is not a terminal")
	}
	screen := &lockedBuffer{}
	go func() { _, _ = io.Copy(screen, controller) }()

	list, listW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer list.Close()
	defer listW.Close()
	ios, _, out, _ := cmdutil.Test()
	ios.In, ios.ErrOut, ios.StderrTTY = list, terminal, true
	f, loads := fakeFactory(ios, &fakeScorer{maxDelay: 20 * time.Millisecond}, nil)
	done := make(chan runResult, 1)
	go func() {
		done <- execute(t, context.Background(), f, loads, out, &bytes.Buffer{}, "-o", "ndjson", "--workers", "2", "--files-from", "-")
	}()

	path := func(i int) string { return filepath.Join(dir, seqName(i)) + "\n" }
	fmt.Fprint(listW, path(0)+path(1))
	// Visible while the walk goes on: two files found, the list still open.
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(screen.String(), "scoring ") {
		if time.Now().After(deadline) {
			t.Fatalf("no bar on the terminal while the list is read; it shows %q", screen.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
	for i := 2; i < n; i++ {
		fmt.Fprint(listW, path(i))
		if i%8 == 0 {
			time.Sleep(250 * time.Millisecond) // let a redraw show the new total; not an assertion
		}
	}
	listW.Close()
	var r runResult
	select {
	case r = <-done:
	case <-time.After(60 * time.Second):
		t.Fatal("check did not finish")
	}
	if r.code != 0 || len(parseNDJSON(t, r.out)) != n {
		t.Fatalf("exit %d, %d rows; want 0 and %d", r.code, len(parseNDJSON(t, r.out)), n)
	}
	// The summary line is the last thing written; wait for the terminal to show it.
	deadline = time.Now().Add(10 * time.Second)
	for !strings.Contains(screen.String(), fmt.Sprintf("%d images:", n)) {
		if time.Now().After(deadline) {
			t.Fatalf("no summary line on the terminal: %q", screen.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
	text := screen.String()

	var totals []int
	growing := false
	for _, frame := range strings.Split(text, "\r") {
		m := frameRE.FindStringSubmatch(frame)
		if m == nil {
			continue
		}
		doneN, _ := strconv.Atoi(m[1])
		total, _ := strconv.Atoi(m[2])
		if doneN > total || total > n {
			t.Errorf("frame %q: done %d of %d", frame, doneN, total)
		}
		if len(totals) > 0 && total < totals[len(totals)-1] {
			t.Errorf("the total went down: %v then %d", totals, total)
		}
		totals = append(totals, total)
		growing = growing || m[3] == "+"
	}
	distinct := map[int]bool{}
	for _, v := range totals {
		distinct[v] = true
	}
	if len(totals) < 3 || len(distinct) < 2 || !growing {
		t.Errorf("frames with totals %v (still growing: %v), want several, growing as files are found:\n%q", totals, growing, text)
	}
	if !strings.Contains(text, "img/s") || !regexp.MustCompile(`ETA (\d+m)?\d+s|still finding files`).MatchString(text) {
		t.Errorf("no rate or ETA on the bar: %q", text)
	}
	// Erased at the end: after the last frame the line is cleared, and only the summary follows.
	last := strings.LastIndex(text, "scoring ")
	rest := text[last:]
	clearAt := strings.Index(rest, "\r\x1b[K")
	if clearAt < 0 {
		t.Fatalf("the last frame is never erased: %q", rest)
	}
	if after := strings.TrimSpace(rest[clearAt+len("\r\x1b[K"):]); !strings.HasPrefix(after, fmt.Sprintf("%d images:", n)) || strings.Contains(after, "scoring") {
		t.Errorf("after the bar is erased the terminal shows %q, want only the summary line", after)
	}
}
