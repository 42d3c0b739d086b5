package preprocess

import (
	"errors"
	"fmt"
)

// Sentinel errors a caller can test with errors.Is.
var (
	// ErrEmpty reports zero bytes of input.
	ErrEmpty = errors.New("empty input: zero bytes")
	// ErrTooLarge reports input longer than Limits.MaxBytes.
	ErrTooLarge = errors.New("file too large")
	// ErrTooManyPixels reports a header claiming more pixels than Limits.MaxPixels.
	ErrTooManyPixels = errors.New("image has too many pixels")
	// ErrUnsupportedFormat reports content that is not an image format this package decodes.
	ErrUnsupportedFormat = errors.New("unsupported image format")
)

// LimitError reports input refused by a Limits check before its pixels were decoded. Err is
// ErrTooLarge or ErrTooManyPixels, so errors.Is(err, ErrTooLarge) works on it.
type LimitError struct {
	Err   error // ErrTooLarge or ErrTooManyPixels
	Limit int64 // the limit in bytes or pixels
	// Got is the byte count read (at least Limit+1; reading stops there) or the pixel count the
	// header claims.
	Got int64
	// Width and Height are the header's dimensions (zero for ErrTooLarge).
	Width, Height int
}

func (e *LimitError) Error() string {
	if e.Err == ErrTooManyPixels {
		return fmt.Sprintf("%v: %d×%d = %d pixels, limit %d", e.Err, e.Width, e.Height, e.Got, e.Limit)
	}
	return fmt.Sprintf("%v: more than the limit of %d bytes", e.Err, e.Limit)
}

// Unwrap returns Err.
func (e *LimitError) Unwrap() error { return e.Err }

// FormatError reports content in a format this package does not decode, naming the format when it
// was recognised ("HEIC", "AVIF", "PDF", "text" …) and "unknown format" otherwise.
// errors.Is(err, ErrUnsupportedFormat) is true for it.
type FormatError struct {
	Format string
}

func (e *FormatError) Error() string {
	return fmt.Sprintf("%v: %s (supported: JPEG, PNG, GIF, BMP, TIFF, WebP)", ErrUnsupportedFormat, e.Format)
}

// Unwrap returns ErrUnsupportedFormat.
func (e *FormatError) Unwrap() error { return ErrUnsupportedFormat }
