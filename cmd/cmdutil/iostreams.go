// Package cmdutil holds what every spoofsense command shares: the I/O streams a command writes to
// (so tests run commands without a terminal), the Factory that hands out lazily loaded resources,
// and the exit-code error type.
package cmdutil

import (
	"bytes"
	"io"
	"os"

	"github.com/mattn/go-isatty"
)

// IOStreams are the standard streams of one command run, with what is known about them.
// Commands never touch os.Stdin/os.Stdout/os.Stderr directly.
type IOStreams struct {
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer

	// StdoutTTY and StderrTTY say whether the streams are terminals; they pick defaults such as
	// the output format and whether a progress bar is drawn.
	StdoutTTY bool
	StderrTTY bool
	// Color says whether ANSI colour may be written to Out (a terminal and NO_COLOR unset).
	Color bool
}

// System returns the process's own streams.
func System() *IOStreams {
	outTTY := isTerminal(os.Stdout)
	_, noColor := os.LookupEnv("NO_COLOR")
	return &IOStreams{
		In:        os.Stdin,
		Out:       os.Stdout,
		ErrOut:    os.Stderr,
		StdoutTTY: outTTY,
		StderrTTY: isTerminal(os.Stderr),
		Color:     outTTY && !noColor && os.Getenv("TERM") != "dumb",
	}
}

// Test returns streams backed by buffers, none a terminal, for command tests.
func Test() (ios *IOStreams, in, out, errOut *bytes.Buffer) {
	in, out, errOut = &bytes.Buffer{}, &bytes.Buffer{}, &bytes.Buffer{}
	return &IOStreams{In: in, Out: out, ErrOut: errOut}, in, out, errOut
}

func isTerminal(f *os.File) bool {
	return isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd())
}
