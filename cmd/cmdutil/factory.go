package cmdutil

import (
	"errors"
	"fmt"
)

// Exit codes shared by the commands and documented in the README.
const (
	ExitOK        = 0 // every image live / every gate held
	ExitFail      = 1 // a spoof or no-face verdict, or a failed gate
	ExitUsage     = 2 // bad flags or arguments
	ExitFileError = 3 // at least one input could not be read or decoded
	ExitCannotRun = 4 // the run could not be done: models missing or broken, an output not writable
	ExitInterrupt = 130
)

// Factory hands commands their shared resources. Expensive ones are loaded lazily so that
// --help and flag errors never load a model.
type Factory struct {
	IOStreams *IOStreams
	// Version is the build's version string (git describe), set by -ldflags.
	Version string
	// ModelsDir is the --models flag value ("" means $SPOOFSENSE_MODELS, then the user cache).
	ModelsDir string
	// NewScorer, when set, replaces scorer.New in LoadScorer (tests set a fake). Nil means the
	// real scorer.
	NewScorer NewScorerFunc
}

// ExitError carries an exit code out of a command's run func without printing anything more.
// Err, when set, is printed as one line "spoofsense: <err>".
type ExitError struct {
	Code int
	Err  error
}

func (e *ExitError) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("exit status %d", e.Code)
	}
	return e.Err.Error()
}

func (e *ExitError) Unwrap() error { return e.Err }

// UsageError marks an error as the caller's misuse of flags or arguments (exit code 2).
func UsageError(format string, a ...any) error {
	return &ExitError{Code: ExitUsage, Err: fmt.Errorf(format, a...)}
}

// CannotRun marks err as a failure to do the run at all (exit code 4), so that a script can tell
// a broken installation or an unwritable output from a spoof verdict or a failed gate (exit 1).
func CannotRun(err error) error {
	return &ExitError{Code: ExitCannotRun, Err: err}
}

// ExitCode returns the exit code an error from a command maps to.
func ExitCode(err error) int {
	if err == nil {
		return ExitOK
	}
	var ee *ExitError
	if errors.As(err, &ee) {
		return ee.Code
	}
	return ExitFail
}
